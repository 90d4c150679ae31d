import { createHash } from 'node:crypto';
import { assertTableColumns, openSQLiteFile } from '@stagecraft/event-store';
import { DamagedStreamSnapshotError, type RecordedCommand, type StreamSnapshot, type StreamSnapshotStore, type StreamSnapshotToSave } from './stream-snapshot.store';

/** Snapshots waiting to be written are flushed in one transaction after this long. */
const FLUSH_AFTER_MS = 200;
/** After a failed write, saving pauses this long, doubling with each failure in a row up to the most. */
const RETRY_AFTER_MS = 1_000;
const RETRY_AFTER_MOST_MS = 60_000;
/**
 * Bumped when a snapshot's shape changes: rows of another format are ignored (and replaced).
 * 2: the recorded commands moved out of the snapshot into stream_commands, one row each.
 * 3: every row sealed (`seal`): a row edited or damaged in place is not taken for what it says.
 */
const FORMAT = 3;

/** Hex characters of the SHA-256 a sealed row starts with. */
const SEAL_LENGTH = 64;

/**
 * A row's text: the SHA-256 of where it belongs (its stream, and a command's id) and of its JSON,
 * then the JSON. A snapshot whose state was edited (a criterion met, another stage) would have
 * commands decided on a fold the log does not hold; a command whose answer was edited would
 * answer a retry with it. Neither has a secret (someone who can write this file can write the
 * log): the seal tells damage and edits in place from what was saved, not a forger.
 */
function seal(json: string, ...where: string[]): string {
  return `${digestOf(json, where)}${json}`;
}

/** The JSON of a sealed row, or undefined when it is not what was saved there. */
function unseal(text: string, ...where: string[]): string | undefined {
  const json = text.slice(SEAL_LENGTH);
  return text.length > SEAL_LENGTH && text.slice(0, SEAL_LENGTH) === digestOf(json, where) ? json : undefined;
}

function digestOf(json: string, where: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(where)).update('\0').update(json).digest('hex');
}

/** A snapshot not yet written, with every command it adds to what the file holds for its stream. */
interface PendingSnapshot {
  readonly snapshot: StreamSnapshot;
  readonly commands: Map<string, RecordedCommand>;
  /** Its commands are all of the stream's: the file's rows for the stream are replaced, not added to. */
  readonly replacesAll: boolean;
  /** Otherwise, the revision of the file's snapshot its commands extend: checked again as it is written. */
  readonly fileBase?: number;
}

/**
 * Stream snapshots in a SQLite file of their own (STREAM_SNAPSHOTS_PATH): one row per stream, and
 * one per client-keyed command (stream_commands), written behind in batches without fsync — they
 * are derived, and a lost one only means a longer read. A snapshot row and the commands it adds
 * are written in one transaction, so every stored snapshot has every command before it stored
 * too. A failed write (a full disk, a lock held past the busy timeout) is rolled back and its
 * snapshots dropped; saving pauses, longer after each failure in a row (up to a minute), and then
 * resumes by itself. A snapshot extending one that was dropped is refused (its base is not in the
 * file), so none rests on commands the file lacks. Each instance may keep its own (with KurrentDB,
 * instances on different machines do).
 */
export function getSQLiteStreamSnapshotStore(path: string, onSetAside: (message: string) => void = (message) => console.warn(`Stream snapshots: ${message}`)): StreamSnapshotStore {
  // Derived: a damaged file is set aside and the streams are folded from their events again.
  const db = openSQLiteFile(path, {
    variable: 'STREAM_SNAPSHOTS_PATH',
    writable: true,
    onSetAside,
    quickCheck: true,
    ownTables: ['stream_snapshots', 'stream_commands'],
    prepare: (db) => {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.exec('CREATE TABLE IF NOT EXISTS stream_snapshots (stream TEXT PRIMARY KEY, format INTEGER NOT NULL, snapshot TEXT NOT NULL)');
      db.exec('CREATE TABLE IF NOT EXISTS stream_commands (stream TEXT NOT NULL, command_id TEXT NOT NULL, command TEXT NOT NULL, PRIMARY KEY (stream, command_id)) WITHOUT ROWID');
      assertTableColumns(db, 'stream_snapshots', ['stream', 'format', 'snapshot'], ['stream']);
      assertTableColumns(db, 'stream_commands', ['stream', 'command_id', 'command'], ['stream', 'command_id']);
    },
  });
  const select = db.prepare<[string], { format: number; snapshot: string }>('SELECT format, snapshot FROM stream_snapshots WHERE stream = ?');
  const upsert = db.prepare('INSERT INTO stream_snapshots (stream, format, snapshot) VALUES (?, ?, ?) ON CONFLICT(stream) DO UPDATE SET format = excluded.format, snapshot = excluded.snapshot');
  const remove = db.prepare('DELETE FROM stream_snapshots WHERE stream = ?');
  const selectCommand = db.prepare<[string, string], { command: string }>('SELECT command FROM stream_commands WHERE stream = ? AND command_id = ?');
  const putCommand = db.prepare('INSERT OR REPLACE INTO stream_commands (stream, command_id, command) VALUES (?, ?, ?)');
  const removeCommands = db.prepare('DELETE FROM stream_commands WHERE stream = ?');
  const pending = new Map<string, PendingSnapshot>();
  let timer: NodeJS.Timeout | undefined;
  // Failed writes in a row, and until when saves are dropped (Date.now()) after the last one.
  let failures = 0;
  let pausedUntil = -Infinity;

  const flush = db.transaction(() => {
    for (const { snapshot, commands, replacesAll, fileBase } of pending.values()) {
      // Instances on one store share this file by default: another may have replaced the
      // stream's rows since this base was checked. Its commands would then not be there.
      if (!replacesAll && storedRevision(snapshot.stream) !== fileBase) continue;
      if (replacesAll) removeCommands.run(snapshot.stream);
      for (const [commandId, command] of commands) putCommand.run(snapshot.stream, commandId, seal(JSON.stringify(command), snapshot.stream, commandId));
      upsert.run(snapshot.stream, FORMAT, seal(JSON.stringify(snapshot), snapshot.stream));
    }
    pending.clear();
  });
  const discardNow = db.transaction((stream: string) => {
    remove.run(stream);
    removeCommands.run(stream);
  });
  // Snapshots only save reading: a file that fails (a full disk, damage since start-up) must not
  // fail a command or end the process. The failure is told once a minute and the work skipped.
  let lastWarned = -Infinity;
  const warn = (error: unknown) => {
    if (Date.now() - lastWarned > 60_000) {
      lastWarned = Date.now();
      console.warn(`Stream snapshots: ${path} (STREAM_SNAPSHOTS_PATH) failed, streams are read in full meanwhile: ${(error as Error).message}`);
    }
  };
  const quietly = <T>(work: () => T, otherwise: T): T => {
    try {
      return work();
    } catch (error) {
      warn(error);
      return otherwise;
    }
  };
  const flushNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size > 0 && db.open) {
      try {
        // IMMEDIATE: the bases are read and the rows written under one write lock, not upgraded to it.
        flush.immediate();
        failures = 0;
      } catch (error) {
        // Rolled back: the file still holds only whole snapshots, and the ones just dropped are not
        // there to be extended (save checks each base against the file). Whatever the cause (a
        // full disk, a lock, an I/O error), it may pass: saving pauses, then is tried again.
        failures += 1;
        pausedUntil = Date.now() + Math.min(RETRY_AFTER_MS * 2 ** (failures - 1), RETRY_AFTER_MOST_MS);
        warn(error);
      }
    }
    pending.clear();
  };
  /** The snapshot a save extends: the one waiting to be written, or the one in the file. */
  const revisionOf = (stream: string): number | undefined => {
    const waiting = pending.get(stream);
    return waiting ? waiting.snapshot.revision : storedRevision(stream);
  };
  /** The revision of the stream's snapshot in the file. */
  const storedRevision = (stream: string): number | undefined => {
    const json = snapshotJson(stream);
    return json === undefined ? undefined : quietly(() => (JSON.parse(json) as StreamSnapshot).revision, undefined);
  };
  /** The JSON of the stream's stored snapshot; undefined without one, or one of another format, or not as saved. */
  const snapshotJson = (stream: string): string | undefined => {
    const row = quietly(() => select.get(stream), undefined);
    return row && row.format === FORMAT ? unseal(row.snapshot, stream) : undefined;
  };
  /**
   * A recorded command from the file. A file that cannot answer must not pass for one without it
   * (the command would be decided again), nor a row not as saved for the answer of the first: both
   * throw, and the command side reads the stream whole instead (its events record every command).
   */
  const storedCommand = (stream: string, commandId: string): RecordedCommand | undefined => {
    const row = selectCommand.get(stream, commandId);
    if (!row) return undefined;
    const json = unseal(row.command, stream, commandId);
    const command = json === undefined ? undefined : parsedOrUndefined(json);
    if (!isRecordedCommand(command)) throw new DamagedStreamSnapshotError(stream, `the recorded command ${JSON.stringify(commandId)} is not as it was saved`);
    return command;
  };

  return {
    load(stream) {
      let waiting = pending.get(stream);
      if (waiting && !waiting.replacesAll && storedRevision(stream) !== waiting.fileBase) {
        // Another instance replaced the rows this one extends: they may lack commands before it.
        pending.delete(stream);
        waiting = undefined;
      }
      if (waiting) return { ...waiting.snapshot, commandBefore: (commandId) => waiting.commands.get(commandId) ?? (waiting.replacesAll ? undefined : storedCommand(stream, commandId)) };
      const json = snapshotJson(stream);
      // None, or a row not as saved, not JSON, or JSON that is not a snapshot of this stream: the stream is read whole.
      const snapshot = json === undefined ? undefined : parsedOrUndefined(json);
      if (!isSnapshotOf(stream, snapshot)) return undefined;
      return { ...snapshot, commandBefore: (commandId) => storedCommand(stream, commandId) };
    },
    save({ basedOn, newCommands, ...snapshot }: StreamSnapshotToSave) {
      if (Date.now() < pausedUntil) return; // after a failed write: the stream is snapshotted on a later load
      const waiting = pending.get(snapshot.stream);
      if (basedOn === undefined) {
        pending.set(snapshot.stream, { snapshot, commands: new Map(newCommands), replacesAll: true });
      } else if (revisionOf(snapshot.stream) === basedOn) {
        // Extends the snapshot this store holds: its commands are added to those already there.
        const commands = waiting?.commands ?? new Map<string, RecordedCommand>();
        for (const [commandId, command] of newCommands) commands.set(commandId, command);
        pending.set(snapshot.stream, { snapshot, commands, replacesAll: waiting?.replacesAll ?? false, fileBase: waiting ? waiting.fileBase : basedOn });
      } else {
        return; // its base is gone (replaced or discarded meanwhile): the commands before it may be too
      }
      if (!timer) {
        timer = setTimeout(flushNow, FLUSH_AFTER_MS);
        timer.unref();
      }
    },
    discard(stream) {
      pending.delete(stream);
      quietly(() => discardNow(stream), undefined);
    },
    close() {
      flushNow();
      db.close();
    },
  };
}

function parsedOrUndefined(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Whether a parsed row has the shape of a recorded command (what a retry is answered from). */
function isRecordedCommand(value: unknown): value is RecordedCommand {
  const command = value as Partial<Record<keyof RecordedCommand, unknown>> | null | undefined;
  if (command === null || typeof command !== 'object' || typeof command.fingerprint !== 'string' || typeof command.attempt !== 'string' || typeof command.stage !== 'string') return false;
  return [command.revision, command.position].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) && ['open', 'won', 'lost'].includes(command.status as string);
}

/** Whether a parsed row has the shape of a snapshot of `stream` (what a fold of it reads, not every field). */
function isSnapshotOf(stream: string, value: unknown): value is StreamSnapshot {
  const snapshot = value as Partial<Record<keyof StreamSnapshot, unknown>> | null;
  if (snapshot === null || typeof snapshot !== 'object' || snapshot.stream !== stream || typeof snapshot.headHash !== 'string') return false;
  if (![snapshot.revision, snapshot.position].every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) return false;
  const state = snapshot.state as Record<string, unknown> | null;
  if (state === null || typeof state !== 'object' || !['open', 'won', 'lost'].includes(state.status as string)) return false;
  return typeof state.stage === 'string' && typeof state.processId === 'string' && typeof state.processVersion === 'string' && (state.status !== 'open' || Array.isArray(state.criteriaMet));
}
