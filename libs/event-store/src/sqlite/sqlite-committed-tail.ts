import type { StoredEvent } from '../event-store.port';
import { toStoredEvent, type EventRow } from './sqlite-event-row';

/** An event this process committed, as it was written: the row SQLite holds for it. */
export type CommittedEvent = Readonly<EventRow>;

/** What a subscription reads; `types` is the eventTypes hint as a set (SQL takes it as JSON). */
export interface TailFilter {
  readonly streamPrefix?: string;
  readonly types?: ReadonlySet<string>;
}

/** Past this many events the oldest half is dropped: a subscription that far behind reads SQLite. */
const MAX_EVENTS = 8_192;

/**
 * The end of the global log as this process's own commits wrote it, kept so that a live
 * subscription takes each committed event from memory instead of reading it back from SQLite
 * right after the commit. It holds one run of the log: every event with a position in
 * (after, upTo], in position order. A batch is added only when it starts where the run ends (its
 * transaction found the log's head at `upTo`, and held the write lock throughout, so nobody else
 * wrote in between); otherwise the run starts again at that batch. Anything it cannot vouch for
 * (a cursor outside the run) is left to SQLite.
 */
export class CommittedTail {
  private after = 0;
  /** -1: no run yet (or it was broken), so nothing is answered from memory. */
  private upTo = -1;
  private events: CommittedEvent[] = [];

  /** A committed batch: every event with a position in (headBefore, headAfter], in position order. */
  committed(headBefore: number, headAfter: number, events: readonly CommittedEvent[]): void {
    if (headBefore !== this.upTo) {
      this.events = [];
      this.after = headBefore;
    }
    for (const event of events) this.events.push(event);
    this.upTo = headAfter;
    if (this.events.length > MAX_EVENTS) this.trim(this.events[this.events.length - MAX_EVENTS / 2 - 1]!.position);
  }

  /** A batch whose fate is unknown (the writer died with it): the run can no longer be vouched for. */
  forget(): void {
    this.events = [];
    this.after = 0;
    this.upTo = -1;
  }

  /** Drops the events at or before `position` (every live reader is past them). */
  trim(position: number): void {
    if (this.upTo < 0 || position <= this.after) return;
    const bound = Math.min(position, this.upTo);
    this.events = this.events.slice(firstAfter(this.events, bound));
    this.after = bound;
  }

  /**
   * Up to `limit` events after `cursor` that pass the filter, and the head they were read up to
   * (the run's end), as SQLiteEventStore's page read answers; undefined when the run does not
   * cover the cursor.
   */
  read(cursor: number, filter: TailFilter, limit: number): { head: number; events: StoredEvent[] } | undefined {
    if (this.upTo < 0 || cursor < this.after || cursor > this.upTo) return undefined;
    const events: StoredEvent[] = [];
    const { streamPrefix, types } = filter;
    for (let index = firstAfter(this.events, cursor); index < this.events.length && events.length < limit; index++) {
      const event = this.events[index]!;
      if (types !== undefined && !types.has(event.type)) continue;
      if (streamPrefix !== undefined && !event.stream.startsWith(streamPrefix)) continue;
      events.push(toStoredEvent(event)); // objects of its own, exactly as a read from SQLite gives them
    }
    return { head: this.upTo, events };
  }

  /** The position the run ends at: the end of this process's last commit (-1: no run). */
  get end(): number {
    return this.upTo;
  }

  /** How many events are held (for tests and diagnostics). */
  get size(): number {
    return this.events.length;
  }
}

/** The index of the first event past `position` (binary search: positions increase). */
function firstAfter(events: readonly CommittedEvent[], position: number): number {
  let low = 0;
  let high = events.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (events[middle]!.position <= position) low = middle + 1;
    else high = middle;
  }
  return low;
}
