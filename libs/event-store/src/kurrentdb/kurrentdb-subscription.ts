import {
  excludeSystemEvents,
  START,
  streamNameFilter,
  UnavailableError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type KurrentDBClient,
  type Position,
} from '@kurrent/kurrentdb-client';
import type { SubscribeToAllOptions, SubscriptionMessage } from '../event-store.port';
import { isTransient } from './kurrentdb-errors';
import { toKurrentPosition, toStoredEvent } from './kurrentdb-positions';

export interface KurrentDBSubscriptionSettings {
  /** First wait before subscribing again after the connection dropped; doubles up to 2 s. */
  readonly reconnectDelayMs: number;
  /** Consecutive failed attempts, without a message in between, before the subscription fails. */
  readonly maxReconnectAttempts: number;
  /** Told when the subscription dropped and is being resumed (for the logs). */
  readonly onReconnect?: (attempt: number, error: Error) => void;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
/**
 * Messages held for a consumer slower than the server (a projector writing to PostgreSQL, a rebuild
 * replaying a large log). Past this many the client's stream is paused, so gRPC flow control makes
 * the server wait instead of the whole log landing in memory; reading resumes once next() has
 * taken half of them.
 */
const HELD_AT_MOST = 512;
const CAUGHT_UP = Symbol('caughtUp');
type Buffered = SubscriptionMessage | typeof CAUGHT_UP;

/**
 * The port's catch-up subscription on the server's own: a filtered subscription to $all
 * (stream-name prefix when one is asked for, else every non-system event type) that replays from
 * the position, says caughtUp once, then delivers live events. How servers differ is in
 * test/kurrentdb-double/SERVER-BEHAVIOUR.md §5.
 *
 * caughtUp means "everything that was in the log when the subscription started has been
 * delivered": the last event this subscription would deliver is read from the leader as it starts
 * (the target), and caughtUp follows the event at it, or comes before the first event past it, or
 * with a checkpoint past it, or with the server's own caughtUp, whichever is first. The server's
 * caughtUp alone is not enough: 22.10 never sends it (so a subscription whose last events are
 * filtered out would wait forever on a quiet log), 24.2+ repeat it after falling behind, and under
 * a steady write load it comes late (its replay chases the writers).
 *
 * Dropped connections (a node restart, a leader change, a server dropping a slow consumer) are
 * resumed from the last event delivered, or the server's last checkpoint if it is further: a
 * filtered subscription's checkpoints say how far the server has searched, so a resume does not
 * search again what matched nothing. The checkpoint is passed back exactly as the server gave it
 * (a page start may be (C, 0)); every server version starts after an event's own position, and a
 * (C, 0) checkpoint marks a record already searched, so either start rule is safe.
 */
export class KurrentDBSubscription implements AsyncIterator<SubscriptionMessage, undefined> {
  private readonly buffer: Buffered[] = [];
  private finished = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private pulling: Promise<unknown> = Promise.resolve();
  private current: AllStreamSubscription | undefined;
  /** Where a resubscription starts (exclusive); undefined: from the start of the log. */
  private resumeFrom: Position | undefined;
  private lastPosition: number;
  private caughtUpSent = false;
  /** The last event this subscription would deliver, as it started (see the class comment). */
  private head: number | undefined;
  private headAttempts = 0;
  /** Position of the last event next() has handed out. */
  private delivered = 0;
  private attempts = 0;
  /**
   * Pending retries (resubscribe, read the head again). They hold the process as the server call
   * they replace did: a process whose only work is following the log (the projector) must not
   * exit, with status 0, just because the server is away. finish() clears them.
   */
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly signal: AbortSignal | undefined;
  /**
   * Filtered to our event types or streams: an event it delivers is one of ours (toStoredEvent).
   * The server filters by stream prefix only; the types are the readers' to skip, so an event of
   * another type (another application's, in a log it shares) is not judged ours.
   */
  private isOurs(resolved: AllStreamResolvedEvent): boolean {
    const { eventTypes, streamPrefix } = this.options;
    if ((eventTypes?.length ?? 0) === 0 && streamPrefix === undefined) return false;
    const type = resolved.event?.type;
    return (eventTypes === undefined || eventTypes.length === 0 || (type !== undefined && eventTypes.includes(type))) && (streamPrefix === undefined || (resolved.event?.streamId ?? '').startsWith(streamPrefix));
  }
  private readonly onAbort = (): void => this.finish();

  constructor(
    private readonly client: KurrentDBClient,
    private readonly options: SubscribeToAllOptions,
    private readonly settings: KurrentDBSubscriptionSettings,
    private readonly detach: (subscription: KurrentDBSubscription) => void,
    private readonly readHead: () => Promise<number>,
    /** The port's error for a failure that ends the subscription. */
    private readonly toPortError: (error: unknown) => unknown,
  ) {
    // Position 0 is "before the first event": the server's START, since 0 names no record.
    this.resumeFrom = options.fromPosition ? toKurrentPosition(options.fromPosition) : undefined;
    this.lastPosition = options.fromPosition ?? 0;
    this.signal = options.signal;
    if (this.signal?.aborted) {
      this.finish();
      return;
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.subscribe();
    this.learnHead();
  }

  // Without the target, only the server's caughtUp could say it, and 22.10 never does: keep asking,
  // as a resubscription would, and give up with the error as a resubscription would.
  private learnHead(): void {
    this.readHead().then(
      (head) => {
        if (this.finished) return;
        this.head = head;
        // Everything up to it is already buffered (or there was nothing to replay).
        if (head <= this.lastPosition) this.sendCaughtUp();
      },
      (error: unknown) => {
        if (this.finished || this.caughtUpSent) return;
        this.headAttempts += 1;
        if (!isTransient(error) || this.headAttempts > this.settings.maxReconnectAttempts) return this.fail(error);
        this.retryAfter(Math.min(2000, this.settings.reconnectDelayMs * 2 ** (this.headAttempts - 1)), () => this.learnHead());
      },
    );
  }

  private fail(error: unknown): void {
    if (this.finished) return;
    this.stopCurrent();
    this.failure = this.toPortError(error) as Error;
    this.notify();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    // Serialised: overlapping next() calls are answered in order, each with its own message.
    const result = this.pulling.then(() => this.pull());
    this.pulling = result.catch(() => undefined);
    return result;
  }

  private async pull(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    for (;;) {
      if (this.finished) return DONE;
      const message = this.buffer.shift();
      if (this.buffer.length <= HELD_AT_MOST / 2 && this.current?.isPaused()) this.current.resume();
      if (message === CAUGHT_UP) return { done: false, value: { type: 'caughtUp', position: this.lastDeliveredBefore() } };
      if (message) {
        if (message.type === 'event') this.delivered = message.event.position;
        return { done: false, value: message };
      }
      if (this.failure) {
        const failure = this.failure;
        this.finish();
        throw failure;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<SubscriptionMessage, undefined>> {
    this.finish();
    return DONE;
  }

  /** Ends the subscription: the server call is cancelled, pending and later next() complete. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.buffer.length = 0;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stopCurrent();
    this.detach(this);
    this.notify();
  }

  get active(): boolean {
    return !this.finished;
  }

  // caughtUp is sent right after the last replayed event; its position is the furthest point
  // the subscription has delivered (or started from), never one of the server's "next record" ones.
  private lastDeliveredBefore(): number {
    return Math.max(this.delivered, this.options.fromPosition ?? 0);
  }

  private subscribe(): void {
    let converted = 0;
    let received = 0;
    let caughtUpAfter: number | undefined;
    // A checkpoint is only taken while every event converted before it has reached this side:
    // a drop could otherwise discard events still buffered inside the client behind it.
    const checkpointReached = (_: unknown, position: Position): Promise<void> => {
      if (this.current === subscription && received === converted) this.checkpoint(position);
      return Promise.resolve();
    };
    const filter = this.options.streamPrefix ? streamNameFilter({ prefixes: [this.options.streamPrefix], checkpointReached }) : excludeSystemEvents({ checkpointReached });
    const subscription = this.client.subscribeToAll({ fromPosition: this.resumeFrom ?? START, filter });
    this.current = subscription;
    // The client reports caughtUp as an event beside the stream of events, which may still hold
    // events converted before it; count conversions so caughtUp lands after exactly those.
    const withCount = subscription as unknown as { convertGrpcEvent: (event: unknown) => unknown };
    const convert = withCount.convertGrpcEvent;
    withCount.convertGrpcEvent = (event: unknown) => {
      converted += 1;
      return convert(event);
    };
    const maybeCaughtUp = () => {
      if (caughtUpAfter !== undefined && received >= caughtUpAfter) this.sendCaughtUp();
    };
    subscription.on('caughtUp', () => {
      if (this.current !== subscription) return;
      caughtUpAfter = converted;
      maybeCaughtUp();
      this.notify();
    });
    subscription.on('data', (resolved: AllStreamResolvedEvent) => {
      if (this.current !== subscription) return;
      received += 1;
      this.attempts = 0;
      let event;
      try {
        event = toStoredEvent(resolved, this.isOurs(resolved));
      } catch (error) {
        return this.fail(error); // an event of ours another tool wrote unreadable (UnreadableEventError)
      }
      // A resumed subscription starts after the last delivered event; never deliver one twice.
      if (event && event.position > this.lastPosition) {
        if (this.head !== undefined && event.position > this.head) this.sendCaughtUp(); // a live event
        this.lastPosition = event.position;
        this.resumeFrom = resolved.event!.position!;
        this.buffer.push({ type: 'event', event });
        if (this.head !== undefined && event.position === this.head) this.sendCaughtUp();
      }
      maybeCaughtUp();
      if (this.buffer.length >= HELD_AT_MOST) subscription.pause();
      this.notify();
    });
    subscription.on('error', (error: Error) => this.dropped(subscription, error));
    subscription.on('end', () => this.dropped(subscription, new UnavailableError(undefined)));
  }

  private checkpoint(position: Position): void {
    this.attempts = 0;
    if (this.resumeFrom === undefined || position.commit > this.resumeFrom.commit) this.resumeFrom = position;
    if (this.head !== undefined && position.commit >= BigInt(this.head)) this.sendCaughtUp();
    this.notify();
  }

  private sendCaughtUp(): void {
    if (this.caughtUpSent || this.finished) return;
    this.caughtUpSent = true;
    this.buffer.push(CAUGHT_UP);
    this.notify();
  }

  private dropped(subscription: AllStreamSubscription, error: Error): void {
    if (this.finished || this.current !== subscription) return;
    this.current = undefined;
    void subscription.unsubscribe().catch(() => undefined);
    this.attempts += 1;
    // Transient: a restart, a leader change, a server that dropped a consumer too slow for it.
    if (!isTransient(error) || this.attempts > this.settings.maxReconnectAttempts) return this.fail(error);
    this.settings.onReconnect?.(this.attempts, error);
    const delay = Math.min(2000, this.settings.reconnectDelayMs * 2 ** (this.attempts - 1));
    this.retryAfter(delay, () => this.subscribe());
  }

  private retryAfter(delayMs: number, retry: () => void): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (!this.finished) retry();
    }, delayMs);
    this.retries.add(timer);
  }

  private stopCurrent(): void {
    const current = this.current;
    this.current = undefined;
    if (current) void current.unsubscribe().catch(() => undefined);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
