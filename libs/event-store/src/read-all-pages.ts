import { UnreadableEventError } from './event-store.errors';
import type { EventStore, StoredEvent } from './event-store.port';

export interface ReadAllPagesOptions {
  readonly afterPosition?: number;
  readonly pageSize?: number;
  /**
   * Read past an event that cannot be read (UnreadableEventError), telling this of it (after the
   * events before it were yielded, so a reader in position order takes it in its place), instead of
   * stopping there: the events before it are read one at a time, and the reading goes on just
   * after it, so one altered row does not hide the rest of the log (an auditor's reading). Only
   * SQLite throws one (its rows are text), and its positions are whole numbers: "just after" is the
   * next one.
   */
  readonly onUnreadable?: (error: UnreadableEventError) => void;
  /** Every page read from the store's leader (ReadAllOptions.fromLeader). */
  readonly fromLeader?: boolean;
}

/**
 * The global log after `afterPosition`, page by page, in position order.
 *
 * Positions are not dense, and some stores (KurrentDB) can start a read only at an event's own
 * position, never at "last + 1": each page is read from the last event already seen, which is
 * then dropped. The first page starts at the beginning of the log, or at `afterPosition` itself.
 */
export async function* readAllPages(store: Pick<EventStore, 'readAll'>, options: ReadAllPagesOptions = {}): AsyncGenerator<StoredEvent[]> {
  const pageSize = options.pageSize ?? 1_000;
  /**
   * Everything up to it has been yielded. Without afterPosition, the very start of the log: a row
   * written at position 0 or below (only outside the service: SQLite numbers from 1) is read too,
   * so that an auditor's reading meets it instead of passing it by.
   */
  let seen = options.afterPosition ?? -Infinity;
  /** Where the next read starts: `seen` itself, or just past an unreadable event. */
  let from = seen;
  const leader = options.fromLeader === true ? { fromLeader: true } : {};
  for (;;) {
    let read: StoredEvent[];
    try {
      read = await store.readAll({ ...fromPositionOf(from), maxCount: pageSize + 1, ...leader });
    } catch (error) {
      if (!(error instanceof UnreadableEventError) || !options.onUnreadable) throw error;
      if (error.position <= seen) {
        // The event a page starts from, already seen (or the afterPosition given): not this reading's to note.
        from = seen + 1;
        continue;
      }
      const before = await readUpTo(store, seen, from, error.position, leader);
      // Told in its place in the log: after the events before it were taken.
      if (before.length > 0) yield before;
      options.onUnreadable(error);
      seen = error.position;
      from = error.position + 1;
      continue;
    }
    const page = read.filter((event) => event.position > seen);
    if (page.length === 0) return;
    yield page;
    seen = page[page.length - 1]!.position;
    from = seen;
  }
}

/** The events after `seen` and before `unreadable`, read one at a time from `from` (a page is parsed in order: those before the first unreadable one can be read). */
async function readUpTo(store: Pick<EventStore, 'readAll'>, seen: number, from: number, unreadable: number, leader: { fromLeader?: boolean }): Promise<StoredEvent[]> {
  const before: StoredEvent[] = [];
  for (let at = from; at < unreadable; ) {
    const [event] = await store.readAll({ ...fromPositionOf(at), maxCount: 1, ...leader }).catch((single: unknown) => {
      if (single instanceof UnreadableEventError && single.position === unreadable) return []; // reached it
      throw single;
    });
    if (!event || event.position >= unreadable) break;
    if (event.position > seen) before.push(event);
    at = event.position + 1;
  }
  return before;
}

/** A read from `from` (inclusive); from the start of the log when it is none (-Infinity). */
const fromPositionOf = (from: number): { fromPosition?: number } => (Number.isFinite(from) ? { fromPosition: from } : {});

/**
 * Whether at least `count` events stand after `afterPosition`, up to `upTo` (inclusive; default
 * the whole log). Positions are not event counts: SQLite numbers its events (with gaps where one
 * was deleted), KurrentDB's are byte offsets of records, hundreds of positions an event, so the
 * distance between two positions tells nothing of how many events lie between them. Only a
 * shorter distance than `count` answers without reading (every event takes a position of its own);
 * otherwise the events are counted, at most `count` of them, page by page.
 */
export async function holdsAtLeastEvents(store: Pick<EventStore, 'readAll'>, count: number, range: { readonly afterPosition?: number; readonly upTo?: number } = {}): Promise<boolean> {
  if (count <= 0) return true;
  const afterPosition = range.afterPosition ?? 0;
  const upTo = range.upTo ?? Infinity;
  if (upTo - afterPosition < count) return false;
  let counted = 0;
  // An event that cannot be read (an altered SQLite row) is still one of the log's: counted, not
  // thrown: the projector asks this before its first fold, and a throw stopped its start-up (the
  // whole API's) where the fold meets the event itself and says so in its status.
  const onUnreadable = (error: UnreadableEventError) => {
    if (error.position <= upTo) counted += 1;
  };
  for await (const page of readAllPages(store, { afterPosition, pageSize: Math.min(count, COUNTING_PAGE), onUnreadable })) {
    if (counted >= count) return true;
    for (const event of page) {
      if (event.position > upTo) return false;
      counted += 1;
      if (counted >= count) return true;
    }
  }
  return counted >= count;
}

/** Events held in memory at once while counting. */
const COUNTING_PAGE = 5_000;
