import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuplicateEventIdError, WrongExpectedRevisionError } from '../event-store.errors';
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
import { SQLiteSubscription, type SubscriptionFilter, type SubscriptionSource } from './sqlite-subscription';

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
}

export interface SQLiteEventStoreStats {
  /** Write transactions committed: group commit puts many appends in one. */
  readonly committedBatches: number;
  /** Appends settled successfully, retries included. */
  readonly committedAppends: number;
  readonly activeSubscriptions: number;
}

export interface SQLiteEventStore extends EventStore {
  stats(): SQLiteEventStoreStats;
}

/** Bumped with each migration below; PRAGMA user_version holds the file's version. */
export const SQLITE_EVENT_STORE_SCHEMA_VERSION = 1;

const BUSY_TIMEOUT_MS = 5000;
const DEFAULT_POLL_INTERVAL_MS = 250;
// SQLite reads a negative LIMIT as "no limit".
const NO_LIMIT = -1;
const NO_UPPER_BOUND = Number.MAX_SAFE_INTEGER;

/**
 * The embedded event store: one SQLite file in WAL mode, so a projector in another process can
 * read while this one writes. Appends that arrive in the same tick share one transaction.
 */
export function getSQLiteEventStore(options: SQLiteEventStoreOptions): SQLiteEventStore {
  return new SQLiteEventStoreAdapter(options);
}

interface EventRow {
  position: number;
  id: string;
  stream: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded_at: string;
}

type EventLocation = Pick<EventRow, 'stream' | 'revision' | 'position'>;

interface SerializedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}

interface PendingAppend {
  readonly stream: string;
  readonly events: readonly SerializedEvent[];
  readonly expectedRevision: ExpectedRevision;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

type AppendOutcome = { ok: true; result: AppendResult; wrote: boolean } | { ok: false; error: unknown };

class SQLiteEventStoreAdapter implements SQLiteEventStore, SubscriptionSource {
  readonly pollIntervalMs: number;
  private readonly path: string;
  private readonly clock: () => Date;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly commitBatch: (batch: readonly PendingAppend[]) => AppendOutcome[];
  private readonly appendOne: (append: PendingAppend, recordedAt: string) => { result: AppendResult; wrote: boolean };
  private pending: PendingAppend[] = [];
  private flushHandle: NodeJS.Immediate | undefined;
  private readonly subscriptions = new Set<SQLiteSubscription>();
  private closed = false;
  private committedBatches = 0;
  private committedAppends = 0;

  constructor(options: SQLiteEventStoreOptions) {
    this.path = options.path;
    this.clock = options.clock ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.db = openDatabase(options.path, options.durability ?? 'full');
    this.statements = prepareStatements(this.db);

    // Called inside commitBatch, so better-sqlite3 wraps each append in a savepoint: an append
    // that fails leaves the batch's other appends intact.
    this.appendOne = this.db.transaction((append: PendingAppend, recordedAt: string) => this.writeAppend(append, recordedAt));
    const commitBatch = this.db.transaction((batch: readonly PendingAppend[]): AppendOutcome[] => {
      const recordedAt = this.clock().toISOString();
      return batch.map((append): AppendOutcome => {
        try {
          return { ok: true, ...this.appendOne(append, recordedAt) };
        } catch (error) {
          // SQLite rolled the whole transaction back (I/O error, disk full): fail the batch.
          if (!this.db.inTransaction) throw error;
          return { ok: false, error };
        }
      });
    });
    // IMMEDIATE takes the write lock up front: a deferred read-then-write could hit
    // SQLITE_BUSY_SNAPSHOT when another process writes in between.
    this.commitBatch = commitBatch.immediate;
  }

  async appendToStream(stream: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult> {
    this.assertOpen();
    const expectedRevision = options.expectedRevision;
    assertStreamName(stream);
    assertExpectedRevision(expectedRevision);
    const serialized = events.map(serializeEvent);
    const seen = new Set<string>();
    for (const event of serialized) {
      if (seen.has(event.id)) throw new DuplicateEventIdError(stream, event.id);
      seen.add(event.id);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.pending.push({ stream, events: serialized, expectedRevision, resolve, reject });
      // setImmediate rather than a microtask: appends issued after an await in the same turn join too.
      this.flushHandle ??= setImmediate(() => this.flush());
    });
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const { readStreamForwards, readStreamBackwards, readWholeStreamForwards } = this.statements;
    // A bound LIMIT costs SQLite about as much as the read itself; the common full read skips it.
    if (options.maxCount === undefined && options.direction !== 'backwards') {
      return readWholeStreamForwards.all(stream, options.fromRevision ?? 0).map(toStoredEvent);
    }
    const limit = limitOf(options.maxCount);
    const rows =
      options.direction === 'backwards'
        ? readStreamBackwards.all(stream, options.fromRevision ?? NO_UPPER_BOUND, limit)
        : readStreamForwards.all(stream, options.fromRevision ?? 0, limit);
    return rows.map(toStoredEvent);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = limitOf(options.maxCount);
    const rows =
      options.direction === 'backwards'
        ? this.statements.readAllBackwards.all(options.fromPosition ?? NO_UPPER_BOUND, limit)
        : this.statements.readAllForwards.all(options.fromPosition ?? 0, limit);
    return rows.map(toStoredEvent);
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): AsyncIterable<SubscriptionMessage> {
    this.assertOpen();
    const subscription = new SQLiteSubscription(this, options);
    if (subscription.active) this.subscriptions.add(subscription);
    return subscription;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.head();
  }

  async health(): Promise<EventStoreHealth> {
    if (this.closed) return { kind: 'sqlite', reachable: false, detail: this.path };
    try {
      this.statements.ping.get();
      return { kind: 'sqlite', reachable: true, detail: this.path };
    } catch {
      return { kind: 'sqlite', reachable: false, detail: this.path };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are written before the connection goes.
    if (this.flushHandle) clearImmediate(this.flushHandle);
    this.flush();
    this.closed = true;
    for (const subscription of [...this.subscriptions]) subscription.finish();
    this.db.close();
  }

  stats(): SQLiteEventStoreStats {
    return {
      committedBatches: this.committedBatches,
      committedAppends: this.committedAppends,
      activeSubscriptions: this.subscriptions.size,
    };
  }

  readPage(after: number, filter: SubscriptionFilter, limit: number): { head: number; events: StoredEvent[] } {
    const head = this.head();
    const { streamPrefix, eventTypes } = filter;
    // Filtered in SQL: rows nobody reads are never copied out of SQLite nor parsed.
    const rows =
      eventTypes !== undefined
        ? this.statements.pageAfterOfTypes.all({ after, head, prefix: streamPrefix ?? '', types: eventTypes, limit })
        : streamPrefix === undefined
          ? this.statements.pageAfter.all(after, head, limit)
          : this.statements.pageAfterWithPrefix.all({ after, head, prefix: streamPrefix, limit });
    return { head, events: rows.map(toStoredEvent) };
  }

  detach(subscription: SQLiteSubscription): void {
    this.subscriptions.delete(subscription);
  }

  private head(): number {
    return this.statements.head.get()!.head;
  }

  private flush(): void {
    this.flushHandle = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;

    let outcomes: AppendOutcome[];
    try {
      outcomes = this.commitBatch(batch);
    } catch (error) {
      // Nothing of the batch was committed.
      for (const append of batch) append.reject(error);
      return;
    }
    this.committedBatches += 1;
    let wrote = false;
    outcomes.forEach((outcome, index) => {
      if (outcome.ok) {
        this.committedAppends += 1;
        wrote ||= outcome.wrote;
        batch[index].resolve(outcome.result);
      } else {
        batch[index].reject(outcome.error);
      }
    });
    if (wrote) for (const subscription of this.subscriptions) subscription.notify();
  }

  /** One append, checked against the stream as it stands in this transaction. */
  private writeAppend(append: PendingAppend, recordedAt: string): { result: AppendResult; wrote: boolean } {
    const { stream, events, expectedRevision } = append;
    const { byId, lastOfStream, insert } = this.statements;

    if (events.length > 0) {
      const first = byId.get(events[0].id);
      if (first) return { result: this.confirmRetry(stream, events, first), wrote: false };
      for (const event of events.slice(1)) {
        if (byId.get(event.id)) throw new DuplicateEventIdError(stream, event.id);
      }
    }

    const last = lastOfStream.get(stream);
    const actual: StreamRevision = last ? last.revision : 'no_stream';
    if (!satisfies(expectedRevision, actual)) throw new WrongExpectedRevisionError(stream, expectedRevision, actual);

    // Nothing to write: report where the stream stands. A missing stream gives nextRevision -1
    // (accepted back as expectedRevision, meaning 'no_stream') and position 0 (nothing to wait for).
    if (events.length === 0) return { result: { nextRevision: last?.revision ?? -1, position: last?.position ?? 0 }, wrote: false };

    let revision = last ? last.revision : -1;
    let position = 0;
    for (const event of events) {
      revision += 1;
      position = Number(insert.run(event.id, stream, revision, event.type, event.data, event.metadata, recordedAt).lastInsertRowid);
    }
    return { result: { nextRevision: revision, position }, wrote: true };
  }

  /**
   * The first id is stored: a true retry stored all ids in this stream, in order, back to back.
   * Otherwise the error names the first id, as it always names the append's first stored id.
   */
  private confirmRetry(stream: string, events: readonly SerializedEvent[], first: EventLocation): AppendResult {
    let last = first;
    for (let index = 0; index < events.length; index++) {
      const stored = index === 0 ? first : this.statements.byId.get(events[index].id);
      if (!stored || stored.stream !== stream || stored.revision !== first.revision + index) {
        throw new DuplicateEventIdError(stream, events[0].id);
      }
      last = stored;
    }
    return { nextRevision: last.revision, position: last.position };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`The SQLite event store at ${this.path} is closed`);
  }
}

function openDatabase(path: string, durability: 'full' | 'normal'): Database.Database {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    mkdirSync(dirname(path), { recursive: true });
    // Create it ourselves so that a new file is owner-only; SQLite gives its -wal and -shm
    // files the database file's permissions.
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const db = new Database(path);
  try {
    // Wait for a lock held by another process (a projector, a second writer) instead of failing.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_EVENT_STORE_SCHEMA_VERSION) {
      throw new Error(`Event store schema version ${version} is newer than this code supports (${SQLITE_EVENT_STORE_SCHEMA_VERSION})`);
    }
    if (version < 1) {
      // AUTOINCREMENT: a position is never reused, even after the last event is deleted.
      db.exec(`
        CREATE TABLE IF NOT EXISTS events (
          position    INTEGER PRIMARY KEY AUTOINCREMENT,
          id          TEXT    NOT NULL UNIQUE,
          stream      TEXT    NOT NULL,
          revision    INTEGER NOT NULL,
          type        TEXT    NOT NULL,
          data        TEXT    NOT NULL,
          metadata    TEXT    NOT NULL,
          recorded_at TEXT    NOT NULL,
          UNIQUE (stream, revision)
        )
      `);
    }
    if (version !== SQLITE_EVENT_STORE_SCHEMA_VERSION) db.pragma(`user_version = ${SQLITE_EVENT_STORE_SCHEMA_VERSION}`);
  });
  // Two processes opening a new file at once: one migrates, the other waits and sees it done.
  run.immediate();
}

function prepareStatements(db: Database.Database) {
  const columns = 'position, id, stream, revision, type, data, metadata, recorded_at';
  return {
    insert: db.prepare<[string, string, number, string, string, string, string]>(
      'INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    byId: db.prepare<[string], EventLocation>('SELECT stream, revision, position FROM events WHERE id = ?'),
    lastOfStream: db.prepare<[string], Pick<EventRow, 'revision' | 'position'>>(
      'SELECT revision, position FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1',
    ),
    readStreamForwards: db.prepare<[string, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC LIMIT ?`,
    ),
    readWholeStreamForwards: db.prepare<[string, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision ASC`,
    ),
    readStreamBackwards: db.prepare<[string, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?`,
    ),
    readAllForwards: db.prepare<[number, number], EventRow>(`SELECT ${columns} FROM events WHERE position >= ? ORDER BY position ASC LIMIT ?`),
    readAllBackwards: db.prepare<[number, number], EventRow>(`SELECT ${columns} FROM events WHERE position <= ? ORDER BY position DESC LIMIT ?`),
    pageAfter: db.prepare<[number, number, number], EventRow>(
      `SELECT ${columns} FROM events WHERE position > ? AND position <= ? ORDER BY position ASC LIMIT ?`,
    ),
    // substr/length rather than LIKE: LIKE is case-insensitive and treats % and _ as wildcards.
    pageAfterWithPrefix: db.prepare<[{ after: number; head: number; prefix: string; limit: number }], EventRow>(
      `SELECT ${columns} FROM events
       WHERE position > @after AND position <= @head AND substr(stream, 1, length(@prefix)) = @prefix
       ORDER BY position ASC LIMIT @limit`,
    ),
    // The types come as one JSON array, so one statement serves every set of types.
    pageAfterOfTypes: db.prepare<[{ after: number; head: number; prefix: string; types: string; limit: number }], EventRow>(
      `SELECT ${columns} FROM events
       WHERE position > @after AND position <= @head AND substr(stream, 1, length(@prefix)) = @prefix
         AND type IN (SELECT value FROM json_each(@types))
       ORDER BY position ASC LIMIT @limit`,
    ),
    head: db.prepare<[], { head: number }>('SELECT coalesce(max(position), 0) AS head FROM events'),
    ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
  };
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    stream: row.stream,
    revision: row.revision,
    position: row.position,
    type: row.type,
    data: JSON.parse(row.data) as Record<string, unknown>,
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    recordedAt: row.recorded_at,
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

function satisfies(expected: ExpectedRevision, actual: StreamRevision): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 'no_stream';
    case 'stream_exists':
      return actual !== 'no_stream';
    default:
      // -1 is what an empty append to a missing stream returns as nextRevision.
      return expected === -1 ? actual === 'no_stream' : actual === expected;
  }
}
