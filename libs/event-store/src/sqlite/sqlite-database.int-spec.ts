import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureWriterCache, openEventStoreDatabase, SQLITE_EVENT_STORE_SCHEMA_VERSION, WRITER_CACHE_PAGES } from './sqlite-database';
import { SQLiteFileError } from './sqlite-file';

describe("the writer connection's page cache", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-writer-cache-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is kept small in a file below 1 GiB, where a large one is walked whole after page splits', () => {
    const db = openEventStoreDatabase(join(dir, 'events.db'), 'full');
    const before = db.pragma('cache_size', { simple: true });
    expect(before).not.toBe(WRITER_CACHE_PAGES);
    configureWriterCache(db);
    expect(db.pragma('cache_size', { simple: true })).toBe(WRITER_CACHE_PAGES);
    db.close();
  });

  it('is left as it is in a file of 1 GiB or more, where no such walk happens', () => {
    // A file of 2^30 bytes or more, as the pragmas report it (writing one would take a gigabyte).
    const set: string[] = [];
    const large = {
      pragma: (text: string) => {
        if (text === 'page_size') return 4096;
        if (text === 'page_count') return 2 ** 18;
        set.push(text);
        return undefined;
      },
    } as unknown as Database.Database;
    configureWriterCache(large);
    expect(set).toEqual([]);
    const small = { ...large, pragma: (text: string) => (text === 'page_size' ? 4096 : text === 'page_count' ? 2 ** 18 - 1 : set.push(text)) } as unknown as Database.Database;
    configureWriterCache(small);
    expect(set).toEqual([`cache_size = ${WRITER_CACHE_PAGES}`]);
  });
});

describe('a file named as the event store that is not one', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-foreign-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What a file holds: its objects and its user_version. */
  const schemaOf = (path: string) => {
    const db = new Database(path, { readonly: true });
    try {
      return JSON.stringify(db.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all()) + db.pragma('user_version', { simple: true });
    } finally {
      db.close();
    }
  };
  /** A SQLite file made by another program: `sql` run on it, then closed. */
  const foreign = (sql: string): { path: string; before: string } => {
    const path = join(dir, 'events.db');
    const db = new Database(path);
    db.exec(sql);
    db.close();
    return { path, before: schemaOf(path) };
  };

  it.each([
    ['another program\'s tables', 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, \'ann\')', /another kind \(it holds users, and no event store\)/],
    ['a view only', 'CREATE VIEW answer AS SELECT 42', /it holds answer, and no event store/],
    ['a read-models file', 'CREATE TABLE read_model_snapshots (name TEXT PRIMARY KEY, body BLOB); CREATE TABLE read_model_snapshot_chunks (name TEXT, n INTEGER)', /it holds read_model_snapshot_chunks, read_model_snapshots, and no event store/],
    ['many tables', Array.from({ length: 7 }, (_, i) => `CREATE TABLE t${i} (x)`).join(';'), /it holds t0, t1, t2, t3, t4 and 2 more/],
    [`its own events table at user_version ${SQLITE_EVENT_STORE_SCHEMA_VERSION}`, `CREATE TABLE events (id INTEGER PRIMARY KEY, what TEXT); PRAGMA user_version = ${SQLITE_EVENT_STORE_SCHEMA_VERSION}`, /its events table has no column position, stream, revision, type, data, metadata, recorded_at/],
    [`no events table at user_version ${SQLITE_EVENT_STORE_SCHEMA_VERSION}`, `CREATE TABLE users (id INTEGER); PRAGMA user_version = ${SQLITE_EVENT_STORE_SCHEMA_VERSION}`, /its events table is missing: it was not written by/],
  ])('stops the opening on %s, names EVENT_STORE_PATH and writes nothing into it', (_label, sql, reason) => {
    const { path, before } = foreign(sql);
    let error: unknown;
    try {
      openEventStoreDatabase(path, 'full').close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SQLiteFileError);
    expect(error).toMatchObject({ path, variable: 'EVENT_STORE_PATH', reason: expect.stringMatching(reason) });
    expect(schemaOf(path)).toBe(before);
  });

  it('still opens a new file, and an event store it made, again', () => {
    const path = join(dir, 'events.db');
    openEventStoreDatabase(path, 'full').close();
    const again = openEventStoreDatabase(path, 'full');
    expect(again.pragma('user_version', { simple: true })).toBe(SQLITE_EVENT_STORE_SCHEMA_VERSION);
    again.close();
  });
});

describe('a new event store opened by two processes at once (the API and a projector starting together)', () => {
  it('opens in both, never refused as an empty file the other is in the middle of making', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-first-start-'));
    const ROOT = join(__dirname, '..', '..', '..', '..');
    const open = (path: string) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', "require('./libs/event-store/src/sqlite/sqlite-database').openEventStoreDatabase(process.argv[1], 'full').close()", path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.once('exit', (code) => resolve({ code, output }));
      });
    try {
      for (let round = 0; round < 6; round++) {
        const path = join(dir, `events-${round}.db`);
        const results = await Promise.all([open(path), open(path), open(path)]);
        expect(results.map((result) => [result.code, result.output.includes('empty file') ? 'refused as empty' : ''])).toEqual(results.map(() => [0, '']));
      }
      expect(readdirSync(dir).filter((name) => name.includes('.new-'))).toEqual([]); // nothing left beside them
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
