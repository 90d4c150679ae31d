import type Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import type { SnapshotHeader } from './projection-snapshot.store';
import { addMissingColumns, ANCHOR_COLUMNS, assertTableColumns, NO_ANCHOR } from '@stagecraft/event-store';

// The read-model file's tables and the statements on them, shared by the thread that writes and
// reads the chunks and by the main thread (headers; everything for an in-memory file). Imports
// stay relative: the worker loads this file outside Jest and the app's path aliases.
//
// A model is stored as a header row plus its serialised bytes in chunks of bounded size, one row
// each, so no blob nears SQLite's 2^29-byte limit. Files written before the chunked format keep
// their single-blob rows in `projection_snapshots` (V8's serialisation): still read, and dropped
// when the model is next saved in the new format.
//
// A save arrives in parts, a few MB of chunks each, as the models are serialised, and is written
// into one transaction left open between parts and committed once every model is in: the file
// holds a save whole or not at all, so a save that fails or a process killed mid-save leaves the
// previous one. Reads use another connection, which sees only committed saves.

/** Some chunks of a model being saved, in order; its last part carries its header. */
export interface SnapshotPart {
  readonly name: string;
  readonly chunks: readonly Uint8Array[];
  readonly last?: SnapshotHeader & {
    /** Version of the bytes' format (model-serialization.ts). */
    readonly format: number;
    readonly savedAt: string;
  };
}

export type SnapshotRead =
  | { readonly kind: 'chunked'; readonly header: SnapshotHeader; readonly format: number; readonly chunks: Uint8Array[] }
  | { readonly kind: 'legacy'; readonly header: SnapshotHeader; readonly bytes: Uint8Array }
  | { readonly kind: 'unreadable'; readonly header: SnapshotHeader; readonly reason: string };

interface HeaderRow {
  name: string;
  position: number;
  log_id: string;
  failed: string | null;
  anchor_position: number;
  anchor_event_id: string;
}

/** The tables of a read-model file, the single-blob one of older versions included. */
export const SNAPSHOT_TABLES = ['read_model_snapshots', 'read_model_snapshot_chunks', 'projection_snapshots'] as const;

/** Pragmas and tables of a read-model file, on a connection just opened (openSQLiteFile's `prepare`). */
export function prepareSnapshotDatabase(db: Database.Database): void {
  db.pragma('journal_mode = WAL');
  // Read models are derived data: a save lost to a power cut only means replaying a little more
  // of the log, so they skip the fsync that the events themselves must pay.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS read_model_snapshots (
    name        TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    log_id      TEXT NOT NULL,
    failed      TEXT,
    format      INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    byte_count  INTEGER NOT NULL,
    -- SHA-256 of the chunks in order, then of the header (digestOf): bytes or a position changed on
    -- disk are refused, not decoded into a wrong model or folded on from the wrong place.
    digest      TEXT NOT NULL,
    saved_at    TEXT NOT NULL,
    -- The last event folded in (LogAnchor), read back at start: 0 and '' in a save made before.
    anchor_position INTEGER NOT NULL DEFAULT 0,
    anchor_event_id TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE IF NOT EXISTS read_model_snapshot_chunks (
    name  TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (name, seq)
  )`);
  // A file saved before anchors were gets their columns (its snapshots have none until saved again).
  addMissingColumns(db, 'read_model_snapshots', ANCHOR_COLUMNS);
  assertTableColumns(db, 'read_model_snapshots', ['name', 'position', 'log_id', 'failed', 'format', 'chunk_count', 'byte_count', 'digest', 'saved_at'], ['name']);
  assertTableColumns(db, 'read_model_snapshot_chunks', ['name', 'seq', 'bytes'], ['name', 'seq']);
  if (hasLegacyTable(db)) assertTableColumns(db, 'projection_snapshots', ['name', 'position', 'log_id', 'failed', 'model'], ['name']);
}

/** The statements that read an open read-model file. */
export function snapshotStatements(db: Database.Database) {
  const legacy = hasLegacyTable(db);
  const selectHeaders = db.prepare<[], HeaderRow>('SELECT name, position, log_id, failed, anchor_position, anchor_event_id FROM read_model_snapshots ORDER BY name');
  const selectLegacyHeaders = legacy
    ? db.prepare<[], HeaderRow>("SELECT name, position, log_id, failed, 0 AS anchor_position, '' AS anchor_event_id FROM projection_snapshots WHERE name NOT IN (SELECT name FROM read_model_snapshots) ORDER BY name")
    : undefined;
  const selectOne = db.prepare<[string], HeaderRow & { format: number; chunk_count: number; byte_count: number; digest: string }>(
    'SELECT name, position, log_id, failed, anchor_position, anchor_event_id, format, chunk_count, byte_count, digest FROM read_model_snapshots WHERE name = ?',
  );
  const selectChunks = db.prepare<[string], { bytes: Buffer }>('SELECT bytes FROM read_model_snapshot_chunks WHERE name = ? ORDER BY seq');
  const selectLegacy = legacy ? db.prepare<[string], HeaderRow & { model: Buffer }>("SELECT name, position, log_id, failed, 0 AS anchor_position, '' AS anchor_event_id, model FROM projection_snapshots WHERE name = ?") : undefined;

  // One read transaction: the header and its chunks come from the same save.
  const readOne = db.transaction((name: string): SnapshotRead | undefined => {
    const row = selectOne.get(name);
    if (row) {
      // Checked before the digest, which reads it as a number: a position that is no log position
      // (text, negative, a fraction) would have the runner fold from there (twice over, or never ending).
      const position = row.position as unknown;
      if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0 || typeof row.log_id !== 'string') {
        return { kind: 'unreadable', header: headerOf(row), reason: `its header records position ${JSON.stringify(position)}, which is no position of a log` };
      }
      const chunks = selectChunks.all(name).map((r) => r.bytes);
      const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      if (chunks.length !== row.chunk_count || bytes !== row.byte_count) {
        return { kind: 'unreadable', header: headerOf(row), reason: `${chunks.length} chunks of ${bytes} bytes stored, ${row.chunk_count} of ${row.byte_count} recorded` };
      }
      if (digestOf(chunks, row) !== row.digest) return { kind: 'unreadable', header: headerOf(row), reason: 'its bytes or its header changed since they were saved (digest mismatch)' };
      return { kind: 'chunked', header: headerOf(row), format: row.format, chunks };
    }
    const old = selectLegacy?.get(name);
    return old ? { kind: 'legacy', header: headerOf(old), bytes: old.model } : undefined;
  });

  return {
    headers(): SnapshotHeader[] {
      const rows = [...selectHeaders.all(), ...(selectLegacyHeaders?.all() ?? [])];
      return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(headerOf);
    },
    read(name: string): SnapshotRead | undefined {
      try {
        return readOne(name);
      } catch (error) {
        // Damage the open-time check did not see (the file changed since): this model is rebuilt
        // from the log, like one whose bytes fail their digest.
        const code = (error as { code?: string }).code ?? '';
        if (!code.startsWith('SQLITE_CORRUPT') && code !== 'SQLITE_NOTADB' && !code.startsWith('SQLITE_IOERR')) throw error;
        return { kind: 'unreadable', header: { name, position: 0, logId: '' }, reason: `the file is damaged (${(error as Error).message})` };
      }
    },
  };
}
export type SnapshotStatements = ReturnType<typeof snapshotStatements>;

/**
 * Writes saves part by part into a transaction begun by a save's first part and committed by
 * `commit`. A part or commit that fails rolls the save back, and the writer then refuses the rest
 * of that save until `abort`: what follows a failure is never committed on its own.
 */
export function snapshotWriter(db: Database.Database) {
  const upsertHeader = db.prepare<[string, number, string, string | null, number, string, number, number, number, string, string]>(
    `INSERT INTO read_model_snapshots (name, position, log_id, failed, anchor_position, anchor_event_id, format, chunk_count, byte_count, digest, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET position = excluded.position, log_id = excluded.log_id, failed = excluded.failed,
       anchor_position = excluded.anchor_position, anchor_event_id = excluded.anchor_event_id, format = excluded.format,
       chunk_count = excluded.chunk_count, byte_count = excluded.byte_count, digest = excluded.digest, saved_at = excluded.saved_at`,
  );
  const deleteChunks = db.prepare<[string]>('DELETE FROM read_model_snapshot_chunks WHERE name = ?');
  const insertChunk = db.prepare<[string, number, Uint8Array]>('INSERT INTO read_model_snapshot_chunks (name, seq, bytes) VALUES (?, ?, ?)');
  const deleteLegacy = hasLegacyTable(db) ? db.prepare<[string]>('DELETE FROM projection_snapshots WHERE name = ?') : undefined;
  // Taken at the first part, so a save waits for another writer there and never halfway.
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  let failed = false;
  /** The model whose parts are arriving, with what its header will record. */
  let model: { name: string; chunks: number; bytes: number; digest: Hash } | undefined;
  const undo = () => {
    if (db.inTransaction) rollback.run();
    model = undefined;
  };
  const orUndo = (work: () => void) => {
    if (failed) throw new Error('An earlier part of this save failed: it was rolled back');
    try {
      work();
    } catch (error) {
      undo();
      failed = true;
      throw error;
    }
  };

  return {
    part(part: SnapshotPart): void {
      orUndo(() => {
        if (!db.inTransaction) begin.run();
        if (model && model.name !== part.name) throw new Error(`A part of ${part.name} came before the last part of ${model.name}`);
        if (!model) {
          deleteChunks.run(part.name);
          model = { name: part.name, chunks: 0, bytes: 0, digest: createHash('sha256') };
        }
        for (const chunk of part.chunks) {
          insertChunk.run(model.name, model.chunks++, chunk);
          model.bytes += chunk.length;
          model.digest.update(chunk);
        }
        const { last } = part;
        if (!last) return;
        const anchor = last.anchor ?? NO_ANCHOR;
        const row = { name: model.name, position: last.position, log_id: last.logId, failed: last.failed ?? null, anchor_position: anchor.position, anchor_event_id: anchor.eventId };
        const digest = `${HEADED}${model.digest.update(headerBytes(row)).digest('hex')}`;
        upsertHeader.run(model.name, last.position, last.logId, last.failed ?? null, anchor.position, anchor.eventId, last.format, model.chunks, model.bytes, digest, last.savedAt);
        deleteLegacy?.run(model.name);
        model = undefined;
      });
    },
    commit(): void {
      orUndo(() => {
        if (model) throw new Error(`The save ended before the last part of ${model.name}`);
        if (db.inTransaction) commit.run();
      });
    },
    abort(): void {
      undo();
      failed = false;
    },
  };
}
export type SnapshotWriter = ReturnType<typeof snapshotWriter>;

function hasLegacyTable(db: Database.Database): boolean {
  return db.prepare<[], { present: number }>("SELECT count(*) AS present FROM sqlite_master WHERE type = 'table' AND name = 'projection_snapshots'").get()!.present > 0;
}

/** Marks a digest that covers the header too; a digest without it (a file saved before) covers the chunks alone. */
const HEADED = 'h1:';

/**
 * The header under the digest: which model, from which log, up to which position (and its last
 * event, when one was recorded), failed or not. A plausible position edited in place (3 where 68
 * was saved) would otherwise have the runner fold events 4 to 68 twice. The format is not under
 * it: an unknown one is refused as such. A header without an anchor gives the bytes it gave
 * before anchors were, so saves made then still match their digests.
 */
function headerBytes(row: Pick<HeaderRow, 'name' | 'position' | 'log_id' | 'failed' | 'anchor_position' | 'anchor_event_id'>): Buffer {
  const fields: unknown[] = [row.name, row.position, row.log_id, row.failed ?? null];
  if (row.anchor_event_id !== '' || row.anchor_position !== 0) fields.push(row.anchor_position, row.anchor_event_id);
  return Buffer.from(`\0${JSON.stringify(fields)}`);
}

/** The digest a save recorded for these chunks and this header, in the form it recorded (HEADED or not). */
function digestOf(chunks: readonly Uint8Array[], row: HeaderRow & { digest: string }): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  if (!row.digest.startsWith(HEADED)) return hash.digest('hex');
  return `${HEADED}${hash.update(headerBytes(row)).digest('hex')}`;
}

function headerOf(row: HeaderRow): SnapshotHeader {
  // A position that is no log position reads as 0 (nothing folded); loading it is refused (readOne).
  const position = typeof row.position === 'number' && Number.isSafeInteger(row.position) && row.position >= 0 ? row.position : 0;
  const anchor = typeof row.anchor_position === 'number' && Number.isSafeInteger(row.anchor_position) && row.anchor_position > 0 && typeof row.anchor_event_id === 'string' && row.anchor_event_id !== '' ? { position: row.anchor_position, eventId: row.anchor_event_id } : undefined;
  return { name: row.name, position, logId: String(row.log_id), ...(anchor ? { anchor } : {}), ...(row.failed !== null && row.failed !== undefined ? { failed: String(row.failed) } : {}) };
}

// What the main thread asks the snapshot thread, and its answers (plain data only). A save is
// its parts, then `commit`, or `abort` once anything failed.
export type SnapshotRequest =
  | { readonly type: 'part'; readonly part: SnapshotPart }
  | { readonly type: 'commit' }
  | { readonly type: 'abort' }
  | { readonly type: 'read'; readonly name: string };
export type SnapshotReply =
  /** `spent`: from the worker thread, a written part's chunks handed back (see the worker). */
  | { readonly type: 'written'; readonly spent?: readonly Uint8Array[] }
  | { readonly type: 'read'; readonly read: SnapshotRead | undefined };

/** Answers one request on an open file; the worker thread, or the main thread for an in-memory file. */
export function answerSnapshotRequest(storage: SnapshotStatements, writer: SnapshotWriter, request: SnapshotRequest): SnapshotReply {
  switch (request.type) {
    case 'read':
      return { type: 'read', read: storage.read(request.name) };
    case 'part':
      writer.part(request.part);
      break;
    case 'commit':
      writer.commit();
      break;
    case 'abort':
      writer.abort();
      break;
    default: {
      const _exhaustive: never = request;
      return _exhaustive;
    }
  }
  return { type: 'written' };
}

/** The buffers of a read to hand over without copying; a buffer sharing its memory is copied first. */
export function transferableRead(read: SnapshotRead | undefined): { read: SnapshotRead | undefined; transfer: ArrayBuffer[] } {
  if (!read || read.kind === 'unreadable') return { read, transfer: [] };
  const own = (bytes: Uint8Array): Uint8Array => (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice());
  if (read.kind === 'legacy') {
    const bytes = own(read.bytes);
    return { read: { ...read, bytes }, transfer: [bytes.buffer as ArrayBuffer] };
  }
  const chunks = read.chunks.map(own);
  return { read: { ...read, chunks }, transfer: chunks.map((chunk) => chunk.buffer as ArrayBuffer) };
}
