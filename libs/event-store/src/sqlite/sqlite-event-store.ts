import type Database from 'better-sqlite3';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { DuplicateEventIdError, EventStoreFileError, EventStoreFullError, EventStoreUnavailableError, isDiskFullError } from '../event-store.errors';
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
  SubscribeToAllOptions,
  SubscriptionMessage,
} from '../event-store.port';
import { CommittedTail, type CommittedEvent } from './sqlite-committed-tail';
import { EVENT_COLUMNS, fromEventTuple, type EventRow, type EventTuple } from './sqlite-event-row';
import { BUSY_TIMEOUT_MS, isInMemoryPath, openEventStoreDatabase } from './sqlite-database';
import { SQLiteSubscription, type PageRead, type SubscriptionFilter, type SubscriptionSource } from './sqlite-subscription';
import { assertWritableFile, isSQLiteFileFault, isSQLiteLockedOut, sqliteFileProblem } from './sqlite-file';
import { inThreadWriter, startWriterThread, type SQLiteWriter } from './sqlite-writer';
import { errorOf, flattenAppends, outcomeAt, type AppendOutcome, type CommitReply, type SerializedEvent } from './sqlite-writer.protocol';

type CommittedReply = Extract<CommitReply, { committed: true }>;

export { SQLITE_EVENT_STORE_SCHEMA_VERSION } from './sqlite-database';

export interface SQLiteEventStoreOptions {
  /** A file path, or ':memory:' for a private in-memory store. */
  readonly path: string;
  /**
   * 'full' (default): an acknowledged append survives a crash and a power loss (fsync per commit).
   * 'normal': in WAL mode a power loss or OS crash may lose the last committed transactions,
   * a process crash loses nothing; several times the write throughput.
   */
  readonly durability?: 'full' | 'normal';
  /** Stamps recordedAt; injected so tests need not read the wall clock. */
  readonly clock?: () => Date;
  /** How often live subscriptions look for events written by other processes (ms, default 250). */
  readonly pollIntervalMs?: number;
  /**
   * Told once if the writer thread dies (a crash, not close()). Appends then fail with
   * EventStoreUnavailableError and health() reports the store unreachable, until a restart.
   */
  readonly onWriterFailure?: (error: Error) => void;
  /**
   * This process appends (the API): a file this user may read but not write stops it at once
   * (SQLiteFileError), instead of every command failing after a healthy start. Readers (the CLI's
   * verify of a read-only backup, a projector) leave it out.
   */
  readonly appends?: boolean;
}

export interface SQLiteEventStoreStats {
  /** Write transactions committed: group commit puts many appends in one. */
  readonly committedBatches: number;
  /** Appends settled successfully, retries included. */
  readonly committedAppends: number;
  readonly activeSubscriptions: number;
  /** Events live subscriptions took from memory after this process committed them, not read back from SQLite. */
  readonly eventsFedFromMemory: number;
}

export interface SQLiteEventStore extends EventStore {
  stats(): SQLiteEventStoreStats;
  /** Whether the last committed batch found the log's head where this store's previous commit left it. */
  isSoleWriter(): boolean;
}

const DEFAULT_POLL_INTERVAL_MS = 250;
/**
 * After a write refused for want of space, health() reports the store unable to write until an
 * append succeeds again or the file system has at least this much free (then the next append says).
 */
const FREE_BYTES_TO_RETRY = 4 * 1024 * 1024;
// SQLite reads a negative LIMIT as "no limit".
const NO_LIMIT = -1;
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * The bound a forward read from `fromRevision` binds. From the start it takes in a row renumbered
 * below 0 by hand, which fromEventTuple refuses: bound at 0 the read left it out, and a stream whose
 * last event was so renumbered read as one that ends before it (a win gone, verify saying intact).
 */
function lowestRevisionOf(fromRevision: number | undefined): number {
  return fromRevision === undefined || fromRevision === 0 ? Number.MIN_SAFE_INTEGER : fromRevision;
}

/**
 * The embedded event store: one SQLite file in WAL mode, so a projector in another process can
 * read while this one writes. Appends are committed on a writer thread with its own connection
 * (reads stay on this thread's connection): appends that arrive while a commit is in flight, or in
 * the same tick, share the next transaction. An in-memory store commits on the caller's thread.
 */
export function getSQLiteEventStore(options: SQLiteEventStoreOptions): SQLiteEventStore {
  return new SQLiteEventStoreAdapter(options);
}

/** The thread that commits a SQLite store's appends (none for an in-memory store): for tests and diagnostics. */
export function sqliteWriterThreadOf(store: EventStore): Worker | undefined {
  return store instanceof SQLiteEventStoreAdapter ? store.writerThread : undefined;
}

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly SerializedEvent[];
  readonly expectedRevision: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

class SQLiteEventStoreAdapter implements SQLiteEventStore, SubscriptionSource {
  readonly pollIntervalMs: number;
  private readonly path: string;
  private readonly clock: () => Date;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** Started by the first append: a process that only reads (a projector, the CLI's verify) never starts a thread. */
  private startedWriter: SQLiteWriter | undefined;
  private readonly startWriter: () => SQLiteWriter;
  private pending: PendingAppend[] = [];
  private flushHandle: NodeJS.Immediate | undefined;
  /** The batch the writer is committing, settled by the time this resolves. One at a time. */
  private inFlight: Promise<void> | undefined;
  private batchIds = 0;
  private readonly subscriptions = new Set<SQLiteSubscription>();
  /** The log's end as this process's commits wrote it: what live subscriptions read instead of SQLite. */
  private readonly tail = new CommittedTail();
  private eventsFedFromMemory = 0;
  /** close() was called: no new append is accepted; accepted ones are still written. */
  private closing: Promise<void> | undefined;
  private closed = false;
  private committedBatches = 0;
  private committedAppends = 0;
  /** The last committed batch found the log where this store's previous commit left it. */
  private soleWriter = false;
  /** The last append refused for want of space, until one succeeds or space is freed. */
  private diskFull: { readonly since: string; readonly reason: string } | undefined;
  /**
   * Since when appends have been refused because another process held the write lock past the
   * busy timeout, until one commits or health() finds the lock free. Reads go on meanwhile (WAL),
   * so a read alone would call the store healthy while every append is refused.
   */
  private lockedOutSince: string | undefined;

  constructor(options: SQLiteEventStoreOptions) {
    this.path = options.path;
    this.clock = options.clock ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    const durability = options.durability ?? 'full';
    // Opened (and migrated) here first, so a bad file fails the constructor, not a later append.
    if (options.appends) assertWritableFile(options.path, 'EVENT_STORE_PATH');
    this.db = openEventStoreDatabase(options.path, durability);
    this.statements = prepareStatements(this.db);
    const onWriterFailure = options.onWriterFailure ?? (() => undefined);
    this.startWriter = () => (isInMemoryPath(options.path) ? inThreadWriter(this.db) : startWriterThread({ path: options.path, durability }, onWriterFailure));
  }

  get writerThread(): Worker | undefined {
    return this.startedWriter?.thread;
  }

  private get writer(): SQLiteWriter {
    this.startedWriter ??= this.startWriter();
    return this.startedWriter;
  }

  async appendToStream(stream: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    if (this.closing) throw this.closedError();
    if (this.startedWriter?.failure) throw this.unavailable(this.startedWriter.failure);
    const expectedRevision = options.expectedRevision;
    assertStreamName(stream);
    assertExpectedRevision(expectedRevision);
    const serialized = events.map(serializeEvent);
    // A command appends one event, mostly: no set to find a repeated id among one.
    if (serialized.length > 1) {
      const seen = new Set<string>();
      for (const event of serialized) {
        if (seen.has(event.id)) throw new DuplicateEventIdError(stream, event.id);
        seen.add(event.id);
      }
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ stream, events: serialized, expectedRevision, resolve, reject });
      // setImmediate rather than a microtask: appends issued after an await in the same turn join too.
      this.flushHandle ??= setImmediate(() => this.flush());
    });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.reading(() => this.readStreamNow(stream, options));
  }

  private readStreamNow(stream: string, options: ReadStreamOptions): StoredEvent[] {
    const { readStreamForwards, readStreamBackwards, readWholeStreamForwards } = this.statements;
    // A bound LIMIT costs SQLite about as much as the read itself; the common full read skips it.
    if (options.maxCount === undefined && options.direction !== 'backwards') {
      return readWholeStreamForwards.all(stream, lowestRevisionOf(options.fromRevision)).map(fromEventTuple);
    }
    const limit = limitOf(options.maxCount);
    const rows =
      options.direction === 'backwards'
        ? readStreamBackwards.all(stream, options.fromRevision ?? NO_UPPER_BOUND, limit)
        : readStreamForwards.all(stream, lowestRevisionOf(options.fromRevision), limit);
    return rows.map(fromEventTuple);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = limitOf(options.maxCount);
    const rows = this.reading(() =>
      options.direction === 'backwards'
        ? this.statements.readAllBackwards.all(options.fromPosition ?? NO_UPPER_BOUND, limit)
        : this.statements.readAllForwards.all(options.fromPosition ?? Number.MIN_SAFE_INTEGER, limit), // the start: rows written below 1 outside the service too
    );
    return rows.map(fromEventTuple);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AsyncIterable<SubscriptionMessage> {
    this.assertOpen();
    const subscription = new SQLiteSubscription(this, options);
    if (subscription.active) this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.reading(() => this.head());
  }

  async highestPositionNumbered(): Promise<number | undefined> {
    this.assertOpen();
    return this.reading(() => {
      // A file whose events table was made without AUTOINCREMENT keeps no counter, nor its table.
      if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").get() === undefined) return undefined;
      const kept = this.db.prepare<[], { seq: unknown }>("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get()?.seq;
      // A counter edited into something else than a count is no bound: left out, not trusted.
      return typeof kept === 'number' && Number.isSafeInteger(kept) && kept > 0 ? kept : undefined;
    });
  }

  async health(): Promise<EventStoreHealth> {
    if (this.closed) return { kind: 'sqlite', reachable: false, detail: this.path };
    const failure = this.startedWriter?.failure;
    if (failure) return { kind: 'sqlite', reachable: false, detail: `${this.path}: ${failure.message}` };
    try {
      this.statements.ping.get();
      const full = this.stillFull();
      const lockedOutSince = this.stillLockedOut();
      const cannotWrite = [
        ...(full ? [`the disk holding ${this.path} is full (${full.reason}, since ${full.since}): free space; writes resume without a restart`] : []),
        ...(lockedOutSince ? [`${this.path} is locked by another process, which has held its write lock longer than the ${BUSY_TIMEOUT_MS / 1000} s this service waits (since ${lockedOutSince}; a program writing EVENT_STORE_PATH, or a sqlite3 shell with a transaction open on it): appends are refused until it lets go, then resume without a restart`] : []),
      ];
      return { kind: 'sqlite', reachable: true, detail: this.path, ...(cannotWrite.length > 0 ? { cannotWrite: cannotWrite.join('; ') } : {}) };
    } catch (error) {
      return { kind: 'sqlite', reachable: false, detail: isSQLiteFileFault(error) ? `${this.path} ${sqliteFileProblem(error)}` : this.path };
    }
  }

  /** Writes the appends already accepted, ends the subscriptions, then closes both connections. */
  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  isSoleWriter(): boolean {
    return this.soleWriter;
  }

  // SQLite has no setting that hides a stream's events from readers: what is deleted is gone
  // from the log too, and the log audit sees that (position gaps, broken chains).
  streamsHidingEvents(): Promise<readonly StreamHiding[]> {
    return Promise.resolve([]);
  }

  streamHiding(): Promise<StreamHiding | undefined> {
    return Promise.resolve(undefined);
  }

  stats(): SQLiteEventStoreStats {
    return {
      committedBatches: this.committedBatches,
      committedAppends: this.committedAppends,
      activeSubscriptions: this.subscriptions.size,
      eventsFedFromMemory: this.eventsFedFromMemory,
    };
  }

  readPage(after: number, filter: SubscriptionFilter, limit: number, read: PageRead): { head: number; events: StoredEvent[] } {
    return this.reading(() => this.readPageNow(after, filter, limit, read));
  }

  private readPageNow(after: number, filter: SubscriptionFilter, limit: number, read: PageRead): { head: number; events: StoredEvent[] } {
    const fed = read === 'live' ? this.tail.read(after, filter, limit) : undefined;
    if (fed) {
      this.eventsFedFromMemory += fed.events.length;
      return fed;
    }
    let head = this.head();
    // While a batch of this process is in flight, its rows can be in SQLite before its reply has
    // reached this thread (the writer commits, then answers a busy loop). A caught-up subscription
    // then reads no further than this process's last commit ended (or than it has read): the
    // reply wakes it to take the batch from memory, or, if another process wrote before the
    // batch, to read both from SQLite. A replay is never held back: it must not report "caught
    // up" short of a head it has seen.
    if (read !== 'replay' && this.inFlight) head = Math.min(head, Math.max(after, this.tail.end));
    const { streamPrefix, eventTypes } = filter;
    // Filtered in SQL: rows nobody reads are never copied out of SQLite nor parsed.
    const rows =
      eventTypes !== undefined
        ? this.statements.pageAfterOfTypes.all({ after, head, prefix: streamPrefix ?? '', types: eventTypes, limit })
        : streamPrefix === undefined
          ? this.statements.pageAfter.all(after, head, limit)
          : this.statements.pageAfterWithPrefix.all({ after, head, prefix: streamPrefix, limit });
    return { head, events: rows.map(fromEventTuple) };
  }

  detach(subscription: SQLiteSubscription): void {
    this.subscriptions.delete(subscription);
  }

  private head(): number {
    return this.statements.head.get()!.head;
  }

  private async drainAndClose(): Promise<void> {
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.flush();
    // Each settled batch starts the next one queued behind it, so wait until none is left.
    while (this.inFlight) await this.inFlight;
    this.closed = true;
    for (const subscription of [...this.subscriptions]) subscription.finish();
    await this.startedWriter?.close();
    this.db.close();
  }

  /** Sends what is queued as one batch, unless a batch is in flight: its reply sends the next. */
  private flush(): void {
    this.flushHandle = undefined;
    if (this.inFlight || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const request = { id: ++this.batchIds, recordedAt: this.clock().toISOString(), count: batch.length, appends: flattenAppends(batch) };
    this.inFlight = this.writer.commit(request).then(
      (reply) => {
        this.inFlight = undefined;
        this.settle(batch, reply, request.recordedAt);
        this.flush();
      },
      (error: Error) => {
        // The writer died with this batch in flight: it may or may not be committed, so nothing
        // is acknowledged; a client's retry (same event ids) finds out which.
        this.inFlight = undefined;
        this.soleWriter = false;
        this.tail.forget();
        for (const append of batch) append.reject(this.unavailable(error));
        this.flush();
      },
    );
  }

  private settle(batch: readonly PendingAppend[], reply: CommitReply, recordedAt: string): void {
    if (!reply.committed) {
      // Nothing of the batch was committed.
      this.soleWriter = false;
      const error = this.storeError(errorOf(reply.error));
      for (const append of batch) append.reject(error);
      return;
    }
    this.committedBatches += 1;
    // Committed: the write lock was this store's.
    this.lockedOutSince = undefined;
    this.soleWriter = !reply.othersWrote;
    let wrote = false;
    const outcomes = batch.map((append, index) => {
      const outcome = outcomeAt(reply, index);
      if (outcome.ok) {
        this.committedAppends += 1;
        wrote ||= outcome.wrote;
        append.resolve(outcome.result);
      } else {
        append.reject(this.storeError(errorOf(outcome.error)));
      }
      return outcome;
    });
    if (!wrote) return;
    this.diskFull = undefined;
    this.feedTail(batch, outcomes, reply, recordedAt);
    // Committed, so this thread's connection sees the rows: live subscriptions look now.
    for (const subscription of this.subscriptions) subscription.notify();
  }

  /**
   * Adds the batch's events, as this thread sent them, to the tail live subscriptions read. The
   * writer held the write lock from headBefore to headAfter, so they are every event in between.
   */
  private feedTail(batch: readonly PendingAppend[], outcomes: readonly AppendOutcome[], reply: CommittedReply, recordedAt: string): void {
    const events: CommittedEvent[] = [];
    for (let index = 0; index < batch.length; index++) {
      const outcome = outcomes[index]!;
      if (!outcome.ok || !outcome.wrote) continue;
      const { stream, events: written } = batch[index]!;
      const { nextRevision, position } = outcome.result;
      const firstPosition = outcome.firstPosition ?? -1;
      // An append's rows take consecutive positions (one connection inserting them one after the
      // other); should that ever not hold, the tail is given up rather than trusted.
      if (firstPosition + written.length - 1 !== position) {
        this.tail.forget();
        return;
      }
      for (let offset = 0; offset < written.length; offset++) {
        const { id, type, data, metadata } = written[offset]!;
        events.push({ position: firstPosition + offset, revision: nextRevision - written.length + 1 + offset, stream, id, type, data, metadata, recorded_at: recordedAt });
      }
    }
    this.tail.committed(reply.headBefore, reply.headAfter, events);
    let behind = reply.headAfter;
    for (const subscription of this.subscriptions) behind = Math.min(behind, subscription.liveCursor ?? behind);
    this.tail.trim(behind);
  }

  /**
   * A read that meets the file as it cannot be used (a damaged page, a file made read-only, an I/O
   * error) says so, naming the file and its setting, instead of SQLite's bare words: at start-up
   * one line for the operator, on a request 503 (EventStoreUnavailableError).
   */
  private reading<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw this.fileFault(error);
    }
  }

  private fileFault<E>(error: E): E | EventStoreUnavailableError {
    // Another process holding the file's lock past the busy timeout: the store is away for now (a
    // 503 to a client, exit 3 for the CLI), not a bug; writes go on once it lets go.
    if (isSQLiteLockedOut(error)) {
      return new EventStoreUnavailableError(this.path, `it is locked by another process, which held its lock longer than the ${BUSY_TIMEOUT_MS / 1000} s this service waits (a program writing EVENT_STORE_PATH, or a sqlite3 shell with a transaction open on it); nothing was written, retry once it lets go`);
    }
    return isSQLiteFileFault(error) ? new EventStoreFileError(this.path, sqliteFileProblem(error)) : error;
  }

  /** A full disk is told apart from other failures: it is the operator's to fix, and passes. */
  private storeError(error: Error): Error {
    if (isSQLiteLockedOut(error)) this.lockedOutSince ??= this.clock().toISOString();
    if (!isDiskFullError(error)) return this.fileFault(error);
    this.diskFull ??= { since: this.clock().toISOString(), reason: error.message };
    return new EventStoreFullError(this.path, error.message);
  }

  /** The full disk last seen, unless the file system has room again. */
  private stillFull(): { readonly since: string; readonly reason: string } | undefined {
    if (!this.diskFull || isInMemoryPath(this.path)) return this.diskFull;
    try {
      const { bavail, bsize } = statfsSync(dirname(this.path));
      if (bavail * bsize >= FREE_BYTES_TO_RETRY) this.diskFull = undefined;
    } catch {
      // No statfs here: the next successful append clears it.
    }
    return this.diskFull;
  }

  /**
   * Since when appends have been locked out, unless the write lock is free now: taken and let go at
   * once on this thread's connection, without waiting (a wait would stall this thread). Without
   * that look only an append would clear it, and a load balancer that trusts /health sends none.
   */
  private stillLockedOut(): string | undefined {
    if (this.lockedOutSince === undefined || this.db.inTransaction) return this.lockedOutSince;
    const busyTimeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 0');
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
      this.lockedOutSince = undefined;
    } catch {
      // Still held (or the file refuses more than a lock): the next append says which.
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } finally {
      this.db.pragma(`busy_timeout = ${busyTimeout}`);
    }
    return this.lockedOutSince;
  }

  private unavailable(failure: Error): EventStoreUnavailableError {
    return new EventStoreUnavailableError(this.path, `${failure.message}; restart the process`);
  }

  private assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  private closedError(): Error {
    return new Error(`The SQLite event store at ${this.path} is closed`);
  }
}

/** A statement whose rows come as EventTuples (better-sqlite3's raw mode). */
function tuples<Params extends unknown[]>(statement: Database.Statement<Params, EventRow>): Database.Statement<Params, EventTuple> {
  return statement.raw(true) as unknown as Database.Statement<Params, EventTuple>;
}

function prepareStatements(db: Database.Database) {
  const columns = EVENT_COLUMNS;
  return {
    readStreamForwards: tuples(db.prepare<[string, number, number], EventRow>(`SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`)),
    readWholeStreamForwards: tuples(db.prepare<[string, number], EventRow>(`SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC`)),
    readStreamBackwards: tuples(db.prepare<[string, number, number], EventRow>(`SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`)),
    readAllForwards: tuples(db.prepare<[number, number], EventRow>(`SELECT ${columns} FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?`)),
    readAllBackwards: tuples(db.prepare<[number, number], EventRow>(`SELECT ${columns} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`)),
    pageAfter: tuples(db.prepare<[number, number, number], EventRow>(`SELECT ${columns} FROM events WHERE position > ? AND position <= ? ORDER BY position ASC LIMIT ?`)),
    // substr/length rather than LIKE: LIKE is case-insensitive and treats % and _ as wildcards.
    pageAfterWithPrefix: tuples(
      db.prepare<[{ after: number; head: number; prefix: string; limit: number }], EventRow>(
        `SELECT ${columns} FROM events
       WHERE position > @after AND position <= @head AND substr(stream, 1, length(@prefix)) = @prefix
       ORDER BY position ASC LIMIT @limit`,
      ),
    ),
    // The types come as one JSON array, so one statement serves every set of types.
    pageAfterOfTypes: tuples(
      db.prepare<[{ after: number; head: number; prefix: string; types: string; limit: number }], EventRow>(
        `SELECT ${columns} FROM events
       WHERE position > @after AND position <= @head AND substr(stream, 1, length(@prefix)) = @prefix
         AND type IN (SELECT value FROM json_each(@types))
       ORDER BY position ASC LIMIT @limit`,
      ),
    ),
    head: db.prepare<[], { head: number }>('SELECT coalesce(max(position), 0) AS head FROM events'),
    ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
  };
}


/** Serialised before queueing, so a bad event rejects its own append and never its batch. */
function serializeEvent(event: NewEvent): SerializedEvent {
  if (typeof event.id !== 'string' || event.id === '') throw new TypeError('Every event needs a non-empty string id');
  // The port's ids are UUIDs; the nil one is no id at all (and KurrentDB refuses it too).
  if (event.id === '00000000-0000-0000-0000-000000000000') throw new TypeError('Event ids must not be the nil UUID');
  if (typeof event.type !== 'string' || event.type === '') throw new TypeError(`Event ${event.id} needs a non-empty type`);
  if (!isRecord(event.data)) throw new TypeError(`Event ${event.id}: data must be an object`);
  if (!isRecord(event.metadata)) throw new TypeError(`Event ${event.id}: metadata must be an object`);
  return { id: event.id, type: event.type, data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertStreamName(stream: string): void {
  if (typeof stream !== 'string' || stream === '') throw new TypeError('The stream name must be a non-empty string');
}

function assertExpectedRevision(expected: ExpectedRevision): void {
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return;
  if (!Number.isSafeInteger(expected) || expected < -1) {
    throw new RangeError(`expectedRevision must be a revision (an integer >= -1), 'no_stream', 'stream_exists' or 'any', not ${String(expected)}`);
  }
}

function limitOf(maxCount: number | undefined): number {
  if (maxCount === undefined) return NO_LIMIT;
  if (!Number.isSafeInteger(maxCount) || maxCount < 0) throw new RangeError(`maxCount must be an integer >= 0, not ${maxCount}`);
  return maxCount;
}
