import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { pathProblem, reasonOf } from '../path-problem';
import { makeFolders } from './make-folders';
import { basename, dirname, join } from 'node:path';

// Every SQLite file of Stagecraft (the events, the read models, the folded streams, the relay's
// checkpoints) is opened here, so that a file that cannot be used says so in one line naming the
// file and the setting that points at it, and a damaged file of derived data is set aside and
// rebuilt instead of stopping start-up.

/** A SQLite file that cannot be used: the path, the setting that names it, and why (one line, for operators). */
export class SQLiteFileError extends Error {
  constructor(
    readonly path: string,
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${path} (${variable}) ${reason}`);
    this.name = 'SQLiteFileError';
  }
}

export interface OpenSQLiteFileOptions {
  /** The setting that names the file, for the messages. */
  readonly variable: string;
  /** Pragmas and schema: run on the new connection; a failure there counts as the file's. */
  readonly prepare?: (db: Database.Database) => void;
  /**
   * Derived data (rebuilt from the log): a damaged file is renamed aside and a new one made, and
   * this is told why. Without it, a damaged file stops start-up.
   */
  readonly onSetAside?: (message: string) => void;
  /**
   * Run SQLite's structural check (PRAGMA quick_check) after opening: damage anywhere in the file
   * is found now, while it can still be set aside, and not later by a load or a save. It reads the
   * whole file (about 0.1 s per 250 MB here); meant for derived files with onSetAside.
   */
  readonly quickCheck?: boolean;
  /**
   * The tables this kind of file holds (older layouts' included). A file holding any other table
   * or view is another program's (or another setting's) and is refused before anything is written
   * into it: never set aside, never given tables of ours beside its own.
   */
  readonly ownTables?: readonly string[];
  /**
   * This process writes the file (a relay's checkpoints, a derived file it keeps). SQLite opens a
   * file it may not write read-only, without a word, and the first write fails much later (every
   * save of the read models, or a relay retrying for ever): one this user may read but not write
   * is refused at once, or, derived (onSetAside), set aside and made anew.
   */
  readonly writable?: boolean;
}

/**
 * Makes sure the file exists and, when this creates it, that only its owner can read it (SQLite
 * gives -wal and -shm the same mode). A new file is made whole beside its name (a SQLite database
 * in WAL mode, as every Stagecraft file is) and only then linked in: another process starting at
 * the same instant, or a start that dies half-way, never finds an empty file under the name, which
 * would read as one emptied by accident (refused, for the events: assertNotEmptied).
 */
export function ensureOwnerOnlyFile(path: string, variable = 'the file'): void {
  try {
    makeFolders(dirname(path));
  } catch (error) {
    // EEXIST here: a part of the folder path is a file.
    throw new SQLiteFileError(path, variable, (error as NodeJS.ErrnoException).code === 'EEXIST' ? FOLDER_PATH_BROKEN : sqliteFileProblem(error));
  }
  if (existsSync(path)) return;
  const temporary = join(dirname(path), `.${basename(path)}.new-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(temporary, 'wx', 0o600));
    const db = new Database(temporary);
    try {
      db.pragma('journal_mode = WAL'); // writes the header: a database, not an empty file
    } finally {
      db.close();
    }
    try {
      linkSync(temporary, path); // never over a file another process linked in meanwhile
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      // A file system without hard links: the rename may, at worst, replace a file made the same instant, itself new.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
      if (!existsSync(path)) renameSync(temporary, path);
    }
  } catch (error) {
    throw new SQLiteFileError(path, variable, sqliteFileProblem(error, path));
  } finally {
    for (const suffix of ['', '-wal', '-shm']) {
      try {
        rmSync(temporary + suffix, { force: true });
      } catch {
        // A folder path that is not one (ENOTDIR): nothing was made there.
      }
    }
  }
}

/**
 * Opens a SQLite file (':memory:' too), creating it owner-only when missing, and runs `prepare` on
 * it. A file that cannot be used throws SQLiteFileError; with onSetAside, a damaged or unreadable
 * file is renamed aside (with its -wal and -shm) and a new one made in its place.
 */
export function openSQLiteFile(path: string, options: OpenSQLiteFileOptions): Database.Database {
  if (path === ':memory:' || path === '') return openPrepared(path, options);
  assertNotSpecialFile(path, options.variable);
  if (!options.onSetAside) {
    try {
      assertRegularCompanions(path);
    } catch (error) {
      throw new SQLiteFileError(path, options.variable, sqliteFileProblem(error, path));
    }
    // Data that is not derived (the events, the relay's checkpoints) is never taken for a new file
    // when what is there says it was something: SQLite would start an empty database and drop the log.
    assertNotEmptied(path, options.variable);
    if (options.writable) assertWritableFile(path, options.variable);
  }
  ensureOwnerOnlyFile(path, options.variable);
  try {
    if (options.onSetAside) assertRegularCompanions(path); // a derived file's go aside with it
    if (options.onSetAside && options.writable) assertWritableParts(path); // and so do they when this user may not write them
    return openPrepared(path, options);
  } catch (error) {
    // Only a file is set aside, never a folder (a path setting pointing at one must not move it).
    if (!options.onSetAside || !canSetAside(error) || !existsSync(path) || statSync(path).isDirectory()) throw new SQLiteFileError(path, options.variable, `${sqliteFileProblem(error, path)}${walHint(path, options)}`);
    const aside = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
    } catch (renameError) {
      throw new SQLiteFileError(path, options.variable, `${sqliteFileProblem(error)}, and it cannot be set aside: ${sqliteFileProblem(renameError)}`);
    }
    options.onSetAside(`${path} (${options.variable}) ${sqliteFileProblem(error)}: set aside as ${aside}; it is rebuilt from the event log`);
    ensureOwnerOnlyFile(path, options.variable);
    try {
      return openPrepared(path, options);
    } catch (again) {
      throw new SQLiteFileError(path, options.variable, sqliteFileProblem(again, path));
    }
  }
}

/** What is at `path` when it is not a regular file ('a folder', 'a FIFO', …; missing: undefined too). */
export function specialKindOf(path: string): string | undefined {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return undefined; // missing: made as needed (a folder path that is broken says so when it is made)
  }
  if (stats.isFile()) return undefined;
  return stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device';
}

/**
 * A FIFO, socket or device where the file should be would hang the open or fail with SQLite's
 * "disk I/O error": refused, naming it, and never set aside (a folder is left to SQLite's own
 * refusal, which names it).
 */
function assertNotSpecialFile(path: string, variable: string): void {
  const kind = specialKindOf(path);
  if (kind !== undefined && kind !== 'a folder') throw new SQLiteFileError(path, variable, `is ${kind}, not a file: name a file`);
}

/** The -wal and -shm beside the file are files, or missing (SQLite failed on them with "disk I/O error"). */
function assertRegularCompanions(path: string): void {
  for (const suffix of ['-wal', '-shm']) {
    const kind = specialKindOf(path + suffix);
    if (kind === undefined) continue;
    const role = suffix === '-wal' ? 'write-ahead log' : 'shared memory';
    throw Object.assign(new Error(`cannot be opened: ${path + suffix}, where SQLite keeps its ${role}, is ${kind}, not a file: move it away`), { code: SPECIAL_COMPANION });
  }
}

/** The code of assertRegularCompanions' refusal: a derived file is set aside with its companions. */
const SPECIAL_COMPANION = 'STAGECRAFT_SPECIAL_COMPANION';

/**
 * The events (or the relay's checkpoints) are not made anew where a file says they were there:
 * a main file missing or empty beside a write-ahead log that is not (the log's recent pages may
 * be all there is), or an empty main file (a botched copy, a truncation). SQLite would take either
 * for a new database and remove the log.
 */
function assertNotEmptied(path: string, variable: string): void {
  const sizeOf = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return undefined;
    }
  };
  const main = sizeOf(path);
  const wal = sizeOf(`${path}-wal`) ?? 0;
  if ((main === undefined || main === 0) && wal > 0) {
    throw new SQLiteFileError(
      path,
      variable,
      `${main === undefined ? 'is missing' : 'is empty'}, but its write-ahead log ${path}-wal holds ${wal} bytes, which may be all that is left of it: restore ${path} (with that -wal beside it), or move ${path}-wal away to start with an empty file`,
    );
  }
  if (main === 0) {
    throw new SQLiteFileError(path, variable, 'is an empty file (0 bytes), where a SQLite database was expected: if it held data, restore it from a backup; to start with a new one, delete the file');
  }
}

/**
 * A process that writes the file (the API appending events) refuses to start on one this user may
 * read but not write: SQLite would open it read-only and every command would fail. Root may write
 * anything, whatever the modes.
 */
export function assertWritableFile(path: string, variable: string): void {
  if (path === ':memory:' || path === '') return;
  const which = unwritablePart(path, [path, `${path}-wal`, `${path}-shm`, dirname(path)]);
  if (which !== undefined) throw new SQLiteFileError(path, variable, unwritable(which));
}

/**
 * A derived file, its -wal or -shm that this user may not write: thrown with a code that sets them
 * aside (renaming them needs only the folder, which the open then needs anyway).
 */
function assertWritableParts(path: string): void {
  const which = unwritablePart(path, [path, `${path}-wal`, `${path}-shm`]);
  if (which !== undefined) throw Object.assign(new Error(unwritable(which)), { code: UNWRITABLE });
}

/** The code of assertWritableParts' refusal: a derived file is set aside, as one it may not read is. */
const UNWRITABLE = 'STAGECRAFT_UNWRITABLE';

function unwritable(which: string): string {
  return `cannot be written: this user may not write ${which} (check the owner and mode of the file, its -wal and -shm, and its folder)`;
}

/** Which of `targets` (the file, its companions, its folder) this user may not write, in words; undefined: all can be written, or are missing. */
function unwritablePart(path: string, targets: readonly string[]): string | undefined {
  for (const target of targets) {
    if (target !== path && target !== dirname(path) && !existsSync(target)) continue;
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') continue; // missing, or a broken folder path: the open says so
      return target === path ? 'it' : target === dirname(path) ? `its folder ${target}` : target;
    }
  }
  return undefined;
}

function openPrepared(path: string, { prepare, quickCheck, ownTables, onSetAside }: OpenSQLiteFileOptions): Database.Database {
  const guard = !onSetAside && path !== ':memory:' && path !== '' ? walGuard(path) : undefined;
  const db = new Database(path);
  try {
    if (quickCheck) {
      const problems = (db.pragma('quick_check(3)') as { quick_check: string }[]).map((row) => row.quick_check).filter((line) => line !== 'ok');
      if (problems.length > 0) throw Object.assign(new Error(`SQLite's check found: ${problems.join('; ')}`), { code: 'SQLITE_CORRUPT' });
    }
    if (ownTables) assertOwnTables(db, ownTables);
    prepare?.(db);
    return db;
  } catch (error) {
    db.close();
    throw error;
  } finally {
    guard?.close();
  }
}

/** Whether a -wal with anything in it is beside the file. */
function holdsWal(path: string): boolean {
  try {
    return statSync(`${path}-wal`).size > 0;
  } catch {
    return false;
  }
}

/** A refusal of a file that is not derived, read with a -wal beside it: that -wal may be the cause, and it was left as it is. */
function walHint(path: string, options: OpenSQLiteFileOptions): string {
  if (options.onSetAside || !holdsWal(path)) return '';
  return ` (as read with the write-ahead log ${path}-wal beside it, which was left as it is: if that -wal is not this file's own, copied from another database, move it away)`;
}

/**
 * For a file that is not derived (the events, the relay's checkpoints) with a write-ahead log
 * beside it: a read-only connection that holds the file while the checks run, or the refusal of a
 * file it cannot read. SQLite folds the -wal into the file when its last connection closes, and a
 * -wal need not be the file's own (copied from another database, or from another copy of this
 * one): a file refused as another kind, or damaged, was overwritten by that close, its events lost
 * while the refusal said nothing was written. A connection that is not the last folds nothing, and
 * a read-only one never does: refused, the file and its -wal stay as they were.
 */
function walGuard(path: string): Database.Database | undefined {
  if (!holdsWal(path)) return undefined; // nothing to fold in
  const guard = new Database(path, { readonly: true, fileMustExist: true });
  try {
    // A read takes the shared lock a connection in WAL mode then holds until it closes.
    guard.prepare('SELECT count(*) FROM sqlite_master').get();
    return guard;
  } catch (error) {
    guard.close();
    throw error;
  }
}

const FOLDER_PATH_BROKEN = 'cannot be created: a part of its folder path is missing or not a folder';

/** The code of an assertTableColumns refusal. */
const UNEXPECTED_TABLES = 'STAGECRAFT_UNEXPECTED_TABLES';
const DAMAGED = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_IOERR_SHORT_READ', UNEXPECTED_TABLES]);

/**
 * Adds to `table` the columns a later version gave it (name → definition) that a file written
 * before lacks; their defaults stand for the rows already there.
 */
export function addMissingColumns(db: Database.Database, table: string, added: Readonly<Record<string, string>>): void {
  const present = new Set((db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name));
  for (const [name, definition] of Object.entries(added)) if (!present.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${definition}`);
}

/**
 * Checks, in a derived file's `prepare`, that each table has the columns this code reads: a file
 * holding a table of the same name but another shape (another program's, an older layout) would
 * otherwise stop start-up with "no such column". Such a file is set aside like a damaged one.
 */
export function assertTableColumns(db: Database.Database, table: string, columns: readonly string[], primaryKey: readonly string[] = []): void {
  const unexpected = (what: string) => unexpectedTables(`its ${table} ${what}: it was not written by this version of Stagecraft`);
  const kind = db.prepare<[string], { type: string }>('SELECT type FROM sqlite_master WHERE name = ?').get(table)?.type;
  if (kind !== 'table') throw unexpected(kind === undefined ? 'table is missing' : `is a ${kind}, not a table`);
  const info = db.pragma(`table_info(${table})`) as { name: string; pk: number }[];
  const present = new Set(info.map((column) => column.name));
  const missing = columns.filter((column) => !present.has(column));
  if (missing.length > 0) throw unexpected(`table has no column ${missing.join(', ')}`);
  // Upserts need the key: without it they fail at the first save.
  const key = info.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk).map((column) => column.name);
  if (key.join(',') !== primaryKey.join(',')) throw unexpected(`table's primary key is (${key.join(', ')}), not (${primaryKey.join(', ')})`);
}

function assertOwnTables(db: Database.Database, ownTables: readonly string[]): void {
  const own = new Set(ownTables);
  const foreign = db
    .prepare<[], string>("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all()
    .filter((name) => !own.has(name));
  if (foreign.length === 0) return;
  const listed = foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')} and ${foreign.length - 5} more` : foreign.join(', ');
  throw Object.assign(new Error(`is a SQLite database of another kind (it holds ${listed}): nothing was written into it; name a file of its own, or a new one`), { code: FOREIGN_FILE });
}

/** The code of an assertOwnTables refusal: not damage, so the file is never set aside. */
const FOREIGN_FILE = 'STAGECRAFT_FOREIGN_FILE';

/** A file whose tables are not the ones this code made (`message`: which, and what to do); a derived one is set aside, the event store stops start-up. */
export function unexpectedTables(message: string): Error {
  return Object.assign(new Error(message), { code: UNEXPECTED_TABLES });
}

/** Damage, or a file this process may not read: either way a derived file is better replaced. */
function canSetAside(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return DAMAGED.has(code) || code === 'SQLITE_CANTOPEN' || code === 'EACCES' || code === 'EPERM' || code === SPECIAL_COMPANION || code === UNWRITABLE;
}

/** The codes of a file that cannot be used as it stands (damaged, read-only, unreadable): not a fault of the request. */
export function isSQLiteFileFault(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string') return false;
  return DAMAGED.has(code) || code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN';
}

/**
 * SQLite gave up waiting for a lock another connection holds (SQLITE_BUSY after the busy timeout,
 * or SQLITE_LOCKED): nothing is wrong with the file, another process keeps it to itself for now.
 */
export function isSQLiteLockedOut(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const READ_ONLY_FOLDER =
  'cannot be opened: it is in WAL mode, so SQLite must make its -shm file beside it, even to read it, and this user may not write its folder (let it, or copy the file, with its -wal if there is one, to a folder it can write)';

/**
 * Why a SQLite file cannot be used, in words for an operator (a SqliteError's or a file system
 * error's code), on one line: SQLite writes what its check found on several ("*** in database
 * main ***" then a line per problem), which split the one-line warning or refusal in the log.
 */
export function sqliteFileProblem(error: unknown, path?: string): string {
  return describeProblem(error, path).replace(/\s*[\r\n]+\s*/g, '; ');
}

/**
 * SQLite says only CANTOPEN for a path it cannot open, whatever the cause; given the path, the
 * cause is looked for there (a link that loops, a link to nothing), in pathProblem's words, then
 * its -wal and -shm, which SQLite opens beside it.
 */
function cannotOpen(path: string | undefined): string {
  if (path !== undefined) {
    const own = pathProblem(path, 'file');
    if (own !== undefined) return own;
    for (const companion of [`${path}-wal`, `${path}-shm`]) {
      const problem = pathProblem(companion, 'file');
      if (problem !== undefined && problem !== 'does not exist') return `cannot be opened: ${companion} ${problem}`;
    }
  }
  return 'cannot be opened (a missing folder, or no permission)';
}

function describeProblem(error: unknown, path: string | undefined): string {
  const code = (error as { code?: string })?.code ?? '';
  // Its name, or the name of what is made beside it (-wal, -shm, the temporary file it is made
  // under), is longer than the file system takes: said so, not as the temporary's name and a system call.
  if (code === 'ENAMETOOLONG') return 'has a name too long for the file system, or too long for the files made beside it (its -wal and -shm, and a temporary name about 20 characters longer while it is made): give a shorter one';
  if (code === 'ELOOP') return reasonOf(error as NodeJS.ErrnoException);
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be opened: permission denied (check the owner and mode of the file and its folder)';
  // Even a read (verify of a backup) of a file in WAL mode needs its -shm beside it, which SQLite
  // makes there: a folder this user may not write is the cause, not the file.
  if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_READONLY_CANTINIT') return READ_ONLY_FOLDER;
  if (code === 'EROFS' || code.startsWith('SQLITE_READONLY')) return 'cannot be written: it is on a read-only file system or mode';
  if (code === 'ENOSPC' || code === 'SQLITE_FULL') return 'cannot be written: the disk is full';
  // A WAL-mode file needs its -shm beside it, grown to 32 KiB as it is opened: on a full disk (or
  // quota) that fails first, and SQLite says only "disk I/O error".
  if (code === 'SQLITE_IOERR_SHMSIZE') return 'cannot be opened: the disk is full (or this user\'s quota): SQLite cannot make the -shm file it needs beside it; free some space';
  if (code === 'ENOTDIR' || code === 'ENOENT') return FOLDER_PATH_BROKEN;
  if (code === 'SQLITE_NOTADB') return 'is not a SQLite database (damaged, or another kind of file)';
  if (code === UNEXPECTED_TABLES || code === FOREIGN_FILE || code === SPECIAL_COMPANION || code === UNWRITABLE) return (error as Error).message;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_IOERR_SHORT_READ') return `is damaged (${(error as Error).message})`;
  if (code === 'SQLITE_CANTOPEN') return cannotOpen(path);
  // Past the busy timeout at opening: not damage, and never a file to set aside (its holder would go on writing the one moved away).
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return "is locked by another program that holds it open (SQLite's exclusive locking mode, or a write that does not end): close that program, then start again";
  return `cannot be used: ${(error as Error)?.message ?? String(error)}`;
}
