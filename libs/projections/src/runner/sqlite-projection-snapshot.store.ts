import Database from 'better-sqlite3';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { deserializeModel, serializeModel } from './model-serialization';
import type { ProjectionSnapshot, ProjectionSnapshotStore } from './projection-snapshot.store';

/**
 * Read models in their own SQLite file (default ./data/read-models.db), apart from the events.
 * Models are stored with V8's structured serialisation (Maps and Sets kept), trimmed of spare capacity.
 */
export function getSQLiteProjectionSnapshotStore(path: string): ProjectionSnapshotStore {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    try {
      closeSync(openSync(path, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Read models are derived data: a save lost to a power cut only means replaying a little more
  // of the log, so they skip the fsync that the events themselves must pay.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS projection_snapshots (
    name TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    model BLOB NOT NULL,
    log_id TEXT NOT NULL,
    failed TEXT,
    saved_at TEXT NOT NULL
  )`);
  const select = db.prepare<[string], { position: number; model: Buffer; log_id: string; failed: string | null }>(
    'SELECT position, model, log_id, failed FROM projection_snapshots WHERE name = ?',
  );
  const selectHeaders = db.prepare<[], { name: string; position: number; log_id: string; failed: string | null }>(
    'SELECT name, position, log_id, failed FROM projection_snapshots ORDER BY name',
  );
  const upsert = db.prepare<[string, number, Buffer, string, string | null, string]>(
    `INSERT INTO projection_snapshots (name, position, model, log_id, failed, saved_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(name) DO UPDATE SET position = excluded.position, model = excluded.model, log_id = excluded.log_id,
       failed = excluded.failed, saved_at = excluded.saved_at`,
  );
  const saveAll = db.transaction((snapshots: readonly ProjectionSnapshot[], savedAt: string) => {
    for (const snapshot of snapshots) upsert.run(snapshot.name, snapshot.position, serializeModel(snapshot.model), snapshot.logId, snapshot.failed ?? null, savedAt);
  });
  const header = (row: { name: string; position: number; log_id: string; failed: string | null }) => ({
    name: row.name,
    position: row.position,
    logId: row.log_id,
    ...(row.failed !== null ? { failed: row.failed } : {}),
  });

  return {
    load(name) {
      const row = select.get(name);
      return row ? { ...header({ name, ...row }), model: deserializeModel(row.model) } : undefined;
    },
    headers() {
      return selectHeaders.all().map(header);
    },
    save(snapshots) {
      if (snapshots.length > 0) saveAll(snapshots, new Date().toISOString());
    },
    close() {
      db.close();
    },
  };
}
