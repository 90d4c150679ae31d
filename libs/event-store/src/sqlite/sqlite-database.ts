import type Database from 'better-sqlite3';
import { openSQLiteFile } from './sqlite-file';

/** Bumped with each migration below; PRAGMA user_version holds the file's version. */
export const SQLITE_EVENT_STORE_SCHEMA_VERSION = 1;

export type SQLiteDurability = 'full' | 'normal';

const BUSY_TIMEOUT_MS = 5000;

export function isInMemoryPath(path: string): boolean {
  return path === ':memory:' || path === '';
}

/**
 * Opens (creating it owner-only when missing) and migrates the event store file. Both connections
 * of a store open it this way: the main thread's, which reads, and the writer thread's.
 */
export function openEventStoreDatabase(path: string, durability: SQLiteDurability): Database.Database {
  // The events are the truth: a file that cannot be used stops start-up (one line naming it and
  // EVENT_STORE_PATH), it is never set aside. Relative import: the writer thread loads this file.
  return openSQLiteFile(isInMemoryPath(path) ? ':memory:' : path, {
    variable: 'EVENT_STORE_PATH',
    prepare: (db) => {
      // Wait for a lock held by another process (a projector, a second writer) instead of failing.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      // Per connection: the writer's setting is the one that makes a commit durable.
      db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
      migrate(db);
    },
  });
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
  // A version check alone needs no write lock, so a second connection of the same store does
  // not queue behind the first one's writes just to read user_version.
  if ((db.pragma('user_version', { simple: true }) as number) === SQLITE_EVENT_STORE_SCHEMA_VERSION) return;
  run.immediate();
}
