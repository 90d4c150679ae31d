import { addMissingColumns, ANCHOR_COLUMNS, NO_ANCHOR, assertTableColumns, isDiskFullError, isSQLiteFileFault, isSQLiteLockedOut, sqliteFileProblem, unexpectedTables, openSQLiteFile, SQLiteFileError, type LogAnchor } from '@stagecraft/event-store';
import { claimRelayPublishing, type RelayPublisherLock } from './relay-publisher.lock';

/** Where a sink stands: everything at or before `position` has been published (or dead-lettered). */
export interface SinkCheckpoint {
  readonly sink: string;
  readonly position: number;
  /** Identity of the log it was taken on (its first event's id), so a replaced store is noticed. */
  readonly logId: string;
  /** The last event published or passed at or before `position`: a store restored from an older backup and written on since holds another event there. */
  readonly anchor: LogAnchor;
  /** Bumped by a replay request: a running relay that sees it change starts again from `position`. */
  readonly generation: number;
  readonly updatedAt: string;
  /**
   * Why the sink last failed to send, and since when (the first failure with that message),
   * while it has not sent since: what `relay status`, which reads this file, shows of a running relay.
   */
  readonly lastError?: SinkError;
}

export interface SinkError {
  readonly message: string;
  readonly at: string;
}

/** An event a webhook subscriber failed to take after every attempt. */
export interface DeadLetter {
  readonly sink: string;
  readonly position: number;
  readonly eventId: string;
  readonly type: string;
  readonly subject: string;
  readonly attempts: number;
  readonly lastError: string;
  readonly failedAt: string;
  /** The message as it was sent (the public CloudEvent JSON). */
  readonly body: string;
}

/**
 * The relay's own durable state, apart from the events and the read models: one checkpoint per
 * sink and the dead-letter list. Shared by the relay (in the API or apps/relay) and the CLI,
 * which may ask for a replay while a relay runs.
 */
export interface RelayStateStore {
  checkpoint(sink: string): SinkCheckpoint | undefined;
  checkpoints(): SinkCheckpoint[];
  /**
   * Creates the checkpoint of a sink seen for the first time, anchored on the log's last event at
   * or before it (anchorAtOrBefore); false when it already exists.
   */
  create(sink: string, position: number, logId: string, anchor?: LogAnchor): boolean;
  /**
   * Moves a sink's checkpoint forward and records dead letters, in one transaction, unless a
   * replay changed the generation since it was read: then nothing is written and it answers false.
   */
  advance(sink: string, generation: number, position: number, logId: string, anchor: LogAnchor, deadLetters?: readonly DeadLetter[]): boolean;
  /**
   * Starts a sink again right after `after` (a position the log holds, or 0): a new generation, and
   * its dead letters at or after `fromPosition` go (they are sent again). See positionBefore().
   * It is tied to the log `logId` names (when given) and anchored on `anchor`, the event at `after`
   * (anchorAtOrBefore; none: the next advance records one), so that it is not taken for a
   * checkpoint of another log.
   */
  requestReplay(sink: string, after: number, fromPosition: number, logId?: string, anchor?: LogAnchor): SinkCheckpoint;
  deadLetters(sink?: string): DeadLetter[];
  deadLetterCounts(): Map<string, number>;
  /**
   * Gives up on a sink's dead letter at `position` (a subscriber that will never take it): it is
   * no longer listed, and no replay sends it again. Answers the letter, or undefined when the sink
   * has none there.
   */
  discard(sink: string, position: number): DeadLetter | undefined;
  /**
   * A sink's discarded events, by position: the id of the event discarded there. A replay skips
   * an event only when it is that one: a log restored from a backup, or another log, may hold
   * another event at the position, which is sent.
   */
  discarded(sink: string): Map<number, string>;
  /** Records the sink's last error (undefined: it sends again, cleared). A sink without a checkpoint is left alone. */
  recordError(sink: string, error: SinkError | undefined): void;
  /**
   * Claims the file for this process's relay, until close(): only one relay publishes from a
   * state file. Another relay holding it is refused with a SQLiteFileError naming the file and
   * that process (relay-publisher.lock.ts). Readers and the CLI need no claim.
   */
  claimPublishing(): void;
  close(): void;
}

/** Each table of the file, the columns every version wrote (the anchor's are added when missing) and its key. */
const RELAY_TABLES: readonly (readonly [string, readonly string[], readonly string[]])[] = [
  ['relay_checkpoints', ['sink', 'position', 'log_id', 'generation', 'updated_at'], ['sink']],
  ['relay_dead_letters', ['sink', 'position', 'event_id', 'type', 'subject', 'attempts', 'last_error', 'failed_at', 'body'], ['sink', 'position']],
  ['relay_discarded', ['sink', 'position', 'event_id', 'discarded_at'], ['sink', 'position']],
];

export function getSQLiteRelayStateStore(path: string): RelayStateStore {
  // Checkpoints are not rebuilt from the log (a lost one means publishing everything again), so a
  // file that cannot be used stops the relay with one line naming it and RELAY_STATE_PATH.
  const db = openSQLiteFile(path, {
    variable: 'RELAY_STATE_PATH',
    writable: true,
    ownTables: ['relay_checkpoints', 'relay_dead_letters', 'relay_discarded'],
    prepare: (db) => {
      db.pragma('journal_mode = WAL');
      // A checkpoint lost to a power cut only means publishing a few events again (at least once);
      // dead letters are written in the same transaction as the checkpoint that passes them.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      // A table of one of these names in another shape (another program's, a layout this version
      // never wrote) is refused naming it before anything is created or added beside it: read, it
      // failed with SQLite's bare "no such column" and a stack trace.
      for (const [table, columns, key] of RELAY_TABLES) {
        if (db.prepare<[string], number>('SELECT 1 FROM sqlite_master WHERE name = ?').pluck().get(table) === undefined) continue;
        try {
          assertTableColumns(db, table, columns, key);
        } catch (error) {
          throw unexpectedTables(`cannot be used: ${(error as Error).message}; nothing was written into it: name a new file (each sink then starts as RELAY_NEW_SINK_FROM says), or restore this one`);
        }
      }
      db.exec(`CREATE TABLE IF NOT EXISTS relay_checkpoints (
          sink TEXT PRIMARY KEY,
          position INTEGER NOT NULL,
          log_id TEXT NOT NULL,
          generation INTEGER NOT NULL,
          updated_at TEXT NOT NULL,
          anchor_position INTEGER NOT NULL DEFAULT 0,
          anchor_event_id TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE IF NOT EXISTS relay_dead_letters (
          sink TEXT NOT NULL,
          position INTEGER NOT NULL,
          event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          subject TEXT NOT NULL,
          attempts INTEGER NOT NULL,
          last_error TEXT NOT NULL,
          failed_at TEXT NOT NULL,
          body TEXT NOT NULL,
          PRIMARY KEY (sink, position)
        );
        CREATE TABLE IF NOT EXISTS relay_discarded (
          sink TEXT NOT NULL,
          position INTEGER NOT NULL,
          event_id TEXT NOT NULL,
          discarded_at TEXT NOT NULL,
          PRIMARY KEY (sink, position)
        );`);
      // A file written before anchors were kept: its checkpoints have none until they next move.
      addMissingColumns(db, 'relay_checkpoints', ANCHOR_COLUMNS);
      // A file written before sinks' errors were kept: none until a sink next fails.
      addMissingColumns(db, 'relay_checkpoints', { last_error: 'TEXT', last_error_at: 'TEXT' });
    },
  });

  type CheckpointRow = { sink: string; position: number; log_id: string; generation: number; updated_at: string; anchor_position: number; anchor_event_id: string; last_error: string | null; last_error_at: string | null };
  type DeadLetterRow = { sink: string; position: number; event_id: string; type: string; subject: string; attempts: number; last_error: string; failed_at: string; body: string };
  const toCheckpoint = (row: CheckpointRow): SinkCheckpoint => ({
    sink: row.sink,
    position: row.position,
    logId: row.log_id,
    anchor: { position: row.anchor_position, eventId: row.anchor_event_id },
    generation: row.generation,
    updatedAt: row.updated_at,
    ...(row.last_error !== null && row.last_error_at !== null ? { lastError: { message: row.last_error, at: row.last_error_at } } : {}),
  });
  const toDeadLetter = (row: DeadLetterRow): DeadLetter => ({
    sink: row.sink,
    position: row.position,
    eventId: row.event_id,
    type: row.type,
    subject: row.subject,
    attempts: row.attempts,
    lastError: row.last_error,
    failedAt: row.failed_at,
    body: row.body,
  });

  const selectOne = db.prepare<[string], CheckpointRow>('SELECT * FROM relay_checkpoints WHERE sink = ?');
  const selectAll = db.prepare<[], CheckpointRow>('SELECT * FROM relay_checkpoints ORDER BY sink');
  const insert = db.prepare<[string, number, string, string, number, string]>(
    'INSERT OR IGNORE INTO relay_checkpoints (sink, position, log_id, generation, updated_at, anchor_position, anchor_event_id) VALUES (?, ?, ?, 0, ?, ?, ?)',
  );
  const update = db.prepare<[number, string, number, string, string, string, number]>(
    'UPDATE relay_checkpoints SET position = ?, log_id = ?, anchor_position = ?, anchor_event_id = ?, updated_at = ? WHERE sink = ? AND generation = ?',
  );
  // The log id given replaces the old one: a start over on another log ties the checkpoint to it.
  const upsertReplay = db.prepare<[string, number, string, string, number, string]>(
    `INSERT INTO relay_checkpoints (sink, position, log_id, generation, updated_at, anchor_position, anchor_event_id) VALUES (?, ?, ?, 1, ?, ?, ?)
     ON CONFLICT(sink) DO UPDATE SET position = excluded.position, log_id = CASE WHEN excluded.log_id = '' THEN log_id ELSE excluded.log_id END,
       generation = generation + 1, anchor_position = excluded.anchor_position, anchor_event_id = excluded.anchor_event_id, updated_at = excluded.updated_at`,
  );
  const updateError = db.prepare<[string | null, string | null, string]>('UPDATE relay_checkpoints SET last_error = ?, last_error_at = ? WHERE sink = ?');
  const insertDeadLetter = db.prepare<[string, number, string, string, string, number, string, string, string]>(
    'INSERT OR REPLACE INTO relay_dead_letters (sink, position, event_id, type, subject, attempts, last_error, failed_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const deleteDeadLetters = db.prepare<[string, number]>('DELETE FROM relay_dead_letters WHERE sink = ? AND position >= ?');
  const selectDeadLetters = db.prepare<[], DeadLetterRow>('SELECT * FROM relay_dead_letters ORDER BY sink, position');
  const selectSinkDeadLetters = db.prepare<[string], DeadLetterRow>('SELECT * FROM relay_dead_letters WHERE sink = ? ORDER BY position');
  const countDeadLetters = db.prepare<[], { sink: string; count: number }>('SELECT sink, COUNT(*) AS count FROM relay_dead_letters GROUP BY sink');

  const selectDeadLetter = db.prepare<[string, number], DeadLetterRow>('SELECT * FROM relay_dead_letters WHERE sink = ? AND position = ?');
  const deleteDeadLetter = db.prepare<[string, number]>('DELETE FROM relay_dead_letters WHERE sink = ? AND position = ?');
  const insertDiscarded = db.prepare<[string, number, string, string]>('INSERT OR REPLACE INTO relay_discarded (sink, position, event_id, discarded_at) VALUES (?, ?, ?, ?)');
  const selectDiscarded = db.prepare<[string], { position: number; event_id: string }>('SELECT position, event_id FROM relay_discarded WHERE sink = ?');

  const advance = db.transaction((sink: string, generation: number, position: number, logId: string, anchor: LogAnchor, letters: readonly DeadLetter[]) => {
    if (update.run(position, logId, anchor.position, anchor.eventId, new Date().toISOString(), sink, generation).changes === 0) return false;
    for (const letter of letters) {
      insertDeadLetter.run(letter.sink, letter.position, letter.eventId, letter.type, letter.subject, letter.attempts, letter.lastError, letter.failedAt, letter.body);
    }
    return true;
  });
  const replay = db.transaction((sink: string, after: number, fromPosition: number, logId: string, anchor: LogAnchor) => {
    upsertReplay.run(sink, after, logId, new Date().toISOString(), anchor.position, anchor.eventId);
    deleteDeadLetters.run(sink, fromPosition);
    return toCheckpoint(selectOne.get(sink)!);
  });

  const discard = db.transaction((sink: string, position: number) => {
    const row = selectDeadLetter.get(sink, position);
    if (!row) return undefined;
    deleteDeadLetter.run(sink, position);
    insertDiscarded.run(sink, position, row.event_id, new Date().toISOString());
    return toDeadLetter(row);
  });

  let claim: RelayPublisherLock | undefined;
  /**
   * The file's own faults named with its setting and path, for the relay's lastError and the CLI:
   * a write that waited out the busy timeout behind another process holding the file's lock (the
   * relay retries it; the CLI exits 3), not SQLite's bare "database is locked"; a disk full, a
   * file system gone read-only or an I/O error, not SQLite's bare "database or disk is full",
   * which read as a failure to follow the log. Nothing of it was written.
   */
  const onFile = <T>(work: () => T): T => {
    try {
      return work();
    } catch (error) {
      if (isSQLiteLockedOut(error)) {
        throw new SQLiteFileError(path, 'RELAY_STATE_PATH', 'is locked by another process, which held it longer than the 5 s this one waits: nothing was changed; run it again once that process lets go');
      }
      if (isDiskFullError(error) || isSQLiteFileFault(error)) throw new SQLiteFileError(path, 'RELAY_STATE_PATH', sqliteFileProblem(error));
      throw error;
    }
  };

  return {
    checkpoint: (sink) =>
      onFile(() => {
        const row = selectOne.get(sink);
        return row ? toCheckpoint(row) : undefined;
      }),
    checkpoints: () => onFile(() => selectAll.all().map(toCheckpoint)),
    create: (sink, position, logId, anchor = NO_ANCHOR) => onFile(() => insert.run(sink, position, logId, new Date().toISOString(), anchor.position, anchor.eventId).changes > 0),
    advance: (sink, generation, position, logId, anchor, deadLetters = []) => onFile(() => advance(sink, generation, position, logId, anchor, deadLetters)),
    requestReplay: (sink, after, fromPosition, logId = '', anchor = NO_ANCHOR) => onFile(() => replay(sink, after, fromPosition, logId, anchor)),
    deadLetters: (sink) => onFile(() => (sink === undefined ? selectDeadLetters.all() : selectSinkDeadLetters.all(sink)).map(toDeadLetter)),
    deadLetterCounts: () => onFile(() => new Map(countDeadLetters.all().map((row) => [row.sink, row.count]))),
    discard: (sink, position) => onFile(() => discard(sink, position)),
    discarded: (sink) => onFile(() => new Map(selectDiscarded.all(sink).map((row) => [row.position, row.event_id]))),
    recordError: (sink, error) => onFile(() => void updateError.run(error?.message ?? null, error?.at ?? null, sink)),
    claimPublishing: () => {
      if (claim || path === ':memory:' || path === '') return;
      claim = claimRelayPublishing(path);
    },
    close: () => {
      claim?.release();
      claim = undefined;
      db.close();
    },
  };
}
