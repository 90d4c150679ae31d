import { StreamDeletedError, UnreadableEventError } from './event-store.errors';
import type { ReadStreamOptions, StoredEvent } from './event-store.port';
import { readStreamUpToUnreadable } from './read-stream-up-to-unreadable';

const STREAM = 'opportunity-1';

function event(revision: number): StoredEvent {
  return { id: `e${revision}`, stream: STREAM, revision, position: 100 + revision, type: 'T', data: {}, metadata: {}, recordedAt: '2026-01-01T00:00:00.000Z' };
}

/** A stream of `length` events whose event at index `broken` (if any) cannot be read, as a store reads it: in order, `maxCount` at most. */
function storeOf(length: number, broken: number | undefined, revisionOfBroken: number = broken ?? 0) {
  const reads: (number | undefined)[] = [];
  return {
    reads,
    readStream: async (_stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> => {
      reads.push(options?.maxCount);
      const count = Math.min(length, options?.maxCount ?? length);
      if (broken !== undefined && broken < count) throw new UnreadableEventError(STREAM, revisionOfBroken, 100 + broken, 'its data is not JSON');
      return Array.from({ length: count }, (_, i) => event(i));
    },
  };
}

describe('readStreamUpToUnreadable', () => {
  it('answers the whole stream in one read when every event reads', async () => {
    const store = storeOf(7, undefined);
    expect(await readStreamUpToUnreadable(store, STREAM)).toEqual({ events: Array.from({ length: 7 }, (_, i) => event(i)) });
    expect(store.reads).toEqual([undefined]);
  });

  it.each([
    [0, 1],
    [1, 5],
    [3, 4],
    [4, 5],
    [6, 7],
    [40, 1000],
  ])('answers the events before the unreadable one (index %i of %i) and that event', async (broken, length) => {
    const read = await readStreamUpToUnreadable(storeOf(length, broken), STREAM);
    expect(read.events.map((e) => e.revision)).toEqual(Array.from({ length: broken }, (_, i) => i));
    expect(read.unreadable).toBeInstanceOf(UnreadableEventError);
    expect(read.unreadable).toMatchObject({ revision: broken, position: 100 + broken });
  });

  it('finds the event whose revision cannot be read where it stands', async () => {
    const read = await readStreamUpToUnreadable(storeOf(9, 5, Number.NaN), STREAM);
    expect(read.events).toHaveLength(5);
    expect(read.unreadable).toMatchObject({ position: 105, revision: NaN });
  });

  describe('an event whose revision was edited below 0 (SQLite reads it first in revision order)', () => {
    /** Revisions 0 to length-1 stored at positions 100 on, except `renumbered`, edited to -1: read first forwards, last backwards. */
    function renumberedStore(length: number, renumbered: number, otherBroken?: number) {
      const rows = [renumbered, ...Array.from({ length }, (_, i) => i).filter((i) => i !== renumbered)];
      return {
        readStream: async (_stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> => {
          const ordered = options?.direction === 'backwards' ? [...rows].reverse() : rows;
          const read = ordered.slice(0, options?.maxCount ?? ordered.length);
          if (read.includes(renumbered)) throw new UnreadableEventError(STREAM, Number.NaN, 100 + renumbered, 'its revision is not a whole number (-1)');
          if (otherBroken !== undefined && read.includes(otherBroken)) throw new UnreadableEventError(STREAM, otherBroken, 100 + otherBroken, 'its data is not JSON');
          return read.map(event);
        },
      };
    }

    it.each([
      [16, 17],
      [5, 16],
      [0, 16],
    ])('answers the events stored before it, as a read of the log in position order finds them, not none (revision %i of a stream of %i)', async (renumbered, length) => {
      const read = await readStreamUpToUnreadable(renumberedStore(length, renumbered), STREAM);
      expect(read.events.map((e) => e.revision)).toEqual(Array.from({ length: renumbered }, (_, i) => i));
      expect(read.unreadable).toMatchObject({ position: 100 + renumbered, revision: NaN });
    });

    it('does not answer events with a revision missing among them when another event stops the read from the other end', async () => {
      const read = await readStreamUpToUnreadable(renumberedStore(17, 16, 10), STREAM);
      expect(read.events).toEqual([]);
      expect(read.unreadable).toMatchObject({ position: 116, revision: NaN });
    });
  });

  describe('an event whose revision was edited into text (SQLite reads it after every number in revision order)', () => {
    /** Revisions 0 to length-1 stored at positions 100 on, except `renumbered`, edited to 'x': read last forwards, first backwards. */
    function textRevisionStore(length: number, renumbered: number) {
      const rows = [...Array.from({ length }, (_, i) => i).filter((i) => i !== renumbered), renumbered];
      return {
        readStream: async (_stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]> => {
          const ordered = options?.direction === 'backwards' ? [...rows].reverse() : rows;
          const read = ordered.slice(0, options?.maxCount ?? ordered.length);
          if (read.includes(renumbered)) throw new UnreadableEventError(STREAM, Number.NaN, 100 + renumbered, 'its revision is not a whole number ("x")');
          return read.map(event);
        },
      };
    }

    it.each([
      [9, 13],
      [0, 5],
      [4, 5],
    ])('answers the events stored before it, not those after it that read before it (revision %i of a stream of %i)', async (renumbered, length) => {
      const read = await readStreamUpToUnreadable(textRevisionStore(length, renumbered), STREAM);
      expect(read.events.map((e) => e.revision)).toEqual(Array.from({ length: renumbered }, (_, i) => i));
      expect(read.unreadable).toMatchObject({ position: 100 + renumbered, revision: NaN });
    });
  });

  it('answers the whole stream when the event was put right between the reads', async () => {
    let first = true;
    const store = {
      readStream: async (_stream: string, options?: ReadStreamOptions) => {
        if (first) {
          first = false;
          throw new UnreadableEventError(STREAM, 2, 102, 'its data is not JSON');
        }
        return Array.from({ length: Math.min(5, options?.maxCount ?? 5) }, (_, i) => event(i));
      },
    };
    expect(await readStreamUpToUnreadable(store, STREAM)).toEqual({ events: Array.from({ length: 5 }, (_, i) => event(i)) });
  });

  it('passes on any other failure', async () => {
    const store = { readStream: async () => Promise.reject(new StreamDeletedError(STREAM)) };
    await expect(readStreamUpToUnreadable(store, STREAM)).rejects.toBeInstanceOf(StreamDeletedError);
  });
});
