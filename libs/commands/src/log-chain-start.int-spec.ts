import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chainNewEvents, GENESIS_HASH } from '@stagecraft/audit';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { LogChainStart } from './log-chain-start';

describe('LogChainStart: where the log was first chained', () => {
  let store: EventStore;
  let reads = 0;
  beforeEach(() => {
    store = getSQLiteEventStore({ path: ':memory:' });
    reads = 0;
  });
  afterEach(() => store.close());

  // Reads of the log's pages (a check of the one event something was learnt at reads one event: not counted).
  const counted = (): Pick<EventStore, 'readAll'> => ({
    readAll: (options) => {
      if (options?.maxCount !== 1) reads += 1;
      return store.readAll(options);
    },
  });
  const legacy = (stream: string) => store.appendToStream(stream, [{ id: `${stream}-0`, type: 'Noted', data: {}, metadata: { actor: 'legacy' } }], { expectedRevision: 'any' });
  const chained = (stream: string) => {
    const { events } = chainNewEvents(stream, 0, GENESIS_HASH, [{ type: 'Noted', data: {}, metadata: { actor: 'now' } }]);
    return store.appendToStream(stream, events.map((event) => ({ ...event, id: `${stream}-0` })), { expectedRevision: 'no_stream' });
  };

  it('answers the first hashed position only for positions after it, and reads the log once', async () => {
    await legacy('a'); // 1
    await legacy('b'); // 2
    await chained('c'); // 3
    await legacy('d'); // 4: only a writer older than tamper evidence, or a stripped hash
    const start = new LogChainStart(counted());
    expect(await start.chainedBefore(2)).toBeUndefined();
    expect(await start.chainedBefore(3)).toBeUndefined();
    expect(await start.chainedBefore(4)).toBe(3);
    const afterFound = reads;
    expect(await start.chainedBefore(1)).toBeUndefined();
    expect(await start.chainedBefore(1_000)).toBe(3);
    expect(reads).toBe(afterFound);
  });

  it('says nothing on a log never chained, and learns of the first hashed event appended later', async () => {
    await legacy('a');
    await legacy('b');
    const start = new LogChainStart(store);
    expect(await start.chainedBefore(2)).toBeUndefined();
    expect(await start.chainedBefore(10)).toBeUndefined();
    await chained('c'); // 3
    await legacy('d'); // 4
    expect(await start.chainedBefore(4)).toBe(3);
  });

  it('asked by several commands at once, reads the log once, not once for each', async () => {
    await store.appendToStream('old', Array.from({ length: 1_200 }, (_, index) => ({ id: `old-${index}`, type: 'Noted', data: {}, metadata: { actor: 'legacy' } })), { expectedRevision: 'any' });
    await chained('c'); // 1201
    await legacy('d'); // 1202
    await new LogChainStart(counted()).chainedBefore(1_202);
    const once = reads;
    reads = 0;
    const start = new LogChainStart(counted());
    expect(await Promise.all([start.chainedBefore(1_202), start.chainedBefore(1_202), start.chainedBefore(1_202)])).toEqual([1_201, 1_201, 1_201]);
    expect(reads).toBe(once);
  });

  describe('a store that comes back as another log (started again empty, or from an older backup)', () => {
    let other: EventStore;
    let current: EventStore;
    beforeEach(() => {
      other = getSQLiteEventStore({ path: ':memory:' });
      current = store;
    });
    afterEach(() => other.close());
    const switching: Pick<EventStore, 'readAll'> = { readAll: (options) => current.readAll(options) };

    it('is not judged by the first hashed position of the log it replaced', async () => {
      await chained('c'); // 1 of the first log
      const start = new LogChainStart(switching);
      expect(await start.chainedBefore(2)).toBe(1);
      // The other log: written before tamper evidence, its events stand at the same positions.
      for (const stream of ['a', 'b', 'c']) await other.appendToStream(stream, [{ id: `other-${stream}`, type: 'Noted', data: {}, metadata: { actor: 'legacy' } }], { expectedRevision: 'any' });
      current = other;
      expect(await start.chainedBefore(3)).toBeUndefined();
    });

    it('is not judged by how far the log it replaced was read without a hash', async () => {
      await legacy('a');
      await legacy('b');
      await legacy('d');
      const start = new LogChainStart(switching);
      expect(await start.chainedBefore(3)).toBeUndefined();
      const { events } = chainNewEvents('c', 0, GENESIS_HASH, [{ type: 'Noted', data: {}, metadata: { actor: 'now' } }]);
      await other.appendToStream('c', events.map((event) => ({ ...event, id: 'other-c' })), { expectedRevision: 'no_stream' }); // 1
      await other.appendToStream('s', [{ id: 'other-s', type: 'Noted', data: {}, metadata: { actor: 'stripped' } }], { expectedRevision: 'any' }); // 2
      current = other;
      expect(await start.chainedBefore(2)).toBe(1);
    });
  });

  it('an event learnt at that no longer reads back (its row edited) is learnt again, not an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-chain-start-'));
    const file = getSQLiteEventStore({ path: join(dir, 'events.db') });
    try {
      const { events } = chainNewEvents('c', 0, GENESIS_HASH, [{ type: 'Noted', data: {}, metadata: { actor: 'now' } }]);
      await file.appendToStream('a', [{ id: 'a-0', type: 'Noted', data: {}, metadata: { actor: 'legacy' } }], { expectedRevision: 'any' }); // 1
      await file.appendToStream('c', events.map((event) => ({ ...event, id: 'c-0' })), { expectedRevision: 'no_stream' }); // 2
      await file.appendToStream('d', [{ id: 'd-0', type: 'Noted', data: {}, metadata: { actor: 'legacy' } }], { expectedRevision: 'any' }); // 3
      const start = new LogChainStart(file);
      expect(await start.chainedBefore(3)).toBe(2);
      const db = new Database(join(dir, 'events.db'));
      db.prepare("UPDATE events SET metadata = 'not json' WHERE position = 2").run();
      db.close();
      // Passed by, as a reading from the start passes it: the log holds no hashed event it can read.
      expect(await start.chainedBefore(3)).toBeUndefined();
    } finally {
      await file.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
