import type Database from 'better-sqlite3';
import { assertTableColumns, openSQLiteFile, unexpectedTables } from './sqlite-file';

/** Bumped with each migration below; PRAGMA user_version holds the file's version. */
export const SQLITE_EVENT_STORE_SCHEMA_VERSION = 1;

export type SQLiteDurability = 'full' | 'normal';

/** How long a connection waits for a lock another process holds before SQLite gives up (SQLITE_BUSY). */
export const BUSY_TIMEOUT_MS = 5000;

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

/** The writing connection's page cache while the file is below 1 GiB (see configureWriterCache). */
export const WRITER_CACHE_PAGES = 1_000;
/** SQLite never uses the page holding byte 2^30 (its lock byte); pages past it exist only in a file over 1 GiB. */
const LOCK_BYTE = 2 ** 30;

/**
 * The writer's page cache. When a B-tree page splits, SQLite parks a page under the number of the
 * lock-byte page for a moment; in a file smaller than that page number, every commit after such a
 * split then walks the whole page cache to drop pages "past the end of the file" (pcache1Truncate,
 * ~4 in 5 of the API's commits under load). With better-sqlite3's 16 MB default that walk was the
 * writer's largest single cost in SQLite's own code; 1,000 pages (4 MB at the default page size)
 * still hold every interior page of the indexes at 1M events (~450). A file over 1 GiB has no such
 * walk and keeps the default (re-evaluated when the store is opened).
 */
export function configureWriterCache(db: Database.Database): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  if (pages * pageSize < LOCK_BYTE) db.pragma(`cache_size = ${WRITER_CACHE_PAGES}`);
}

function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_EVENT_STORE_SCHEMA_VERSION) {
      throw new Error(`Event store schema version ${version} is newer than this code supports (${SQLITE_EVENT_STORE_SCHEMA_VERSION})`);
    }
    if (version < 1) {
      // A file at version 0 is new, or not an event store: another program's database (or a
      // Stagecraft read-models file) named by mistake is never written into.
      const objects = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      if (objects.length > 0) {
        const listed = objects.length > 5 ? `${objects.slice(0, 5).join(', ')} and ${objects.length - 5} more` : objects.join(', ');
        throw unexpectedTables(`is a SQLite database of another kind (it holds ${listed}, and no event store): name a new file, or an event store this service wrote`);
      }
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
  if ((db.pragma('user_version', { simple: true }) as number) !== SQLITE_EVENT_STORE_SCHEMA_VERSION) run.immediate();
  // Another program's database may carry the same user_version: the events table is checked too,
  // or every read would fail later with "no such table".
  assertTableColumns(db, 'events', EVENT_TABLE_COLUMNS, ['position']);
}

const EVENT_TABLE_COLUMNS = ['position', 'id', 'stream', 'revision', 'type', 'data', 'metadata', 'recorded_at'];
