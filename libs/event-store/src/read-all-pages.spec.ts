import { UnreadableEventError } from './event-store.errors';
import type { EventStore, ReadAllOptions, StoredEvent } from './event-store.port';
import { holdsAtLeastEvents, readAllPages } from './read-all-pages';
import { assertProperty } from '@stagecraft/testing/fast-check';
import fc from 'fast-check';

/**
 * A log at the given positions (ascending), read as SQLite reads it: a page is parsed in order, so
 * a read throws at the first unreadable event it meets, whatever came before it in the page.
 */
function logOf(positions: readonly number[], unreadable: ReadonlySet<number>): Pick<EventStore, 'readAll'> {
  const event = (position: number): StoredEvent => ({ id: `e${position}`, stream: `s-${position % 3}`, revision: position, position, type: 'T', data: {}, metadata: {}, recordedAt: '' });
  return {
    readAll: async (options: ReadAllOptions = {}) => {
      const from = options.fromPosition ?? 0;
      const page: StoredEvent[] = [];
      for (const position of positions) {
        if (position < from) continue;
        if (page.length >= (options.maxCount ?? Infinity)) break;
        if (unreadable.has(position)) throw new UnreadableEventError(`s-${position % 3}`, position, position, 'its data is not JSON');
        page.push(event(position));
      }
      return page;
    },
  };
}

describe('readAllPages', () => {
  it('stops at an unreadable event unless told to read around it', async () => {
    const store = logOf([1, 2, 3, 4], new Set([3])) as EventStore;
    await expect(async () => {
      for await (const page of readAllPages(store, { pageSize: 10 })) void page;
    }).rejects.toBeInstanceOf(UnreadableEventError);
  });

  it('reads around unreadable events: every readable one once, in order, each unreadable one noted once, in its place in the log', async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 40 }).map((positions) => positions.sort((a, b) => a - b)),
        fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 20 }),
        async (positions, picked, pageSize, afterPosition) => {
          const unreadable = new Set(picked.filter((position) => positions.includes(position)));
          const noted: number[] = [];
          const read: number[] = [];
          // Both, as a reader in position order (the log audit) takes them in.
          const taken: number[] = [];
          const onUnreadable = (error: UnreadableEventError) => {
            noted.push(error.position);
            taken.push(error.position);
          };
          for await (const page of readAllPages(logOf(positions, unreadable) as EventStore, { pageSize, afterPosition, onUnreadable })) {
            expect(page.length).toBeGreaterThan(0);
            read.push(...page.map((event) => event.position));
            taken.push(...page.map((event) => event.position));
          }
          const after = positions.filter((position) => position > afterPosition);
          expect(read).toEqual(after.filter((position) => !unreadable.has(position)));
          expect(noted).toEqual(after.filter((position) => unreadable.has(position)));
          expect(taken).toEqual(after);
        },
      ),
    );
  });
});

describe('holdsAtLeastEvents', () => {
  it('counts the events in the range, whatever gaps their positions leave', async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { maxLength: 40 }).map((positions) => positions.sort((a, b) => a - b)),
        fc.integer({ min: 0, max: 45 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: undefined }),
        async (positions, count, afterPosition, upTo) => {
          const inRange = positions.filter((position) => position > afterPosition && (upTo === undefined || position <= upTo));
          expect(await holdsAtLeastEvents(logOf(positions, new Set()), count, { afterPosition, upTo })).toBe(inRange.length >= count);
        },
      ),
    );
  });

  // An altered SQLite row is still an event of the log: the projector asks this before its first
  // fold, and a throw here stopped the API's start-up (the fold meets the event itself and says so).
  it('counts an event it cannot read as one, instead of throwing', async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 40 }).map((positions) => positions.sort((a, b) => a - b)),
        fc.func(fc.boolean()),
        fc.integer({ min: 1, max: 45 }),
        fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: undefined }),
        async (positions, isUnreadable, count, upTo) => {
          const unreadable = new Set(positions.filter((position) => isUnreadable(position)));
          const inRange = positions.filter((position) => upTo === undefined || position <= upTo);
          expect(await holdsAtLeastEvents(logOf(positions, unreadable), count, { upTo })).toBe(inRange.length >= count);
        },
      ),
    );
  });
});
