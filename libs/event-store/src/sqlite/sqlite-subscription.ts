import type { StoredEvent, SubscribeToAllOptions, SubscriptionMessage } from '../event-store.port';

/** Events per replay query: bounds memory on a long log without one query per event. */
export const SUBSCRIPTION_PAGE_SIZE = 1000;

/** Which events a subscription delivers: the types as a JSON array, as the SQL takes them, and as a set. */
export interface SubscriptionFilter {
  readonly streamPrefix?: string;
  readonly eventTypes?: string;
  readonly types?: ReadonlySet<string>;
}

/**
 * Why a subscription reads a page: `replay`, it has not caught up yet; `live`, it has, and was
 * woken by a commit of this process, so the events this process committed may be taken from
 * memory (the log up to the end of its last commit) rather than read back from SQLite; `poll`, it
 * has, and the poll interval ran out, so it reads SQLite, for other processes' writes.
 */
export type PageRead = 'replay' | 'live' | 'poll';

/** What a subscription needs from the store; synchronous because better-sqlite3 is. */
export interface SubscriptionSource {
  readonly pollIntervalMs: number;
  /**
   * The head position, then up to `limit` events after `after` and at or before that head.
   * Bounding the page by the head read first is what makes "caught up" exact. `read` says why
   * the subscription reads (PageRead); a caught-up one may be given a head short of the log's
   * while this process's own commit is in flight (its reply wakes the subscription).
   */
  readPage(after: number, filter: SubscriptionFilter, limit: number, read: PageRead): { head: number; events: StoredEvent[] };
  detach(subscription: SQLiteSubscription): void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * A catch-up subscription over the global log. A hand-written iterator rather than an async
 * generator so that return(), abort and close can wake a pending next() at once instead of
 * waiting for the next poll.
 */
export class SQLiteSubscription implements AsyncIterator<SubscriptionMessage, undefined> {
  /** Everything at or before this position has been delivered (or filtered out). */
  private cursor: number;
  private caughtUp = false;
  /** The poll interval ran out: the next read goes to SQLite, which sees other processes' writes. */
  private pollDue = true;
  private finished = false;
  private readonly buffer: SubscriptionMessage[] = [];
  private wake: (() => void) | undefined;
  private pulling: Promise<unknown> = Promise.resolve();
  private readonly filter: SubscriptionFilter;
  /** Position of the last message queued (event or checkpoint): a checkpoint is due past it. */
  private reported: number;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.finish();

  constructor(
    private readonly source: SubscriptionSource,
    options: SubscribeToAllOptions,
  ) {
    this.cursor = options.fromPosition ?? 0;
    this.reported = this.cursor;
    this.filter = {
      ...(options.streamPrefix ? { streamPrefix: options.streamPrefix } : {}),
      ...(options.eventTypes ? { eventTypes: JSON.stringify(options.eventTypes), types: new Set(options.eventTypes) } : {}),
    };
    this.signal = options.signal;
    if (this.signal?.aborted) this.finish();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    // Serialised, so two overlapping next() calls never read the same page twice.
    const result = this.pulling.then(() => this.pull());
    this.pulling = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    this.finish();
    return DONE;
  }

  /** The store committed a batch: look again now rather than at the next poll. */
  notify(): void {
    this.wake?.();
  }

  /** Ends the subscription: pending and later next() calls complete; no timer or listener is left. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.buffer.length = 0;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.source.detach(this);
    this.wake?.();
  }

  get active(): boolean {
    return !this.finished;
  }

  /** Where a caught-up subscription stands (everything up to it delivered); undefined while it replays. */
  get liveCursor(): number | undefined {
    return this.caughtUp && !this.finished ? this.cursor : undefined;
  }

  private async pull(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    for (;;) {
      if (this.finished) return DONE;
      const message = this.buffer.shift();
      if (message) return { done: false, value: message };
      try {
        this.fill();
      } catch (error) {
        this.finish();
        throw error;
      }
      // fill() and the wait start in the same tick, so no commit notification can fall between.
      if (this.buffer.length === 0) await this.waitForChange();
    }
  }

  private fill(): void {
    const read: PageRead = !this.caughtUp ? 'replay' : this.pollDue ? 'poll' : 'live';
    this.pollDue = false;
    const { head, events } = this.source.readPage(this.cursor, this.filter, SUBSCRIPTION_PAGE_SIZE, read);
    for (const event of events) this.buffer.push({ type: 'event', event });
    if (events.length === SUBSCRIPTION_PAGE_SIZE) {
      this.cursor = events[events.length - 1].position;
      this.reported = this.cursor;
      return;
    }
    // Everything up to the head has been read; a fromPosition beyond the head stays exclusive.
    this.cursor = Math.max(this.cursor, head);
    if (!this.caughtUp) {
      this.caughtUp = true;
      this.buffer.push({ type: 'caughtUp', position: this.cursor });
    } else if (this.cursor > (events.length > 0 ? events[events.length - 1].position : this.reported)) {
      // Live events were all or partly filtered out: say how far the log has been looked at.
      this.buffer.push({ type: 'checkpoint', position: this.cursor });
    }
    this.reported = this.cursor;
  }

  /** Resolves on a commit in this process, on the poll interval (other processes), or on finish. */
  private waitForChange(): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        this.pollDue = true;
        wake();
      }, this.source.pollIntervalMs);
      this.wake = wake;
    });
  }
}
