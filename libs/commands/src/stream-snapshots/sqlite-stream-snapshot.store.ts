import Database from 'better-sqlite3';
import { ensureOwnerOnlyFile } from '@stagecraft/event-store';
import type { StreamSnapshot, StreamSnapshotStore } from './stream-snapshot.store';

/** Snapshots waiting to be written are flushed in one transaction after this long. */
const FLUSH_AFTER_MS = 200;
/** Bumped when a snapshot's shape changes: rows of another format are ignored (and replaced). */
const FORMAT = 1;

/**
 * Stream snapshots in a SQLite file of their own (STREAM_SNAPSHOTS_PATH): one row per stream,
 * written behind in batches without fsync — they are derived, and a lost one only means a longer
 * read. Each instance may keep its own (with KurrentDB, instances on different machines do).
 */
export function getSQLiteStreamSnapshotStore(path: string): StreamSnapshotStore {
  ensureOwnerOnlyFile(path);
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.exec('CREATE TABLE IF NOT EXISTS stream_snapshots (stream TEXT PRIMARY KEY, format INTEGER NOT NULL, snapshot TEXT NOT NULL)');
  const select = db.prepare<[string], { format: number; snapshot: string }>('SELECT format, snapshot FROM stream_snapshots WHERE stream = ?');
  const upsert = db.prepare('INSERT INTO stream_snapshots (stream, format, snapshot) VALUES (?, ?, ?) ON CONFLICT(stream) DO UPDATE SET format = excluded.format, snapshot = excluded.snapshot');
  const remove = db.prepare('DELETE FROM stream_snapshots WHERE stream = ?');
  const pending = new Map<string, StreamSnapshot>();
  let timer: NodeJS.Timeout | undefined;

  const flush = db.transaction(() => {
    for (const snapshot of pending.values()) upsert.run(snapshot.stream, FORMAT, JSON.stringify(snapshot));
    pending.clear();
  });
  const flushNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size > 0 && db.open) flush();
  };

  return {
    load(stream) {
      const waiting = pending.get(stream);
      if (waiting) return waiting;
      const row = select.get(stream);
      if (!row || row.format !== FORMAT) return undefined;
      try {
        return JSON.parse(row.snapshot) as StreamSnapshot;
      } catch {
        return undefined; // a damaged row: read the stream instead
      }
    },
    save(snapshot) {
      pending.set(snapshot.stream, snapshot);
      if (!timer) {
        timer = setTimeout(flushNow, FLUSH_AFTER_MS);
        timer.unref();
      }
    },
    discard(stream) {
      pending.delete(stream);
      remove.run(stream);
    },
    close() {
      flushNow();
      db.close();
    },
  };
}
