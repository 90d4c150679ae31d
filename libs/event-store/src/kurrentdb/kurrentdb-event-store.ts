import {
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  START,
  DeadlineExceededError,
  NotLeaderError,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  type AppendStreamState,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { DuplicateEventIdError, EventStoreUnavailableError, WrongExpectedRevisionError } from '../event-store.errors';
import type {
  AppendResult,
  EventStore,
  EventStoreHealth,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  StreamRevision,
  SubscribeToAllOptions,
  SubscriptionMessage,
} from '../event-store.port';
import { normaliseKurrentDBConnectionString, redactCredentials } from './kurrentdb-connection-string';
import { toKurrentPosition, toStoredEvent, withServerMetadata } from './kurrentdb-positions';
import { KurrentDBSubscription } from './kurrentdb-subscription';

export interface KurrentDBEventStoreOptions {
  /** kurrentdb://host:2113?tls=false, kurrentdb+discover://…, or the older esdb:// spellings. */
  readonly connectionString: string;
  /** First wait before a dropped subscription subscribes again (ms, default 250; doubles up to 2 s). */
  readonly reconnectDelayMs?: number;
  /** Failed resubscriptions in a row before a subscription gives up with the error (default 10). */
  readonly maxReconnectAttempts?: number;
  /** Told when a subscription dropped and is being resumed. */
  readonly onReconnect?: (attempt: number, error: Error) => void;
}

/**
 * The largest event the adapter sends, in bytes of data, metadata and type: a KurrentDB log record
 * holds at most 16 MiB less 10,000 bytes (TFConsts.EffectiveMaxLogRecordSize), in every version.
 */
export const KURRENTDB_MAX_EVENT_BYTES = 16 * 1024 * 1024 - 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEALTH_TIMEOUT_MS = 2000;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * The EventStore port on KurrentDB / EventStoreDB 22.10+ through the official client.
 *
 * What the server does and the adapter adds:
 * - Expected revisions are the client's streamState; -1 (an empty stream's next expectation)
 *   is 'no_stream'. The server's wrong-expected-version error becomes WrongExpectedRevisionError.
 * - The server deduplicates a retried append by event id (same ids after the expected revision,
 *   or, without an exact revision, after the first id's place). The adapter completes the port's
 *   promise around it: a retry whose expectation is now stale is recognised by reading the stream
 *   after the conflict and answered with the original result; an append that repeats some stored
 *   ids of its stream without being a retry is a DuplicateEventIdError. For 'any' and
 *   'stream_exists' appends the stream is read first, since the server would store such a partial
 *   repeat. Ids are not checked across streams: the server keeps no index of them (the API's ids
 *   derive from the stream name, so they cannot meet in two streams).
 * - Reads and subscriptions leave out system events ($-streams and $-types).
 */
export function getKurrentDBEventStore(options: KurrentDBEventStoreOptions): EventStore {
  return new KurrentDBEventStoreAdapter(options);
}

class KurrentDBEventStoreAdapter implements EventStore {
  private readonly client: KurrentDBClient;
  private readonly description: string;
  private readonly subscriptions = new Set<KurrentDBSubscription>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;
  private disposed: Promise<void> | undefined;

  constructor(private readonly options: KurrentDBEventStoreOptions) {
    const connectionString = normaliseKurrentDBConnectionString(options.connectionString);
    this.client = KurrentDBClient.connectionString(connectionString);
    this.description = redactCredentials(connectionString);
  }

  appendToStream(stream: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error(`The KurrentDB event store (${this.description}) is closed`));
    const append = this.append(stream, events, options.expectedRevision).catch((error: unknown) => {
      throw this.unreachable(error);
    });
    this.inFlight.add(append);
    void append.catch(() => undefined).finally(() => this.inFlight.delete(append));
    return append;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const direction = options.direction ?? 'forwards';
    const maxCount = checkedCount(options.maxCount);
    if (maxCount === 0) return [];
    if (options.fromRevision !== undefined && (!Number.isSafeInteger(options.fromRevision) || options.fromRevision < 0)) {
      throw new RangeError(`fromRevision must be a revision (got ${options.fromRevision})`);
    }
    const fromRevision = options.fromRevision !== undefined ? BigInt(options.fromRevision) : direction === 'forwards' ? START : END;
    return this.collect(this.client.readStream(stream, { direction: direction === 'forwards' ? FORWARDS : BACKWARDS, fromRevision, maxCount }), true);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const maxCount = checkedCount(options.maxCount);
    if (maxCount === 0) return [];
    const filter = excludeSystemEvents();
    if ((options.direction ?? 'forwards') === 'forwards') {
      // Position 0 is before the first event; a real log has no record there.
      const fromPosition = options.fromPosition ? toKurrentPosition(options.fromPosition) : START;
      return this.collect(this.client.readAll({ direction: FORWARDS, fromPosition, maxCount, filter }), false);
    }
    if (options.fromPosition === undefined) return this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount, filter }), false);
    // The server reads $all backwards from the record before the position; the port's reads
    // include the event at their start, so it is fetched apart (if it is there and not a system event).
    const from = toKurrentPosition(options.fromPosition);
    const before = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount, filter }), false);
    if (before[0]?.position === options.fromPosition) return before;
    const [at] = await this.collect(this.client.readAll({ direction: FORWARDS, fromPosition: from, maxCount: 1, filter }), false);
    return at?.position === options.fromPosition ? [at, ...before].slice(0, maxCount) : before;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AsyncIterable<SubscriptionMessage> {
    this.assertOpen();
    const subscription = new KurrentDBSubscription(
      this.client,
      options,
      { reconnectDelayMs: this.options.reconnectDelayMs ?? 250, maxReconnectAttempts: this.options.maxReconnectAttempts ?? 10, onReconnect: this.options.onReconnect },
      (ended) => this.subscriptions.delete(ended),
      () => this.headPosition(),
    );
    if (subscription.active) this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    const [last] = await this.collect(this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents() }), false);
    return last?.position ?? 0;
  }

  async health(): Promise<EventStoreHealth> {
    if (this.closed) return { kind: 'kurrentdb', reachable: false, detail: this.description };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS)));
    try {
      await Promise.race([this.headPosition(), timeout]);
      return { kind: 'kurrentdb', reachable: true, detail: this.description };
    } catch (error) {
      return { kind: 'kurrentdb', reachable: false, detail: `${this.description}: ${redactCredentials((error as Error).message)}` };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets accepted appends finish, ends the subscriptions, then closes the connection. */
  close(): Promise<void> {
    if (!this.disposed) {
      this.closed = true;
      this.disposed = (async () => {
        await Promise.allSettled([...this.inFlight]);
        for (const subscription of [...this.subscriptions]) subscription.finish();
        await this.client.dispose();
      })();
    }
    return this.disposed;
  }

  private async append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision): Promise<AppendResult> {
    const streamState = toStreamState(expected);
    for (const event of events) {
      if (!UUID.test(event.id)) throw new TypeError(`Event ids must be UUIDs (got "${event.id}")`);
    }
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.id)) throw new DuplicateEventIdError(stream, event.id);
      seen.add(event.id);
    }
    if (events.length === 0) return this.emptyAppend(stream, expected);
    if (streamState === 'any' || streamState === 'stream_exists') {
      const stored = await this.readStream(stream);
      const known = classifyRetry(stream, stored, events);
      if (known) return known;
    }
    try {
      const result = await this.client.appendToStream(
        stream,
        events.map((event) => jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata: withServerMetadata(event.metadata) })),
        { streamState },
      );
      const nextRevision = Number(result.nextExpectedRevision);
      // The server answers a deduplicated retry without a position: read it back.
      if (result.position) return { nextRevision, position: Number(result.position.commit) };
      const [last] = await this.readStream(stream, { fromRevision: nextRevision, maxCount: 1 });
      return { nextRevision, position: last.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      // A stale expectation may still be a retry of an append that was stored (its answer lost).
      const stored = await this.readStream(stream);
      const known = classifyRetry(stream, stored, events);
      if (known) return known;
      const actual: StreamRevision = error.actualState === 'no_stream' || error.actualState === undefined ? 'no_stream' : Number(error.actualState);
      throw new WrongExpectedRevisionError(stream, expected, typeof actual === 'number' && actual < 0 ? 'no_stream' : actual);
    }
  }

  // The server has nothing to write and the client reports an empty stream's state ambiguously,
  // so an empty append is checked here against the stream's last event.
  private async emptyAppend(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const [last] = await this.readStream(stream, { direction: 'backwards', maxCount: 1 });
    const actual: StreamRevision = last ? last.revision : 'no_stream';
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      (typeof expected === 'number' && expected === (actual === 'no_stream' ? -1 : actual));
    if (!ok) throw new WrongExpectedRevisionError(stream, expected, actual);
    return { nextRevision: last ? last.revision : -1, position: last ? last.position : 0 };
  }

  private async collect(read: AsyncIterable<ResolvedEvent>, missingIsEmpty: boolean): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    try {
      for await (const resolved of read) {
        const event = toStoredEvent(resolved);
        if (event) events.push(event);
      }
    } catch (error) {
      if (missingIsEmpty && error instanceof StreamNotFoundError) return [];
      throw this.unreachable(error);
    }
    return events;
  }

  // The client reports an unreachable server as its own error types, or as a raw gRPC status
  // when the connection fails before a call; either becomes one typed error naming the store.
  private unreachable(error: unknown): unknown {
    const grpcCode = (error as { code?: unknown }).code;
    const down = error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError || grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_DEADLINE_EXCEEDED;
    return down ? new EventStoreUnavailableError(this.description, redactCredentials((error as Error).message)) : error;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The KurrentDB event store (${this.description}) is closed`);
  }
}

/**
 * Whether an append's ids are already in the stream: all of them in a row, from the first, is a
 * retry (answered with the original result); any other overlap is a DuplicateEventIdError naming
 * the append's first stored id; none is undefined.
 */
function classifyRetry(stream: string, stored: readonly StoredEvent[], events: readonly NewEvent[]): AppendResult | undefined {
  // By index, not revision: a stream truncated by $maxCount or $tb no longer starts at revision 0.
  const indexOf = new Map(stored.map((event, index) => [event.id, index]));
  const first = indexOf.get(events[0].id);
  if (first !== undefined && events.every((event, i) => stored[first + i]?.id === event.id)) {
    const last = stored[first + events.length - 1];
    return { nextRevision: last.revision, position: last.position };
  }
  const repeated = events.find((event) => indexOf.has(event.id));
  if (repeated) throw new DuplicateEventIdError(stream, repeated.id);
  return undefined;
}

function toStreamState(expected: ExpectedRevision): AppendStreamState {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  if (!Number.isSafeInteger(expected) || expected < -1) throw new RangeError(`expectedRevision must be a revision, -1, 'no_stream', 'stream_exists' or 'any' (got ${expected})`);
  return expected === -1 ? 'no_stream' : BigInt(expected);
}

function checkedCount(maxCount: number | undefined): number {
  if (maxCount === undefined) return Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new RangeError(`maxCount must be a non-negative integer (got ${maxCount})`);
  return maxCount;
}
