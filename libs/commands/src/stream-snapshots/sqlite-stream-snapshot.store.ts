import { openSQLiteFile } from '@stagecraft/event-store';
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
export function getSQLiteStreamSnapshotStore(path: string, onSetAside: (message: string) => void = (message) => console.warn(`Stream snapshots: ${message}`)): StreamSnapshotStore {
  // Derived: a damaged file is set aside and the streams are folded from their events again.
  const db = openSQLiteFile(path, {
    variable: 'STREAM_SNAPSHOTS_PATH',
    onSetAside,
    quickCheck: true,
    prepare: (db) => {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.exec('CREATE TABLE IF NOT EXISTS stream_snapshots (stream TEXT PRIMARY KEY, format INTEGER NOT NULL, snapshot TEXT NOT NULL)');
    },
  });
  const select = db.prepare<[string], { format: number; snapshot: string }>('SELECT format, snapshot FROM stream_snapshots WHERE stream = ?');
  const upsert = db.prepare('INSERT INTO stream_snapshots (stream, format, snapshot) VALUES (?, ?, ?) ON CONFLICT(stream) DO UPDATE SET format = excluded.format, snapshot = excluded.snapshot');
  const remove = db.prepare('DELETE FROM stream_snapshots WHERE stream = ?');
  const pending = new Map<string, StreamSnapshot>();
  let timer: NodeJS.Timeout | undefined;

  const flush = db.transaction(() => {
    for (const snapshot of pending.values()) upsert.run(snapshot.stream, FORMAT, JSON.stringify(snapshot));
    pending.clear();
  });
  // Snapshots only save reading: a file that fails (a full disk, damage since start-up) must not
  // fail a command or end the process. The failure is told once a minute and the work skipped.
  let lastWarned = -Infinity;
  const quietly = <T>(work: () => T, otherwise: T): T => {
    try {
      return work();
    } catch (error) {
      if (Date.now() - lastWarned > 60_000) {
        lastWarned = Date.now();
        console.warn(`Stream snapshots: ${path} (STREAM_SNAPSHOTS_PATH) failed, streams are read in full meanwhile: ${(error as Error).message}`);
      }
      return otherwise;
    }
  };
  const flushNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.size > 0 && db.open) quietly(flush, undefined);
    pending.clear();
  };

  return {
    load(stream) {
      const waiting = pending.get(stream);
      if (waiting) return waiting;
      const row = quietly(() => select.get(stream), undefined);
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
      quietly(() => remove.run(stream), undefined);
    },
    close() {
      flushNow();
      db.close();
    },
  };
}
