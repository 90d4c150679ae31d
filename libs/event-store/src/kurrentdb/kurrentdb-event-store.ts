import {
  AccessDeniedError,
  BACKWARDS,
  END,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  NotLeaderError,
  START,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type AppendStreamState,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import { AppendTooLargeError, DuplicateEventIdError, EventStoreOutcomeUnknownError, StreamDeletedError, UnreadableEventError, WrongExpectedRevisionError } from '../event-store.errors';
import type {
  AppendResult,
  EventStore,
  EventStoreHealth,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  StreamHiding,
  StreamRevision,
  SubscribeToAllOptions,
  SubscriptionMessage,
} from '../event-store.port';
import { connectionStringUser, kurrentDBReadsMayLag, normaliseKurrentDBConnectionString, redactCredentials } from './kurrentdb-connection-string';
import { appendMayHaveBeenWritten, sentBeforeReconnect, toPortError } from './kurrentdb-errors';
import { KnownEventIds, type KnownStream } from './kurrentdb-known-ids';
import { toKurrentPosition, toStoredEvent, withServerMetadata } from './kurrentdb-positions';
import { findStreamsHidingEvents, readStreamHiding } from './kurrentdb-stream-hiding';
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
 * holds at most 16 MiB less 10,000 bytes (TFConsts.EffectiveMaxLogRecordSize), in every version,
 * and the server takes no larger gRPC message. A bigger one would fail every append in flight on
 * the connection, so it is refused here (SERVER-BEHAVIOUR.md §6.2).
 */
export const KURRENTDB_MAX_EVENT_BYTES = 16 * 1024 * 1024 - 10_000;
// Room for what the protocol adds around an event (its id, the type and content type, field tags).
const ENVELOPE_BYTES = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const HEALTH_TIMEOUT_MS = 2000;
// Reads the adapter makes to check its own writes: a lagging follower would not show them.
const LEADER = { requiresLeader: true } as const;
// An append that reached a node no longer the leader is sent again to the leader it named (as is
// one the client never sent because it was moving there); an election may move the leader more
// than once.
const MAX_LEADER_REDIRECTS = 3;

/**
 * The EventStore port on KurrentDB / EventStoreDB 22.10+ through the official client. What the
 * server does is in test/kurrentdb-double/SERVER-BEHAVIOUR.md (§ below); the adapter adds:
 * - Expected revisions are the client's streamState; -1 (an empty stream's next expectation)
 *   is 'no_stream'. The server's wrong-expected-version error becomes WrongExpectedRevisionError.
 * - Idempotency by event id, where the server's commit check does not look (§2): before an append
 *   the stream's ids up to the expectation ('any', 'stream_exists': all of them) are checked, from
 *   a cache of recently used streams topped up by a leader read; a retry is answered with the
 *   original result, a partial repeat is a DuplicateEventIdError. After a conflict the stream is
 *   read again, since the conflict may be a retry whose expectation is now stale. Ids are not
 *   checked across streams: the server keeps no index of them (the API's ids derive from the
 *   stream name, so they cannot meet in two streams).
 * - A lost answer (§1: a retry dropped while the original is indexed, a timeout, a broken
 *   connection, a leader change) is resolved by reading the stream back from the leader: the
 *   append is answered as stored, or fails with EventStoreOutcomeUnknownError.
 * - A deduplicated answer without a position (§4) is completed from the leader, or with the head
 *   position when its events can no longer be read.
 * - The checks of its own writes (retry check, empty append, read-back, head) read the leader (§3).
 * - Every server error the client reports becomes a typed port error (§7); the nil UUID, empty
 *   types and events larger than a log record are refused before they are sent (§6.2).
 * - Reads and subscriptions leave out system events ($-streams and $-types).
 * - What hides a stream's events from readers while $all still shows them ($tb, $maxCount,
 *   $maxAge, a soft delete, a tombstone: §10) is read from its metadata (kurrentdb-stream-hiding.ts).
 */
export function getKurrentDBEventStore(options: KurrentDBEventStoreOptions): EventStore {
  return new KurrentDBEventStoreAdapter(options);
}

class KurrentDBEventStoreAdapter implements EventStore {
  private readonly client: KurrentDBClient;
  private readonly description: string;
  /** EVENT_STORE_URL's user, named in a refusal (never its password). */
  private readonly user: string | undefined;
  private readonly subscriptions = new Set<KurrentDBSubscription>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly known = new KnownEventIds();
  private closed = false;
  /** Reads not asking for the leader may be served by a follower behind it (nodePreference other than leader). */
  private readonly lagging: boolean;
  private disposed: Promise<void> | undefined;

  constructor(private readonly options: KurrentDBEventStoreOptions) {
    const connectionString = normaliseKurrentDBConnectionString(options.connectionString);
    this.client = KurrentDBClient.connectionString(connectionString);
    this.description = redactCredentials(connectionString);
    this.user = connectionStringUser(connectionString);
    this.lagging = kurrentDBReadsMayLag(connectionString);
  }

  readsMayLag(): boolean {
    return this.lagging;
  }

  appendToStream(stream: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new Error(`The KurrentDB event store (${this.description}) is closed`));
    const append = this.append(stream, events, options.expectedRevision)
      // What it remembered of the stream was of a log the server no longer holds: once more, on what it holds.
      .catch((error: unknown) => (error instanceof ForgottenStream ? this.append(stream, events, options.expectedRevision, 0, true) : Promise.reject(error)))
      .catch((error: unknown) => {
        throw this.portError(error, `append to "${stream}"`, stream);
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
    const events = await this.read(stream, { direction, fromRevision: options.fromRevision, maxCount, leader: options.fromLeader === true });
    // What any forwards read shows of a stream stays true: the next append's checks start after it.
    if (direction === 'forwards') this.known.add(stream, events, options.fromRevision ?? 0);
    return events;
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const maxCount = checkedCount(options.maxCount);
    if (maxCount === 0) return [];
    const filter = excludeSystemEvents();
    const leader = options.fromLeader === true ? LEADER : {};
    if ((options.direction ?? 'forwards') === 'forwards') {
      // Position 0 is before the first event; a real log has no record there.
      const fromPosition = options.fromPosition ? toKurrentPosition(options.fromPosition) : START;
      return this.collect(() => this.client.readAll({ direction: FORWARDS, fromPosition, maxCount, filter, ...leader }), '$all');
    }
    if (options.fromPosition === undefined) return this.collect(() => this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount, filter, ...leader }), '$all');
    // The server reads $all backwards from the record before the position; the port's reads
    // include the event at their start, so it is fetched apart (if it is there and not a system event).
    const from = toKurrentPosition(options.fromPosition);
    const before = await this.collect(() => this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount, filter, ...leader }), '$all');
    if (before[0]?.position === options.fromPosition) return before;
    const [at] = await this.collect(() => this.client.readAll({ direction: FORWARDS, fromPosition: from, maxCount: 1, filter, ...leader }), '$all');
    return at?.position === options.fromPosition ? [at, ...before].slice(0, maxCount) : before;
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AsyncIterable<SubscriptionMessage> {
    this.assertOpen();
    const subscription = new KurrentDBSubscription(
      this.client,
      options,
      { reconnectDelayMs: this.options.reconnectDelayMs ?? 250, maxReconnectAttempts: this.options.maxReconnectAttempts ?? 10, onReconnect: this.options.onReconnect },
      (ended) => this.subscriptions.delete(ended),
      () => this.lastDeliverable(options.streamPrefix),
      (error) => this.portError(error, 'subscribe to $all'),
    );
    if (subscription.active) this.subscriptions.add(subscription);
    return subscription;
  }

  async streamsHidingEvents(): Promise<readonly StreamHiding[]> {
    this.assertOpen();
    try {
      return await findStreamsHidingEvents(this.client);
    } catch (error) {
      throw this.portError(error, 'read stream metadata');
    }
  }

  async streamHiding(stream: string): Promise<StreamHiding | undefined> {
    this.assertOpen();
    try {
      return await readStreamHiding(this.client, stream);
    } catch (error) {
      throw this.portError(error, `read the metadata of "${stream}"`, stream);
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    const [last] = await this.collect(() => this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents(), ...LEADER }), '$all');
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

  /** `fresh`: a second attempt after what was remembered of the stream proved stale (ForgottenStream). */
  private async append(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, redirects = 0, fresh = false): Promise<AppendResult> {
    const streamState = toStreamState(expected);
    const proposed = events.map((event) => proposedEvent(stream, event));
    if (events.length === 0) return this.emptyAppend(stream, expected);
    // Ids the server's commit check would not look at (§2): up to the expectation, or all of them.
    const known = expected === 'no_stream' ? this.known.get(stream) : await this.knownIds(stream, typeof expected === 'number' ? expected : undefined);
    const retry = classifyRetry(stream, known, events);
    if (retry !== undefined) return this.answerFor(stream, retry, events, fresh);
    if (expected === 'no_stream' && (await this.softDeleted(stream))) throw new StreamDeletedError(stream);
    let result: Awaited<ReturnType<KurrentDBClient['appendToStream']>>;
    try {
      result = await this.client.appendToStream(stream, proposed, { streamState });
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) return this.afterConflict(stream, events, expected, error, fresh);
      if (error instanceof NotLeaderError && redirects < MAX_LEADER_REDIRECTS) return this.onLeader(stream, events, expected, redirects + 1, error, fresh);
      // Never sent: the client was moving to another connection (often the leader just named).
      if (sentBeforeReconnect(error) && redirects < MAX_LEADER_REDIRECTS) return this.append(stream, events, expected, redirects + 1, fresh);
      if (appendMayHaveBeenWritten(error)) return this.afterLostAnswer(stream, events, error, fresh);
      throw error;
    }
    const nextRevision = Number(result.nextExpectedRevision);
    const position = result.position ? Number(result.position.commit) : undefined;
    this.known.add(stream, events.map((event, i) => ({ id: event.id, revision: nextRevision - events.length + 1 + i })));
    // A deduplicated retry is answered without a position when its last event cannot be read (§4).
    // The server has just said it holds the events: nothing remembered to doubt (fresh).
    return position !== undefined ? { nextRevision, position } : this.answerFor(stream, nextRevision, events, true);
  }

  /**
   * Whether an operator soft-deleted the stream. It then reads as never written, and the server
   * takes an append expecting no stream as a fresh start (§10): the events land after the hidden
   * ones, so the stream no longer starts at revision 0 and every later load refuses it
   * (StreamTruncatedError), while the log and its subscribers hold an opening for an id that was
   * deleted. A deleted id is not used again. One read of the metadata stream, from the leader;
   * a user without the right to read metadata cannot tell, and appends as before.
   */
  private async softDeleted(stream: string, redirects = 0): Promise<boolean> {
    try {
      const { metadata } = await this.client.getStreamMetadata(stream, { requiresLeader: true });
      // $tb = EventNumber.DeletedStream (2^63 - 1): parsed as a JSON number, beyond exact doubles.
      return metadata?.truncateBefore !== undefined && Number(metadata.truncateBefore) >= Number.MAX_SAFE_INTEGER;
    } catch (error) {
      if (error instanceof AccessDeniedError) return false;
      // Asked of a node no longer the leader: asked again of the one it named (as collect() does).
      if (error instanceof NotLeaderError && redirects < MAX_LEADER_REDIRECTS) return this.softDeleted(stream, redirects + 1);
      throw error;
    }
  }

  /** A stale expectation may still be a retry of an append that was stored (its answer lost). */
  private async afterConflict(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, error: WrongExpectedVersionError, fresh: boolean): Promise<AppendResult> {
    const known = await this.knownIds(stream);
    const retry = classifyRetry(stream, known, events);
    if (retry !== undefined) return this.answerFor(stream, retry, events, fresh);
    const actual: StreamRevision = error.actualState === 'no_stream' || error.actualState === undefined ? 'no_stream' : Number(error.actualState);
    throw new WrongExpectedRevisionError(stream, expected, typeof actual === 'number' && actual < 0 ? 'no_stream' : actual);
  }

  /**
   * The answer was lost (§1): a retry the server dropped while the original was indexed, a timeout,
   * a broken connection. The leader's copy of the stream says whether the events are there.
   */
  private async afterLostAnswer(stream: string, events: readonly NewEvent[], cause: unknown, fresh: boolean): Promise<AppendResult> {
    const reason = redactCredentials(cause instanceof Error ? cause.message || cause.name : String(cause));
    let known: KnownStream;
    try {
      known = await this.knownIds(stream);
    } catch {
      throw new EventStoreOutcomeUnknownError(this.description, stream, reason);
    }
    const retry = classifyRetry(stream, known, events);
    if (retry !== undefined) return this.answerFor(stream, retry, events, fresh);
    throw new EventStoreOutcomeUnknownError(this.description, stream, reason);
  }

  /**
   * The node refused the append for not being the leader (§7: NotHandled, nothing written) and
   * named the one that is; the client connects there for its next call. A NotLeader from
   * BatchAppend fails every append in flight on the call, some of which the node may have written
   * while it still led: the leader's copy of the stream is read first, and the append answered
   * from it when its events are there, else sent again (same ids, same expectation).
   */
  private async onLeader(stream: string, events: readonly NewEvent[], expected: ExpectedRevision, redirects: number, cause: NotLeaderError, fresh: boolean): Promise<AppendResult> {
    let known: KnownStream;
    try {
      known = await this.knownIds(stream);
    } catch {
      throw new EventStoreOutcomeUnknownError(this.description, stream, redactCredentials(cause.message));
    }
    const retry = classifyRetry(stream, known, events);
    if (retry !== undefined) return this.answerFor(stream, retry, events, fresh);
    return this.append(stream, events, expected, redirects, fresh);
  }

  /** The stream's ids, read from the leader after what is already known, up to `throughRevision` (default: all). */
  private async knownIds(stream: string, throughRevision?: number): Promise<KnownStream> {
    const known = this.known.get(stream);
    if (throughRevision !== undefined && known.upTo >= throughRevision) return known;
    const fromRevision = known.upTo + 1;
    const events = await this.read(stream, { direction: 'forwards', fromRevision, maxCount: Number.MAX_SAFE_INTEGER, leader: true });
    return this.known.add(stream, events, fromRevision);
  }

  /**
   * The result of the append that stored `events`, the last at `revision`, as the leader holds it
   * now. What the adapter remembers of a stream is of the log it read it from: a server restored
   * from an older backup (or started again empty) no longer holds the later events, and a retry of
   * their append answered from memory was answered as stored while nothing was (the command lost).
   * So the event is read back, and a stream that does not hold it there is forgotten and the append
   * made again on what the server holds (ForgottenStream), once.
   */
  private async answerFor(stream: string, revision: number, events: readonly NewEvent[], fresh: boolean): Promise<AppendResult> {
    const [event] = await this.read(stream, { direction: 'forwards', fromRevision: revision, maxCount: 1, leader: true });
    if (event?.revision === revision && event.id === events[events.length - 1]!.id) {
      this.known.add(stream, [event]);
      return { nextRevision: revision, position: event.position };
    }
    // An event after it there: it is stored but hidden (truncated, §4).
    const hidden = event !== undefined && event.revision > revision;
    if (!hidden && !fresh) {
      this.known.forget(stream);
      throw new ForgottenStream();
    }
    // No longer readable: the head is a position at or after it.
    return { nextRevision: revision, position: await this.headPosition() };
  }

  // The server has nothing to write and the client reports an empty stream's state ambiguously,
  // so an empty append is checked here against the stream's last event, as the leader has it.
  private async emptyAppend(stream: string, expected: ExpectedRevision): Promise<AppendResult> {
    const [last] = await this.read(stream, { direction: 'backwards', maxCount: 1, leader: true });
    const actual: StreamRevision = last ? last.revision : 'no_stream';
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && actual === 'no_stream') ||
      (expected === 'stream_exists' && actual !== 'no_stream') ||
      (typeof expected === 'number' && expected === (actual === 'no_stream' ? -1 : actual));
    if (!ok) throw new WrongExpectedRevisionError(stream, expected, actual);
    return { nextRevision: last ? last.revision : -1, position: last ? last.position : 0 };
  }

  /**
   * The position of the last event a subscription with this prefix would deliver, as the leader
   * has it now: caughtUp is due once it is delivered, whether or not the server says so (§5.2).
   */
  private async lastDeliverable(streamPrefix: string | undefined): Promise<number> {
    const filter = streamPrefix ? streamNameFilter({ prefixes: [streamPrefix] }) : excludeSystemEvents();
    const [last] = await this.collect(() => this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter, ...LEADER }), '$all');
    return last?.position ?? 0;
  }

  private read(stream: string, options: { direction: 'forwards' | 'backwards'; fromRevision?: number; maxCount: number; leader?: boolean }): Promise<StoredEvent[]> {
    const forwards = options.direction === 'forwards';
    const fromRevision = options.fromRevision !== undefined ? BigInt(options.fromRevision) : forwards ? START : END;
    return this.collect(() => this.client.readStream(stream, { direction: forwards ? FORWARDS : BACKWARDS, fromRevision, maxCount: options.maxCount, ...(options.leader ? LEADER : {}) }), stream);
  }

  /**
   * The events a read gives. A read asking for the leader (every read, with the default node
   * preference: §3) that reaches a node no longer the leader (an election) is answered NotLeader,
   * nothing read; the client then connects to the leader it named, and the read is sent again
   * there, as an append is, rather than failing a command or /health once per election.
   */
  private async collect(read: () => AsyncIterable<ResolvedEvent>, source: string, redirects = 0): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    try {
      for await (const resolved of read()) {
        const event = toStoredEvent(resolved, source !== '$all');
        if (event) events.push(event);
      }
    } catch (error) {
      if (error instanceof UnreadableEventError) throw error;
      if (source !== '$all' && error instanceof StreamNotFoundError) return [];
      if (error instanceof NotLeaderError && redirects < MAX_LEADER_REDIRECTS) return this.collect(read, source, redirects + 1);
      throw this.portError(error, `read ${source === '$all' ? '$all' : `"${source}"`}`, source === '$all' ? undefined : source);
    }
    return events;
  }

  private portError(error: unknown, operation: string, stream?: string): unknown {
    return toPortError(error, { store: this.description, operation, stream, user: this.user, maxEventBytes: KURRENTDB_MAX_EVENT_BYTES });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The KurrentDB event store (${this.description}) is closed`);
  }
}

/** What the adapter remembered of a stream is not what the server holds: the append is made again, on what it holds. */
class ForgottenStream extends Error {}

/** The client's event for a port event, refusing before the server what it would refuse (§6.2). */
function proposedEvent(stream: string, event: NewEvent) {
  if (typeof event.id !== 'string' || !UUID.test(event.id) || event.id === NIL_UUID) throw new TypeError(`Event ids must be UUIDs other than the nil one (got "${event.id}")`);
  if (typeof event.type !== 'string' || event.type === '') throw new TypeError(`Event ${event.id} needs a non-empty type`);
  const metadata = withServerMetadata(event.metadata);
  // The client serialises again; measuring here costs one more JSON.stringify per event.
  const size = Buffer.byteLength(JSON.stringify(event.data)) + Buffer.byteLength(JSON.stringify(metadata)) + event.type.length * 2 + ENVELOPE_BYTES;
  if (size > KURRENTDB_MAX_EVENT_BYTES) throw new AppendTooLargeError(stream, KURRENTDB_MAX_EVENT_BYTES, event.id);
  return jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata });
}

/**
 * Whether an append's ids are already in the stream: all of them in a row, from the first, is a
 * retry (answered with the revision of its last event); any other overlap is a
 * DuplicateEventIdError naming the append's first stored id; none is undefined. Ids repeated within
 * the append are a DuplicateEventIdError too.
 */
function classifyRetry(stream: string, known: KnownStream, events: readonly NewEvent[]): number | undefined {
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) throw new DuplicateEventIdError(stream, event.id);
    seen.add(event.id);
  }
  const first = known.ids.get(events[0].id);
  if (first !== undefined && events.every((event, i) => known.ids.get(event.id) === first + i)) return first + events.length - 1;
  const repeated = events.find((event) => known.ids.has(event.id));
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
