import { refusalOf } from './read-side.savepoint';
import { EventStoreAccessDeniedError, EventStoreUnavailableError, filteredReadingLost, firstEventId, holdsAtLeastEvents, READ_REFUSED_ADVICE, readAllPages, redactCredentials, UnreadableEventError, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import { Client, Pool } from 'pg';
import { ALL_PROJECTIONS } from '../all-projections';
import type { ReadModelKey } from '../projection.types';
import type { ProjectionStatus, ReadModels } from '../runner/read-models.port';
import { PositionWaiters } from '../runner/position-waiters';
import { RunsElsewhereError } from '../runner/snapshot-follower';
import { recoveryPause } from '../runner/recovery-pause';
import { migrateReadSide } from './read-side.migrations';
import { KEEPALIVE, openReadSideClient, READ_CONNECT_TIMEOUT_MS, setUpSession } from './read-side.session';
import { QUERY_READ_TIMEOUT_MS } from './read-side.read-bounds';
import { postgresUnreachable } from './postgres-unreachable';
import { assertReadSideSchema, readSideSchemaProblem } from './read-side.schema-name';
import { READ_SIDE_EVENT_TYPES } from './read-side.fold';
import { DEFER_INDEXES_FROM, deferQueryIndexes, restoreQueryIndexes } from './read-side.indexes';
import { FoldError, ReadSideWriter, type WrittenEvent } from './read-side.writer';
import { UnreadableReadSideStateError } from './read-side.saved-state';
import { carryPrivileges, privilegesNotCarriedMessage } from './read-side.privileges';
import { repointDependentViews } from './read-side.dependent-views';
import { copyForeignIndexes, moveForeignObjects } from './read-side.foreign-objects';
import { assertMaySwapIn } from './read-side.permission';

// The projector of the PostgreSQL read side: follows the event log and writes every read model's
// rows, a batch of events and the checkpoint per transaction (read-side.writer.ts). One projector
// per schema: it holds a session advisory lock on its own connection, and writes only through that
// connection, so a second projector waits until the first is gone (and a projector whose
// connection died has lost the lock and cannot write any more). Killed at any point, it resumes
// from the last committed checkpoint: nothing counted twice, nothing skipped.

/** The six read models live in one schema; their names stay the API's (status, rebuild). */
export const READ_SIDE_NAMES = ALL_PROJECTIONS.map((projection) => projection.name);

export interface PostgresReadSideSettings {
  readonly url: string;
  readonly schema: string;
}

export interface PostgresProjectorOptions {
  /** Events per transaction while catching up (live, whatever has arrived is written at once). */
  readonly batchSize?: number;
  /** Opportunity records kept in memory between batches (the rest are read back). */
  readonly cacheSize?: number;
  /** Told while replaying up to the head (for progress bars). */
  readonly onProgress?: (progress: { position: number; head: number }) => void;
  /** A first fold of at least this many events makes the query indexes at its end (default DEFER_INDEXES_FROM). */
  readonly deferIndexesFrom?: number;
  /** Told once when another projector holds the schema's lock and this one waits. */
  readonly onWaitingForLock?: () => void;
  /** Told why the tables were emptied at start to be rebuilt from this log (they were built from another). */
  readonly onReset?: (reason: string) => void;
  /** A batch waiting this long to commit is a stall (default STALL_AFTER_MS): status() says why, onStall tells once. */
  readonly stallAfterMs?: number;
  /** Told once when the read models stall (what they wait for), and once when they move again. */
  readonly onStall?: (message: string) => void;
}

/**
 * How long a batch may take to commit before the projector says it is stalled. A batch of 20,000
 * events commits in about a second; minutes mean it waits (a lock someone holds on a table, a
 * server that does not answer). The projector keeps no statement timeout (WORK_SESSION_SQL): it
 * waits on, and says so.
 */
export const STALL_AFTER_MS = 120_000;

/** What a second connection sees of the projector's session: what it waits on, and who holds it up. */
const STALL_PROBE_SQL = `SELECT a.wait_event_type, a.wait_event,
  (SELECT string_agg(b.pid || ' (' || coalesce(nullif(b.application_name, ''), 'no application name') || ', ' || coalesce(b.state, 'unknown state') || ': ' || CASE WHEN length(b.query) > 120 THEN left(b.query, 120) || '…' ELSE b.query END || ')', ', ' ORDER BY b.pid)
     FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))) AS blockers,
  (SELECT string_agg(pid::text, ', ' ORDER BY pid) FROM unnest(pg_blocking_pids(a.pid)) pid) AS blocker_pids
FROM pg_stat_activity a WHERE a.pid = $1`;

/** Events per transaction while catching up, by default. */
export const CATCH_UP_BATCH = 20_000;

/**
 * The projector's commits need not wait for the disk: a batch and its checkpoint commit together
 * or not at all, so a server crash that loses the last commits only makes the projector fold those
 * events again from the older checkpoint — never twice, never skipped.
 */
async function relaxCommits(client: Client): Promise<void> {
  await client.query('SET synchronous_commit = off');
}

export const projectorLockKey = (schema: string) => `stagecraft-projector:${schema}`;


/**
 * A pool for the read side's readers (the API), with the schema name checked (it is spliced into
 * SQL). Its reads are bounded: opening a connection (READ_CONNECT_TIMEOUT_MS), and waiting for an
 * answer (QUERY_READ_TIMEOUT_MS, `bounds` in tests), so a server gone silent answers 503 in seconds.
 */
export function createReadSidePool(settings: PostgresReadSideSettings, max = 4, bounds: { readonly queryTimeoutMs?: number } = {}): Pool {
  assertSchemaName(settings.schema);
  const pool = new Pool({
    connectionString: settings.url,
    max,
    application_name: 'stagecraft',
    connectionTimeoutMillis: READ_CONNECT_TIMEOUT_MS,
    // Client-side: a server that does not answer at all (a network that drops packets) never sends
    // the statement timeout's cancellation either.
    query_timeout: bounds.queryTimeoutMs ?? QUERY_READ_TIMEOUT_MS,
    ...KEEPALIVE,
    onConnect: setUpSession,
  });
  // An idle connection that PostgreSQL ends (a restart, a failover, an operator's
  // pg_terminate_backend) is emitted here; unheard, Node ends the whole process. The pool has
  // already let it go, and the next query opens a new one (or fails, answered as unavailable).
  pool.on('error', () => undefined);
  // A connection lost while checked out (a query running on it: a failover, the network cut) is
  // emitted on the client itself, where the pool listens only while it is idle: unheard, that too
  // ends the process. The query under way fails with it (PROJECTIONS.UNAVAILABLE), and the pool
  // drops the client when it comes back.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function assertSchemaName(schema: string): void {
  const problem = readSideSchemaProblem(schema);
  if (problem !== undefined) throw new Error(`Not a schema name Stagecraft uses: "${schema}" ${problem}`);
}

/**
 * Why following stopped, while the projector follows again by itself: a server refusing the user
 * names EVENT_STORE_URL (no retry cures it: the operator corrects the user or the ACLs); the store
 * away, PostgreSQL's session lost, or anything else, is said as what it is, away for now.
 */
/**
 * A table, column, function or type of the read side missing (dropped or altered by hand:
 * undefined_table, undefined_column, undefined_function, undefined_object): waiting never brings
 * it back, and the schema is derived, so it is rebuilt from the log.
 */
function changedOutside(error: unknown): boolean {
  return ['42P01', '42703', '42883', '42704'].includes(String((error as { code?: unknown }).code));
}

/** What makes two such errors the same: the code and the object PostgreSQL names in its message. */
function changedOutsideSignature(error: unknown): string {
  return `${String((error as { code?: unknown }).code)} ${(error as Error).message}`;
}

/**
 * The stop for good when a rebuild did not cure what it was made for: the same object missing
 * again, met by the rebuild itself or before the projector wrote anything after it. Rebuilding
 * once more would meet it once more, for ever: what is missing is what this version's SQL names,
 * not something dropped by hand.
 */
function rebuildDidNotCure(schema: string, error: Error): string {
  return (
    `the read models' schema ${schema} met the same error again after it was rebuilt from the log (${redactCredentials(error.message)}, SQLSTATE ${String((error as { code?: unknown }).code)}): ` +
    `a rebuild does not cure it, so the projector stopped rather than rebuild again for ever. Its SQL names an object the schema does not have: ` +
    `a projector of another Stagecraft version than the one that laid out the schema, or an extension, function or type of the database it relies on changed. ` +
    `Run the projector of the version the schema is for (or restore what changed), then rebuild the read models`
  );
}

/**
 * start() refused because the rebuild it made for an object missing met an object missing again
 * (rebuildDidNotCure's words): an operator's to settle, not a bug, so start-up says it in one line.
 */
export class ReadSideRebuildDidNotCureError extends Error {
  constructor(
    readonly schema: string,
    override readonly cause: Error,
  ) {
    super(rebuildDidNotCure(schema, cause));
    this.name = 'ReadSideRebuildDidNotCureError';
  }
}

function describeFollowingLost(error: Error): string {
  if (error instanceof EventStoreAccessDeniedError) return `the event log could not be followed: ${error.message}; ${READ_REFUSED_ADVICE}; following again once it does`;
  // The session is who projects (it holds the schema's lock): its loss is said as such, not as the log's.
  const lock = "and the schema's lock with it: following the log again once it answers, after taking the lock again (a standby projector may hold it first)";
  // 57P01-57P05: the server ended it (pg_terminate_backend, a shutdown, an idle timeout a DBA set).
  if (/^57P0/.test(String((error as { code?: unknown }).code))) return `PostgreSQL ended the projector's session (${redactCredentials(error.message)}), ${lock}`;
  // The store away is said as the store's, in the words of the opening (describeOpeningFailed) and of the in-memory runner, not as PostgreSQL's.
  if (error instanceof EventStoreUnavailableError) return `the event log could not be followed: ${error.message}; following again once it answers`;
  if (postgresUnreachable(error) !== undefined) return `The projector lost its PostgreSQL session (${postgresUnreachable(error)}), ${lock}`;
  return `the event log could not be followed into PostgreSQL: ${error.message}; following again once it answers`;
}

/**
 * Why a recovery's opening failed: the event store's refusal or absence (it reads the log's start
 * and head) is the store's, not PostgreSQL's, whose name would send the operator to the wrong server.
 */
function describeOpeningFailed(error: unknown): string {
  if (error instanceof EventStoreAccessDeniedError) return `the event log could not be followed: ${error.message}; ${READ_REFUSED_ADVICE}; trying again`;
  if (error instanceof EventStoreUnavailableError) return `the event log could not be followed: ${error.message}; trying again`;
  return `PostgreSQL does not answer the projector (${(error as Error).message}); trying again`;
}

export class PostgresProjector implements ReadModels {
  private client?: Client;
  private reader?: Client;
  private writer?: ReadSideWriter;
  private readonly controller = new AbortController();
  private loop?: Promise<void>;
  private head = 0;
  private logId = '';
  private caughtUp = false;
  private rebuilding = false;
  private readonly waiters = new PositionWaiters();
  /** Serialises live batches with a rebuild's final swap. */
  private turn: Promise<unknown> = Promise.resolve();
  private stopped?: string;
  /** The stop is a lost connection, followed again by recover(): it passes by itself. */
  private stoppedRecovering = false;
  /** Ends the follow loop under way as a lost connection does (it then follows again from the checkpoint). */
  private interruptFollowing?: (error: Error) => void;
  /** Following again after a lost connection (recover), while it lasts. */
  private recovery?: Promise<void>;
  /** What ended following, or the last recovery's opening: the event store's failures leave PostgreSQL's session as it is. */
  private lostTo?: unknown;
  /** The schema was changed outside Stagecraft (a table dropped by hand): the next opening rebuilds it first. */
  private changedBy?: Error;
  /**
   * The last automatic rebuild for such an error: what it was (changedOutsideSignature) and the
   * position the projector followed on from. The same error again before any batch after it is
   * no change made by hand, and stops for good (rebuildDidNotCure) instead of rebuilding again.
   */
  private rebuiltFor?: { signature: string; position: number };
  /** The session (or the reader's) ended or failed since it was opened: the lock may be gone with it. */
  private sessionLost = false;
  /** When the batch committing now began to (undefined: none is). */
  private committingSince?: number;
  /** Why the read models do not move (a batch waiting past stallAfterMs), until it commits. */
  private stall?: string;
  private stallProbe?: Promise<void>;
  private stallWatch?: NodeJS.Timeout;
  onFailure?: (reason: string) => void;

  constructor(
    private readonly store: EventStore,
    private readonly settings: PostgresReadSideSettings,
    private readonly options: PostgresProjectorOptions = {},
  ) {
    assertSchemaName(settings.schema);
  }

  /** Takes the lock (waiting for another projector to go), migrates, and follows the log; resolves once caught up. */
  async start(): Promise<void> {
    this.watchForStalls();
    await (await this.open()).caughtUp;
  }

  /** Looks, now and then, whether the batch committing has waited past its bound (a stall). */
  private watchForStalls(): void {
    const after = this.options.stallAfterMs ?? STALL_AFTER_MS;
    this.stallWatch ??= setInterval(() => {
      const since = this.committingSince;
      if (since === undefined || this.stall !== undefined || this.stallProbe !== undefined || Date.now() - since < after) return;
      this.stallProbe = this.probeStall(since).finally(() => (this.stallProbe = undefined));
    }, Math.max(50, Math.min(after / 2, 10_000)));
    this.stallWatch.unref();
  }

  /**
   * Says why the batch begun at `since` has not committed, as a second connection sees the
   * projector's session: waiting for a lock (whose, doing what), or for something else.
   */
  private async probeStall(since: number): Promise<void> {
    const pid = (this.client as unknown as { processID?: number } | undefined)?.processID;
    const waitedMs = Date.now() - since;
    const waited = `the projector's batch has not committed for ${waitedMs < 10_000 ? `${waitedMs} ms` : `${Math.round(waitedMs / 1000)} s`} while the log is ahead (checkpoint ${this.position()}, head ${this.head})`;
    let why: string;
    const probe = new Client({ connectionString: this.settings.url, application_name: 'stagecraft-projector-probe', connectionTimeoutMillis: STALL_PROBE_TIMEOUT_MS, query_timeout: STALL_PROBE_TIMEOUT_MS, ...KEEPALIVE });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      const { rows } = await probe.query<{ wait_event_type: string | null; wait_event: string | null; blockers: string | null; blocker_pids: string | null }>(STALL_PROBE_SQL, [pid ?? 0]);
      const row = rows[0];
      if (row?.blockers) {
        why = `it waits for a lock (${row.wait_event_type}: ${row.wait_event}) held by PostgreSQL session ${row.blockers}; end that session's transaction, or SELECT pg_terminate_backend(${row.blocker_pids}) to end it`;
      } else if (row?.wait_event_type) {
        why = `its session waits on ${row.wait_event_type}: ${row.wait_event} (pg_stat_activity, pid ${pid})`;
      } else {
        why = `its session (pid ${pid}) waits on nothing PostgreSQL names: the connection may be lost without a word (the network), which TCP keepalive notices in time`;
      }
    } catch (error) {
      why = `PostgreSQL does not answer a second connection either (${redactCredentials((error as Error).message)})`;
    } finally {
      await probe.end().catch(() => undefined);
    }
    // Committed meanwhile: nothing to say.
    if (this.committingSince !== since) return;
    this.stall = `${waited}: ${why}`;
    this.options.onStall?.(`The read models in schema ${this.settings.schema} are stalled: ${this.stall}`);
  }

  /**
   * start()'s work: connects, takes the lock, migrates and starts following; resolves once
   * following (in an object: a promise returned from an async function would be waited for).
   * With `keepSession` (a recovery from the event store's failure), the session standing, with
   * its lock, is used as it is.
   */
  private async open(keepSession = false, changedBy?: Error): Promise<{ caughtUp: Promise<void> }> {
    if (!keepSession) await this.connect();
    const client = this.client!;
    const reader = this.reader!;
    // The writer in use (its checkpoint, what status() says) is replaced only once the new one has
    // read the checkpoint back: a recovery whose opening fails (the log refused or away) still
    // says where the read models stand, not position 0.
    const writer = new ReadSideWriter(client, this.settings.schema, this.options.cacheSize, reader);
    if (changedBy !== undefined) await this.rebuildChanged(changedBy);
    let rebuiltFor = changedBy;
    try {
      await this.prepare(writer);
    } catch (error) {
      // The checkpoint (or a table it is read with) dropped or altered by hand: a start would stop
      // on it for good. The schema is derived: rebuilt from the log, then read back once more.
      if (changedBy !== undefined || !changedOutside(error)) throw error;
      try {
        await this.rebuildChanged(error as Error);
        await this.prepare(writer);
      } catch (again) {
        // The rebuild, or reading the rebuilt schema back, met an object missing: no rebuild
        // cures that (the recovery's stop for good says the same when following).
        if (changedOutside(again)) throw new ReadSideRebuildDidNotCureError(this.settings.schema, again as Error);
        throw again;
      }
      rebuiltFor = error as Error;
    }
    this.writer = writer;
    // One rebuild per error, whoever made it (this opening, or the recovery that called it): the
    // same error met again before any batch after it stops for good instead of rebuilding again.
    if (rebuiltFor !== undefined) this.rebuiltFor = { signature: changedOutsideSignature(rebuiltFor), position: this.position() };
    // A first fold of a long log: the query indexes are made once at the end (read-side.indexes.ts).
    // Long in events: the head's position is no count of them (KurrentDB's are byte offsets).
    if (writer.position === 0 && (await holdsAtLeastEvents(this.store, this.options.deferIndexesFrom ?? DEFER_INDEXES_FROM, { upTo: this.head }))) {
      await deferQueryIndexes(client, this.settings.schema);
      writer.deferSummaries();
    }
    let markCaughtUp!: () => void;
    const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
    this.loop = this.follow(markCaughtUp).catch(async (error: Error) => {
      this.lostTo = error;
      if (!this.controller.signal.aborted) {
        if (error instanceof UnreadableEventError) {
          // An event of the log that cannot be read (altered outside Stagecraft): reading it again
          // reads the same bytes, so following again would retry for ever. A stop for good, as the
          // in-memory models make it, until the log is restored.
          this.stopped = `${error.message}: restore the log from a copy, then rebuild`;
          this.stoppedRecovering = false;
          await this.writer?.fail(this.stopped).catch(() => undefined);
        } else if (refusedValue(error)) {
          // PostgreSQL refused what a batch wrote (a value its types cannot hold): every retry, and
          // a rebuild, would stop on the same event. Recorded in the checkpoint, so that every API
          // instance answers 503 PROJECTIONS.FAILED instead of figures that no longer move.
          this.stopped = `the events after position ${this.position()} could not be written into PostgreSQL, which refused a value of theirs (${error.message}); a rebuild stops at the same event`;
          this.stoppedRecovering = false;
          await this.writer?.fail(this.stopped).catch(() => undefined);
        } else if (changedOutside(error) && this.rebuiltFor?.signature === changedOutsideSignature(error) && this.position() <= this.rebuiltFor.position) {
          // Met again right after a rebuild for it: the read side's own SQL names what the schema
          // lacks, and every rebuild would end here again.
          this.stopped = rebuildDidNotCure(this.settings.schema, error);
          this.stoppedRecovering = false;
          await this.writer?.fail(this.stopped).catch(() => undefined);
        } else if (changedOutside(error)) {
          // A table the batch writes dropped or altered by hand: following again would meet it
          // again for ever. The recovery rebuilds the schema from the log first, then follows on.
          this.stopped = `the read models' schema ${this.settings.schema} was changed outside Stagecraft (${error.message}): rebuilding them from the log, then following it again`;
          this.stoppedRecovering = true;
          this.changedBy = error;
          this.recovery ??= this.recover();
        } else {
          // A lost connection, PostgreSQL restarting or failing over: the checkpoint it kept says
          // where to go on from, once it answers again (read-side.writer.ts: nothing twice).
          this.stopped = describeFollowingLost(error);
          this.stoppedRecovering = true;
          this.recovery ??= this.recover();
        }
        this.onFailure?.(this.stopped);
      }
      markCaughtUp();
    });
    return { caughtUp };
  }

  /** Connects, takes the schema's lock (waiting for another projector to go), migrates, and opens the reader's connection. */
  private async connect(): Promise<void> {
    const client = await openReadSideClient(this.settings.url, 'stagecraft-projector');
    this.client = client;
    this.watchSession(client);
    const key = projectorLockKey(this.settings.schema);
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    if (!rows[0]!.locked) {
      this.options.onWaitingForLock?.();
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
    }
    await migrateReadSide(client as never, this.settings.schema);
    await relaxCommits(client);
    // Records are read back through a second connection, so the next batch can fold while one commits.
    const reader = await openReadSideClient(this.settings.url, 'stagecraft-projector-reader');
    this.reader = reader;
    this.watchSession(reader);
    this.sessionLost = false;
  }

  /** Notes a connection of this projector's session ending or failing (one since replaced is not this session's). */
  private watchSession(connection: Client): void {
    const lost = () => {
      if (connection === this.client || connection === this.reader) this.sessionLost = true;
    };
    connection.on('error', lost);
    connection.on('end', lost);
  }

  /**
   * Follows the log again from the checkpoint, after a pause that doubles from 0.5 s up to 30 s.
   * When only the event store failed (it refuses the user, or is away) and PostgreSQL's session
   * still stands, the session is kept, with the schema's lock: only the subscription is retried,
   * so a long refusal neither reconnects nor retakes the lock at every attempt (nor lets a standby
   * projector take over in between). Otherwise the connections are opened again, the lock taken
   * again first, so a projector that took over meanwhile keeps it. Until then, failure() says why.
   */
  private async recover(): Promise<void> {
    const signal = this.controller.signal;
    try {
      for (let attempt = 0; !signal.aborted; attempt++) {
        await recoveryPause(attempt, signal);
        if (signal.aborted) return;
        const keepSession = this.mayKeepSession();
        if (!keepSession) await this.closeConnections();
        const changedBy = this.changedBy;
        try {
          await this.open(keepSession, changedBy);
          this.changedBy = undefined;
          this.stopped = undefined;
          return;
        } catch (error) {
          this.lostTo = error;
          if ((changedBy !== undefined && changedOutside(error)) || error instanceof ReadSideRebuildDidNotCureError) {
            // The rebuild itself (a schema made anew from the log), or reading it back, met an
            // object missing: no rebuild cures that, and trying again would rebuild for ever.
            // (Without changedBy, the opening found the object missing, rebuilt, and met it again.)
            this.changedBy = undefined;
            this.stopped = error instanceof ReadSideRebuildDidNotCureError ? error.message : rebuildDidNotCure(this.settings.schema, error as Error);
            this.stoppedRecovering = false;
            await this.writer?.fail(this.stopped).catch(() => undefined);
            this.onFailure?.(this.stopped);
            return;
          }
          this.stopped = describeOpeningFailed(error);
          this.stoppedRecovering = true;
        }
      }
    } finally {
      this.recovery = undefined;
    }
  }

  private mayKeepSession(): boolean {
    const storeFailed = this.lostTo instanceof EventStoreAccessDeniedError || this.lostTo instanceof EventStoreUnavailableError;
    return storeFailed && this.client !== undefined && this.reader !== undefined && !this.sessionLost;
  }

  private async closeConnections(): Promise<void> {
    await this.client?.end().catch(() => undefined); // ends the session: the lock goes with it
    await this.reader?.end().catch(() => undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.stallWatch);
    this.controller.abort();
    // A recovery may be waiting on PostgreSQL (a connection, the lock): closing ends the wait.
    if (this.recovery) await this.closeConnections();
    await this.recovery;
    await this.loop?.catch(() => undefined);
    this.waiters.releaseAll();
    await this.closeConnections();
  }

  model<Model>({ name }: ReadModelKey<Model>): Model {
    throw new Error(`The ${name} read model lives in PostgreSQL (READ_MODELS_URL); ask the analytics queries`);
  }

  names(): string[] {
    return [...READ_SIDE_NAMES];
  }

  position(): number {
    return this.writer?.position ?? 0;
  }

  isCaughtUp(): boolean {
    return this.caughtUp;
  }

  failure(): string | undefined {
    return this.writer?.current.failed ?? this.stopped ?? undefined;
  }

  status(): ProjectionStatus[] {
    const checkpoint = this.position();
    const failed = this.failure();
    // A stop recorded in the checkpoint stays until a rebuild; a lost connection passes by itself.
    const recovering = this.writer?.current.failed == null && this.stopped !== undefined && this.stoppedRecovering;
    const stalled = this.stall;
    return READ_SIDE_NAMES.map((name) => ({ name, checkpoint, lag: Math.max(0, this.head - checkpoint), rebuilding: this.rebuilding, ...(failed !== undefined ? { failed, ...(recovering ? { recovering: true as const } : {}) } : {}), ...(stalled !== undefined ? { stalled } : {}) }));
  }

  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position() >= position) return Promise.resolve(true);
    return this.waiters.wait(position, timeoutMs);
  }

  /**
   * Rebuilds every read model from position 0 into a shadow schema while the live one serves,
   * then swaps the two in one transaction (the API's queries name the schema, so the next one
   * reads the rebuilt tables). `name` only says which read model was asked for: all six share the
   * schema and are rebuilt together.
   */
  async rebuild(name: string, onProgress?: (progress: { position: number; head: number }) => void): Promise<void> {
    if (!READ_SIDE_NAMES.includes(name)) throw new Error(`No projection "${name}"`);
    if (this.rebuilding) throw new Error('The read models are already being rebuilt');
    if (!this.writer) throw new Error('The projector has not started');
    this.rebuilding = true;
    try {
      await rebuildIntoShadow(this.store, this.settings, {
        target: () => this.position(),
        onProgress: (progress) => onProgress?.({ ...progress, head: this.head }),
        // The swap happens between two live batches; the live writer then reads the new schema back.
        // Once swapped, the rebuild is done whatever that read meets: a live side that lost its
        // connection (in its recovery pause, or waiting for its lock) reads the rebuilt schema when it
        // opens again; one whose read fails otherwise is made to follow again, as after a lost connection.
        swap: (swapIn) => this.exclusively(async () => {
          await swapIn();
          await this.writer!.load().catch((error: Error) => this.interruptFollowing?.(error));
          // A stop on a refused value lived in the old schema's checkpoint: from the swap on, the
          // projector follows again by itself (below), so the status says it recovers, not that an
          // operator must act (a value still in the log stops it there again, recorded anew).
          if (this.stopped !== undefined && !this.stoppedRecovering) {
            this.stopped = `the read models were rebuilt after PostgreSQL refused a value of the log; following the log again from the rebuilt schema`;
            this.stoppedRecovering = true;
          }
        }),
        logId: () => this.logId,
        onRetiredKept: (schema, error) => this.options.onReset?.(`The old schema ${schema}, which a rebuild swapped out, could not be dropped (${error instanceof Error ? error.message : String(error)}): the next rebuild tries again, or drop it with DROP SCHEMA ${schema} CASCADE`),
        onWarning: (message) => this.options.onReset?.(message),
        deferIndexesFrom: this.options.deferIndexesFrom,
      });
      // Stopped on a value PostgreSQL refused: the rebuilt schema holds what came before it, and
      // says nothing of the stop. Following again records it again if the log still holds it.
      if (this.stopped !== undefined && !this.controller.signal.aborted) this.recovery ??= this.recover();
    } finally {
      this.rebuilding = false;
    }
  }

  /**
   * Rebuilds the read side into the shadow schema and swaps it in, while nothing follows the log:
   * its live schema was changed outside Stagecraft (`error` says how), and it is derived.
   */
  private async rebuildChanged(error: Error): Promise<void> {
    const schema = this.settings.schema;
    this.options.onReset?.(`The read models in schema ${schema} are rebuilt from this event log into ${schema}_rebuild, then swapped in: the schema was changed outside Stagecraft (${error.message})`);
    this.rebuilding = true;
    try {
      this.logId = await firstEventId(this.store);
      this.head = await this.store.headPosition();
      await rebuildIntoShadow(this.store, this.settings, {
        target: () => this.head,
        swap: (swapIn) => swapIn(),
        logId: () => this.logId,
        onRetiredKept: (retired, dropError) => this.options.onReset?.(`The old schema ${retired}, which a rebuild swapped out, could not be dropped (${dropError instanceof Error ? dropError.message : String(dropError)}): the next rebuild tries again, or drop it with DROP SCHEMA ${retired} CASCADE`),
        onWarning: (message) => this.options.onReset?.(message),
        deferIndexesFrom: this.options.deferIndexesFrom,
      });
    } finally {
      this.rebuilding = false;
    }
  }

  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work, work);
    this.turn = next.catch(() => undefined);
    return next;
  }

  // Tables built from another log (the store was replaced, or restored from an older backup and
  // maybe written on since) are emptied and rebuilt rather than mixed with this one's events.
  private async prepare(writer: ReadSideWriter): Promise<void> {
    this.logId = await firstEventId(this.store);
    this.head = await this.store.headPosition();
    let checkpoint;
    try {
      checkpoint = await writer.load();
    } catch (error) {
      if (!(error instanceof UnreadableReadSideStateError)) throw error;
      this.options.onReset?.(`The read models in schema ${this.settings.schema} are rebuilt from this event log: ${error.message}`);
      await writer.reset(this.logId);
      return;
    }
    if (checkpoint.position === 0) return;
    const why =
      checkpoint.logId !== this.logId
        ? 'they were built from another event log'
        : checkpoint.position > this.head
          ? `their checkpoint (position ${checkpoint.position}) is past the log's head (${this.head})`
          : await filteredReadingLost(this.store, checkpoint.anchor, { checkpoint: checkpoint.position, eventTypes: READ_SIDE_EVENT_TYPES });
    if (why === undefined) return;
    this.options.onReset?.(`The read models in schema ${this.settings.schema} are rebuilt from this event log: ${why}`);
    await writer.reset(this.logId);
  }

  private async follow(markCaughtUp: () => void): Promise<void> {
    const writer = this.writer!;
    // Large batches while catching up: fewer round trips, and a row changed by several events of a
    // batch is written once. Memory stays bounded by it (the queue holds at most two batches).
    const batchSize = this.options.batchSize ?? CATCH_UP_BATCH;
    let batch: QueuedEvent[] = [];
    let passed = 0;
    // A pipeline of two: batch n+1 folds (CPU here) while batch n commits (work in PostgreSQL).
    // Batches still commit one at a time, in order, each with its checkpoint.
    let committing: Promise<void> | undefined;
    const committed = async () => {
      const pending = committing;
      committing = undefined;
      await pending;
    };
    const flush = async () => {
      if (batch.length === 0 && passed <= writer.position) return;
      const events = batch;
      batch = [];
      if (this.logId === '' && events.length > 0) this.logId = events[0]!.id;
      if (writer.current.failed) return; // stopped on an event: the tables stay as they were, visibly
      let folded;
      try {
        folded = await writer.fold(events, passed, this.logId);
      } catch (error) {
        if (!(error instanceof FoldError)) throw error;
        await committed();
        await writer.load();
        await writer.fail(error.message);
        this.onFailure?.(error.message);
        return;
      }
      await committed();
      if (!folded) return;
      const batchDone = this.exclusively(async () => {
        const since = Date.now();
        this.committingSince = since;
        let committed = false;
        try {
          await writer.commit(folded);
          committed = true;
        } finally {
          if (this.committingSince === since) this.committingSince = undefined;
          if (this.stall !== undefined) {
            this.stall = undefined;
            // Ended otherwise (its session ended by an operator, the projector stopping): the failure, if any, says what follows.
            this.options.onStall?.(`The read models in schema ${this.settings.schema} ${committed ? 'move again: the batch that waited has committed' : 'no longer wait: the batch that waited ended without committing'}`);
          }
        }
      }).then(() => {
        if (!this.caughtUp) this.options.onProgress?.({ position: writer.position, head: this.head });
        this.wakeWaiters();
      });
      batchDone.catch(() => undefined); // awaited by the next flush or at the end
      committing = batchDone;
    };
    // A small pump decouples reading from writing: while a batch commits, the next one gathers
    // (bounded, so a fast store cannot fill memory).
    const queue: ({ kind: 'event'; event: QueuedEvent } | { kind: 'passed'; position: number; caughtUp: boolean })[] = [];
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    let ended = false;
    let failed: unknown;
    // The subscription ends with this loop, whichever way it ends (a failed batch too: a recovered
    // projector follows with a subscription of its own).
    const subscription = new AbortController();
    const endSubscription = () => subscription.abort();
    this.controller.signal.addEventListener('abort', endSubscription, { once: true });
    // A connection lost while the log is quiet (a restart, a failover, the network) fails no batch:
    // heard here, it ends this loop at once, and the projector follows again (the lock went with
    // the session: it is taken again), instead of holding nothing until the next event comes.
    const connections = [this.client!, this.reader!];
    const lost = (error: Error) => {
      failed ??= error;
      wake?.();
    };
    for (const connection of connections) connection.on('error', lost);
    this.interruptFollowing = lost;
    const pump = (async () => {
      try {
        for await (const message of this.store.subscribeToAll({ fromPosition: writer.position, eventTypes: [...READ_SIDE_EVENT_TYPES], signal: subscription.signal })) {
          queue.push(message.type === 'event' ? { kind: 'event', event: foldedPart(message.event) } : { kind: 'passed', position: message.position, caughtUp: message.type === 'caughtUp' });
          wake?.();
          while (queue.length >= batchSize * 2 && !subscription.signal.aborted) await new Promise<void>((resolve) => (room = resolve));
        }
      } catch (error) {
        if (!subscription.signal.aborted) failed = error;
      } finally {
        ended = true;
        wake?.();
      }
    })();
    try {
      while (!this.controller.signal.aborted) {
        if (queue.length === 0) {
          if (failed) throw failed;
          if (ended) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          continue;
        }
        let caughtUpNow = false;
        // Taken in one splice: shift() one by one moves the whole queue each time (quadratic in a batch).
        let taken = 0;
        while (taken < queue.length && batch.length < batchSize) {
          const message = queue[taken++]!;
          if (message.kind === 'event') {
            if (message.event.position > writer.position) batch.push(message.event);
            this.head = Math.max(this.head, message.event.position);
          } else {
            passed = Math.max(passed, message.position);
            this.head = Math.max(this.head, message.position);
            if (message.caughtUp) caughtUpNow = true;
          }
        }
        queue.splice(0, taken);
        room?.();
        room = undefined;
        if (batch.length > 0) passed = Math.max(passed, batch[batch.length - 1]!.position);
        // While catching up, batches fill; once live, whatever has arrived is written at once.
        if (batch.length >= batchSize || queue.length === 0 || caughtUpNow) await flush();
        // Live, or nothing more to read yet: what was folded is written before waiting for more.
        if (queue.length === 0 || caughtUpNow) await committed();
        if (caughtUpNow && !this.caughtUp) {
          await this.exclusively(() => restoreQueryIndexes(this.client!, this.settings.schema, writer, this.reader));
          this.caughtUp = true;
        }
        if (caughtUpNow) markCaughtUp();
      }
      await committed();
    } finally {
      for (const connection of connections) connection.removeListener('error', lost);
      if (this.interruptFollowing === lost) this.interruptFollowing = undefined;
      subscription.abort();
      room?.();
      this.controller.signal.removeEventListener('abort', endSubscription);
      await pump;
    }
  }

  private wakeWaiters(): void {
    this.waiters.reached(this.position());
  }
}

/**
 * Folds the whole log into `<schema>_rebuild` (dropped and made anew), chasing `target()` until
 * it has it, then swaps it for the live schema in one transaction and drops the old one.
 */
export async function rebuildIntoShadow(
  store: EventStore,
  settings: PostgresReadSideSettings,
  how: {
    target: () => number;
    onProgress?: (progress: { position: number }) => void;
    swap: (swapIn: () => Promise<void>) => Promise<void>;
    logId: () => string;
    /** The old schema could not be dropped after the swap (it is left for an operator to drop). */
    onRetiredKept?: (schema: string, error: unknown) => void;
    /** Told what the swap could not do for the operator (default privileges, analysts' views it could not carry). */
    onWarning?: (message: string) => void;
    batchSize?: number;
    deferIndexesFrom?: number;
  },
): Promise<number> {
  const live = settings.schema;
  const shadow = `${live}_rebuild`;
  const client = await openReadSideClient(settings.url, 'stagecraft-rebuild');
  const reader = await openReadSideClient(settings.url, 'stagecraft-rebuild-reader').catch(async (error: unknown) => {
    await client.end().catch(() => undefined);
    throw error;
  });
  try {
    // Only a shadow this read side made is dropped (another deployment's schema may bear the name).
    await assertReadSideSchema(client, shadow);
    // The swap renames the live schema away: a role that may not is told now, not after the fold.
    await assertMaySwapIn(client, live);
    await client.query(`DROP SCHEMA IF EXISTS ${shadow} CASCADE`);
    // Old schemas an earlier rebuild could not drop (a reader held them, the process was killed
    // between the swap and the drop): each a whole copy of the read side, dropped now if they can be.
    await dropRetiredSchemas(client, live, (schema, error) => how.onRetiredKept?.(schema, error));
    await migrateReadSide(client as never, shadow);
    await relaxCommits(client);
    const writer = new ReadSideWriter(client, shadow, undefined, reader);
    await writer.load();
    // Nobody reads the shadow schema: its query indexes are made once, after a fold long in events.
    if (await holdsAtLeastEvents(store, how.deferIndexesFrom ?? DEFER_INDEXES_FROM, { upTo: how.target() })) {
      await deferQueryIndexes(client, shadow);
      writer.deferSummaries();
    }
    let logId = how.logId();
    const catchUp = async () => {
      // Page n+1 folds while page n commits, as in the projector.
      let committing: Promise<void> | undefined;
      try {
        for await (const page of readAllPages(store, { afterPosition: writer.position, pageSize: how.batchSize ?? CATCH_UP_BATCH })) {
          const target = how.target();
          // Only what the fold reads is kept while the page folds and commits (foldedPart).
          const events = page.filter((event) => event.position <= target).map(foldedPart);
          if (logId === '' && events.length > 0) logId = events[0]!.id;
          const folded = await writer.fold(events, 0, logId);
          await committing;
          committing = undefined;
          if (folded) {
            committing = writer.commit(folded).then(() => how.onProgress?.({ position: writer.position }));
            committing.catch(() => undefined);
          }
          if (page[page.length - 1]!.position >= target) break;
        }
      } finally {
        await committing;
      }
    };
    await catchUp();
    await restoreQueryIndexes(client, shadow, writer, reader);
    // Indexes a DBA added to the live tables, made again on the rebuilt ones while the live schema serves.
    for (const warning of await copyForeignIndexes(client, live, shadow)) how.onWarning?.(warning);
    let position = 0;
    const retired = `${live}_retired_${Date.now()}`;
    await how.swap(async () => {
      // Between two live batches: fold what the live side took meanwhile, then swap.
      await catchUp();
      const target = how.target();
      if (writer.position < target) await writer.apply([], target, logId);
      position = writer.position;
      await client.query('BEGIN');
      try {
        // The rebuilt objects are new: the grants a DBA gave on the live ones go with the swap.
        const notCarried = await carryPrivileges(client, live, shadow);
        if (notCarried.length > 0) how.onWarning?.(privilegesNotCarriedMessage(live, shadow, notCarried));
        // What else the live schema holds that the read side did not make goes along (a table of notes, a view).
        for (const warning of await moveForeignObjects(client, live, shadow)) how.onWarning?.(warning);
        // Readers cache the catalog by state_revision, which the rebuilt schema counted from 0: one
        // equal to the live one's would leave a reader on the catalog it held before the swap.
        const revisionRefused = await refusalOf(client, `UPDATE ${shadow}.checkpoint SET state_revision = GREATEST(state_revision, (SELECT state_revision FROM ${live}.checkpoint)) + 1`);
        // A live checkpoint dropped or altered by hand (the schema rebuilt for that) has no revision
        // to pass: one from the clock, in milliseconds, passes any a reader can have cached before.
        if (revisionRefused !== undefined) await client.query(`UPDATE ${shadow}.checkpoint SET state_revision = GREATEST(state_revision, (extract(epoch FROM clock_timestamp()) * 1000)::bigint) + 1`);
        await client.query(`ALTER SCHEMA ${live} RENAME TO ${retired}`);
        await client.query(`ALTER SCHEMA ${shadow} RENAME TO ${live}`);
        // Analysts' views elsewhere still read the old tables, and would be dropped with them.
        for (const warning of await repointDependentViews(client, retired, live)) how.onWarning?.(warning);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    });
    // Dropped once the live side follows again: the drop waits for every session still reading the
    // old tables (an analyst's open transaction), which must not hold the live projector meanwhile.
    // The swap is done and the live side follows the rebuilt schema: a drop that fails (cancelled,
    // a deadlock with a reader) leaves the old schema behind, it does not make the rebuild a failure.
    // Bounded: a session left idle in a transaction would otherwise hold the rebuild (and the next
    // one, refused while it lasts) for ever; the schema left behind is dropped by the next rebuild.
    await client.query(`SET lock_timeout = '${RETIRED_DROP_WAIT_MS}ms'`);
    await client.query(`DROP SCHEMA ${retired} CASCADE`).catch((error: unknown) => how.onRetiredKept?.(retired, error));
    how.onProgress?.({ position });
    return position;
  } finally {
    await client.end().catch(() => undefined);
    await reader.end().catch(() => undefined);
  }
}

/** How long the stall probe's second connection may take to open and to answer. */
const STALL_PROBE_TIMEOUT_MS = 5_000;

/** How long the drop of a rebuild's old schema waits for readers still holding its tables. */
const RETIRED_DROP_WAIT_MS = 60_000;

/** Drops the `<live>_retired_<ms>` schemas rebuilds left (no other schema is named so: READ_MODELS_SCHEMA refuses the suffix). */
async function dropRetiredSchemas(client: Client, live: string, onKept: (schema: string, error: unknown) => void): Promise<void> {
  const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname ~ $1 ORDER BY nspname`, [`^${live}_retired_[0-9]+$`]);
  if (rows.length === 0) return;
  await client.query(`SET lock_timeout = '5s'`);
  try {
    for (const { nspname } of rows) await client.query(`DROP SCHEMA ${nspname} CASCADE`).catch((error: unknown) => onKept(nspname, error));
  } finally {
    // Not RESET: that would bring back a lock_timeout the role or database sets (WORK_SESSION_SQL).
    await client.query('SET lock_timeout = 0');
  }
}

/**
 * What an API instance serves from when another process projects (PROJECTIONS=external): the
 * checkpoint, polled. Rebuilds run where the projector runs.
 */
export class PostgresReadSideFollower implements ReadModels {
  readonly projectedElsewhere = true;
  private checkpoint = 0;
  private failed?: string;
  /** Why the last poll could not read the checkpoint (PostgreSQL not answering), until one can: /health says so, as the projector's does. */
  private unreachable?: string;
  private head = 0;
  private timer?: NodeJS.Timeout;
  /** When the checkpoint last moved, or last stood at the head. */
  private movedAt = Date.now();
  /** Why the read models do not move while the log is ahead (the projector writes nothing), until they do. */
  private stalled?: string;

  constructor(
    private readonly store: EventStore,
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly pollIntervalMs = 200,
    /** The checkpoint unmoved this long while the log is ahead is a stall (the projector's own bound, STALL_AFTER_MS). */
    private readonly stallAfterMs = STALL_AFTER_MS,
  ) {
    assertSchemaName(schema);
  }

  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  model<Model>({ name }: ReadModelKey<Model>): Model {
    throw new Error(`The ${name} read model lives in PostgreSQL (READ_MODELS_URL); ask the analytics queries`);
  }

  names(): string[] {
    return [...READ_SIDE_NAMES];
  }

  position(): number {
    return this.failed === undefined ? this.checkpoint : 0;
  }

  failure(): string | undefined {
    return this.failed;
  }

  status(): ProjectionStatus[] {
    const failed = this.failed ?? this.unreachable;
    // Unreachable passes by itself (the next poll that reads the checkpoint ends it); a recorded stop does not.
    const recovering = this.failed === undefined && this.unreachable !== undefined;
    const stalled = failed === undefined ? this.stalled : undefined;
    return READ_SIDE_NAMES.map((name) => ({ name, checkpoint: this.checkpoint, lag: Math.max(0, this.head - this.checkpoint), rebuilding: false, ...(failed !== undefined ? { failed, ...(recovering ? { recovering: true as const } : {}) } : {}), ...(stalled !== undefined ? { stalled } : {}) }));
  }

  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.checkpoint >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, this.pollIntervalMs)));
      await this.refresh().catch(() => undefined);
    }
  }

  async rebuild(): Promise<void> {
    throw new RunsElsewhereError('Rebuilding the read models');
  }

  private async refresh(): Promise<void> {
    this.head = await this.store.headPosition();
    const { rows } = await this.pool.query<{ position: string; failed: string | null }>(`SELECT position, failed FROM ${this.schema}.checkpoint`).catch((error: { code?: string; message?: string }) => {
      if (error.code === '42P01') return { rows: [{ position: '0', failed: null }] }; // no projector has run yet
      this.unreachable = `the read models' PostgreSQL cannot be read (${redactCredentials(error.message ?? String(error.code))}); reading again every ${this.pollIntervalMs} ms`;
      throw error;
    });
    this.unreachable = undefined;
    const checkpoint = Number(rows[0]?.position ?? 0);
    // The projector runs elsewhere: a checkpoint that stays behind the log is all this process sees of a stall.
    if (checkpoint !== this.checkpoint || checkpoint >= this.head) this.movedAt = Date.now();
    this.checkpoint = checkpoint;
    this.failed = rows[0]?.failed ?? undefined;
    const still = Date.now() - this.movedAt;
    this.stalled =
      still >= this.stallAfterMs
        ? `the projector has written nothing for ${still < 10_000 ? `${still} ms` : `${Math.round(still / 1000)} s`} while the log is ahead (checkpoint ${checkpoint}, head ${this.head}): is it running? Its log says what it waits for (a batch behind a lock names the session holding it)`
        : undefined;
  }
}

/** An event waiting to be folded: what the fold reads of it, and the id the checkpoint keeps as its anchor. */
type QueuedEvent = WrittenEvent & { readonly id: string };

/**
 * What the fold reads of an event, kept from the moment it is queued: not its metadata (the
 * commands' ids, actor, hash chain: two thirds of a stored event's text). A queued event lives
 * through two batches, long enough for the collector to move it to the old generation; its
 * metadata left behind dies young instead. Under the 384 MB heap the README gives the projector, a
 * 1M-event first fold peaked at 384–396 MB of RSS against 421–426 MB (two alternating runs each).
 */
function foldedPart(event: StoredEvent): QueuedEvent {
  return { position: event.position, stream: event.stream, type: event.type, data: event.data, id: event.id, revision: event.revision };
}

/**
 * Whether PostgreSQL refused a batch for what it held rather than for how it was reached: a data
 * exception (SQLSTATE class 22), an integrity violation (23) or a value past a limit (54). Those
 * fail again on every retry; a lost connection or a shutdown does not.
 */
function refusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
