import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventStoreDatabase } from './sqlite-database';
import { assertTableColumns, openSQLiteFile, SQLiteFileError, sqliteFileProblem } from './sqlite-file';

describe('openSQLiteFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-sqlite-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const prepare = (db: import('better-sqlite3').Database) => db.exec('CREATE TABLE IF NOT EXISTS t (x)');

  it('creates a missing file, and its folders, readable by its owner only', () => {
    const path = join(dir, 'a', 'b', 'new.db');
    openSQLiteFile(path, { variable: 'SOME_PATH', prepare }).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('opens :memory: without touching the disk', () => {
    const db = openSQLiteFile(':memory:', { variable: 'SOME_PATH', prepare });
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses a file that is not a database, naming it and the variable, and leaves it where it is', () => {
    const path = join(dir, 'not.db');
    writeFileSync(path, 'not a database at all '.repeat(50));
    expect(() => openSQLiteFile(path, { variable: 'EVENT_STORE_PATH', prepare })).toThrow(new SQLiteFileError(path, 'EVENT_STORE_PATH', 'is not a SQLite database (damaged, or another kind of file)'));
    expect(readdirSync(dir)).toEqual(['not.db']);
  });

  it('sets a damaged derived file aside, says so, and opens a new one in its place', () => {
    const path = join(dir, 'derived.db');
    writeFileSync(path, 'not a database at all '.repeat(50));
    const told: string[] = [];
    const db = openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare, onSetAside: (message) => told.push(message), quickCheck: true });
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
    db.close();
    const aside = readdirSync(dir).filter((name) => name.startsWith('derived.db.damaged-'));
    expect(aside).toHaveLength(1);
    expect(told).toEqual([expect.stringContaining(`${path} (READ_MODELS_PATH) is not a SQLite database`)]);
    expect(told[0]).toContain(`set aside as ${join(dir, aside[0])}`);
  });

  it('says in one line what SQLite\'s check found, however many lines SQLite wrote it in', () => {
    const path = join(dir, 'derived.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x)');
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let row = 0; row < 500; row += 1) insert.run(Buffer.alloc(100, row % 256));
    const root = db.prepare<[], number>("SELECT rootpage FROM sqlite_master WHERE name = 't'").pluck().get()!;
    db.close();
    // The table's root is an interior page: its right-most child pointer made the same as its first
    // cell's, the check reports a page referenced twice, rows out of order and a page never used,
    // and SQLite writes them on several lines ("*** in database main ***\nTree 2 page 2 …").
    const fd = openSync(path, 'r+');
    const page = Buffer.alloc(4096);
    readSync(fd, page, 0, page.length, (root - 1) * 4096);
    page.writeUInt32BE(page.readUInt32BE(page.readUInt16BE(12)), 8);
    writeSync(fd, page, 0, page.length, (root - 1) * 4096);
    closeSync(fd);
    const told: string[] = [];
    openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare, onSetAside: (message) => told.push(message), quickCheck: true }).close();
    expect(told).toEqual([expect.stringContaining(`${path} (READ_MODELS_PATH) is damaged (SQLite's check found: *** in database main ***; Tree ${root} page ${root}`)]);
    expect(told[0]).not.toMatch(/[\r\n]/);
    expect(sqliteFileProblem(Object.assign(new Error('first\n  second\r\nthird'), { code: 'SQLITE_IOERR_READ' }))).toBe('cannot be used: first; second; third');
  });

  it('sets aside a derived file whose table has another shape (assertTableColumns), but never a folder', () => {
    const path = join(dir, 'other.db');
    const other = new Database(path);
    other.exec('CREATE TABLE t (y)');
    other.close();
    const told: string[] = [];
    const checked = (db: import('better-sqlite3').Database) => {
      prepare(db);
      assertTableColumns(db, 't', ['x']);
    };
    openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare: checked, onSetAside: (message) => told.push(message) }).close();
    expect(told).toEqual([expect.stringMatching(/its t table has no column x: it was not written by this version of Stagecraft: set aside as/)]);
    // A view of that name, or the table without its primary key, is not what the code writes into either.
    for (const [name, make] of [['view.db', 'CREATE TABLE s (x); CREATE VIEW t AS SELECT * FROM s'], ['nokey.db', 'CREATE TABLE t (x, y)']] as const) {
      const file = join(dir, name);
      const db = new Database(file);
      db.exec(make);
      db.close();
      const keyed = (opened: import('better-sqlite3').Database) => {
        opened.exec('CREATE TABLE IF NOT EXISTS t (x PRIMARY KEY, y)');
        assertTableColumns(opened, 't', ['x', 'y'], ['x']);
      };
      openSQLiteFile(file, { variable: 'READ_MODELS_PATH', prepare: keyed, onSetAside: (message) => told.push(message) }).close();
    }
    expect(told.slice(1)).toEqual([expect.stringMatching(/its t is a view, not a table/), expect.stringMatching(/its t table's primary key is \(\), not \(x\)/)]);
    told.length = 1;
    // A folder given as the path is refused where it is, whatever the set-aside says.
    const folder = join(dir, 'folder.db');
    mkdirSync(folder);
    expect(() => openSQLiteFile(folder, { variable: 'READ_MODELS_PATH', prepare, onSetAside: (message) => told.push(message) })).toThrow(SQLiteFileError);
    expect(statSync(folder).isDirectory()).toBe(true);
    expect(told).toHaveLength(1);
  });

  it('refuses a file holding the tables of another program (ownTables): nothing written into it, nothing set aside, even with onSetAside', () => {
    const path = join(dir, 'crm.db');
    const other = new Database(path);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ann'); CREATE VIEW names AS SELECT name FROM customers");
    other.close();
    const told: string[] = [];
    const open = () => openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare, ownTables: ['t'], onSetAside: (message) => told.push(message), quickCheck: true });
    expect(open).toThrow(new SQLiteFileError(path, 'READ_MODELS_PATH', 'is a SQLite database of another kind (it holds customers, names): nothing was written into it; name a file of its own, or a new one'));
    expect(told).toEqual([]);
    expect(readdirSync(dir)).toEqual(['crm.db']);
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name").pluck().all()).toEqual(['customers', 'names']);
    after.close();
    // One of its own tables beside theirs is no excuse; a file of its own tables alone opens.
    const own = join(dir, 'own.db');
    const made = new Database(own);
    made.exec('CREATE TABLE t (x); CREATE TABLE legacy (y)');
    made.close();
    openSQLiteFile(own, { variable: 'READ_MODELS_PATH', prepare, ownTables: ['t', 'legacy'] }).close();
    expect(() => openSQLiteFile(own, { variable: 'READ_MODELS_PATH', prepare, ownTables: ['t'] })).toThrow(/another kind \(it holds legacy\)/);
  });

  it('keeps a healthy derived file, with its rows', () => {
    const path = join(dir, 'healthy.db');
    const first = openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare });
    first.prepare('INSERT INTO t VALUES (42)').run();
    first.close();
    const told: string[] = [];
    const again = openSQLiteFile(path, { variable: 'READ_MODELS_PATH', prepare, onSetAside: (message) => told.push(message), quickCheck: true });
    expect(again.prepare('SELECT x FROM t').get()).toEqual({ x: 42 });
    again.close();
    expect(told).toEqual([]);
  });

  it('refuses a FIFO where the file or its -wal should be, naming it, never setting it aside (opening one would hang)', () => {
    const path = join(dir, 'fifo.db');
    execFileSync('mkfifo', [path]);
    for (const onSetAside of [undefined, () => undefined]) {
      expect(() => openSQLiteFile(path, { variable: 'SOME_PATH', prepare, ...(onSetAside ? { onSetAside } : {}) })).toThrow(new SQLiteFileError(path, 'SOME_PATH', 'is a FIFO, not a file: name a file'));
    }
    expect(statSync(path).isFIFO()).toBe(true);
    const other = join(dir, 'other.db');
    mkdirSync(`${other}-wal`);
    expect(() => openSQLiteFile(other, { variable: 'SOME_PATH', prepare })).toThrow(/cannot be opened: .*other\.db-wal, where SQLite keeps its write-ahead log, is a folder, not a file: move it away/);
    // A derived file's companions go aside with it, as they always did: derived files never block start-up.
    const told: string[] = [];
    openSQLiteFile(other, { variable: 'SOME_PATH', prepare: (db) => (db.pragma('journal_mode = WAL'), prepare(db)), onSetAside: (message) => told.push(message) }).close();
    expect(told).toEqual([expect.stringContaining('set aside as')]);
  });

  it('refuses data that is not derived where a file says it was there: an empty file, or a write-ahead log without its file; a derived one is made anew', () => {
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    expect(() => openSQLiteFile(empty, { variable: 'SOME_PATH', prepare })).toThrow(/is an empty file \(0 bytes\)/);
    openSQLiteFile(empty, { variable: 'SOME_PATH', prepare, onSetAside: () => undefined }).close();
    const orphan = join(dir, 'orphan.db');
    writeFileSync(`${orphan}-wal`, Buffer.alloc(4096, 7));
    expect(() => openSQLiteFile(orphan, { variable: 'SOME_PATH', prepare })).toThrow(`is missing, but its write-ahead log ${orphan}-wal holds 4096 bytes`);
    expect(readdirSync(dir).filter((file) => file.startsWith('orphan'))).toEqual(['orphan.db-wal']);
  });

  // SQLite folds a -wal into its file when the last connection closes, whatever database wrote it.
  const events = {
    open: (path: string) => openEventStoreDatabase(path, 'full'),
    write: (db: Database.Database) =>
      db.exec("INSERT INTO events (id, stream, revision, type, data, metadata, recorded_at) VALUES ('e-1', 's', 0, 'Ping', '{}', '{}', 'now'), ('e-2', 's', 1, 'Ping', '{}', '{}', 'now')"),
    read: (db: Database.Database) => db.prepare('SELECT id FROM events ORDER BY position').pluck().all(),
  };
  const relayState = {
    open: (path: string) => openSQLiteFile(path, { variable: 'RELAY_STATE_PATH', ownTables: ['kept'], prepare: (db) => db.exec('CREATE TABLE IF NOT EXISTS kept (x)') }),
    write: (db: Database.Database) => db.exec("INSERT INTO kept VALUES ('e-1'), ('e-2')"),
    read: (db: Database.Database) => db.prepare('SELECT x FROM kept ORDER BY x').pluck().all(),
  };
  it.each([
    ['the events (refused in migrate, as another kind)', events],
    ['the relay state (refused by ownTables)', relayState],
  ])('refuses %s when read with a -wal of another database, and leaves the file and that -wal as they were', (_case, kind) => {
    const path = join(dir, 'kept.db');
    const own = kind.open(path);
    kind.write(own);
    own.close(); // checkpointed: the file alone holds the rows, and no -wal is left
    const other = new Database(join(dir, 'other.db'));
    other.pragma('journal_mode = WAL');
    other.pragma('wal_autocheckpoint = 0');
    other.exec('CREATE TABLE foreign_rows (y); INSERT INTO foreign_rows VALUES (1)');
    writeFileSync(`${path}-wal`, readFileSync(join(dir, 'other.db-wal')));
    other.close();
    const walBefore = readFileSync(`${path}-wal`);

    expect(() => kind.open(path)).toThrow(SQLiteFileError);
    expect(() => kind.open(path)).toThrow(`write-ahead log ${path}-wal beside it, which was left as it is`);
    expect(readFileSync(`${path}-wal`).equals(walBefore)).toBe(true);
    // The file alone, read without that -wal, still holds its rows.
    copyFileSync(path, join(dir, 'alone.db'));
    const alone = new Database(join(dir, 'alone.db'), { readonly: true });
    try {
      expect(kind.read(alone)).toEqual(['e-1', 'e-2']);
    } finally {
      alone.close();
    }
  });

  // Another program holding the file in exclusive locking mode (a sqlite3 shell, a backup tool): it
  // is neither damaged nor to be set aside (a derived one would be forked from under its holder).
  it('names a file another program holds locked, and why, never setting it aside', () => {
    for (const variable of ['EVENT_STORE_PATH', 'READ_MODELS_PATH']) {
      const path = join(dir, `${variable}.db`);
      openSQLiteFile(path, { variable, prepare }).close();
      const holder = new Database(path);
      holder.pragma('locking_mode = EXCLUSIVE');
      holder.exec('BEGIN EXCLUSIVE; COMMIT');
      try {
        const open = () => openSQLiteFile(path, { variable, prepare, onSetAside: () => undefined });
        expect(open).toThrow(SQLiteFileError);
        expect(open).toThrow(`${path} (${variable}) is locked by another program that holds it open (SQLite's exclusive locking mode, or a write that does not end): close that program, then start again`);
      } finally {
        holder.close();
      }
      expect(readdirSync(dir).filter((name) => name.includes('damaged'))).toEqual([]);
    }
  });

  it('names a folder path that runs through a file', () => {
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    const told: string[] = [];
    expect(() => openSQLiteFile(join(file, 'x.db'), { variable: 'READ_MODELS_PATH', prepare, onSetAside: (message) => told.push(message) })).toThrow(
      /x\.db \(READ_MODELS_PATH\) cannot be created: a part of its folder path is missing or not a folder/,
    );
    expect(told).toEqual([]);
  });
});

describe('sqliteFileProblem', () => {
  it('names a full disk where SQLite cannot size its shared-memory file (what opening a WAL-mode file on a full disk fails with)', () => {
    expect(sqliteFileProblem(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_SHMSIZE' }))).toMatch(/^cannot be opened: the disk is full/);
    expect(sqliteFileProblem(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toMatch(/the disk is full/);
  });

  it('says a WAL-mode file in a folder this user may not write needs that folder, even to be read (SQLite makes its -shm there)', () => {
    // What better-sqlite3 throws, readonly or not, for a WAL file in a folder of mode 555 (checked as uid 65534).
    for (const code of ['SQLITE_READONLY_DIRECTORY', 'SQLITE_READONLY_CANTINIT']) {
      expect(sqliteFileProblem(Object.assign(new Error('attempt to write a readonly database'), { code }))).toMatch(/WAL mode, so SQLite must make its -shm file beside it, even to read it, and this user may not write its folder/);
    }
    expect(sqliteFileProblem(Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }))).toMatch(/read-only file system or mode/);
  });
});
