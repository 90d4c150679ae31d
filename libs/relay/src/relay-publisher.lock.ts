import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ensureOwnerOnlyFile, specialKindOf, SQLiteFileError, sqliteFileProblem } from '@stagecraft/event-store';

/** Held while a relay publishes from a state file; released by `release()` or by the process's end. */
export interface RelayPublisherLock {
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

const isBusy = (error: unknown) => (error as { code?: unknown }).code === 'SQLITE_BUSY';

/**
 * Claims the right to publish from a relay state file. Two relays on one file would each publish
 * every event (doubling what subscribers receive) and race each other's checkpoints, so a second
 * one is refused at start-up, naming the file and the process that holds it. The claim is a
 * SQLite write lock held open on `<file>.lock` (the state file itself stays free for the CLI's
 * replays and discards): the operating system drops it when the holder dies, even by SIGKILL, so
 * a crashed relay never leaves a stale claim behind. It arbitrates between processes sharing the
 * file's locks (one machine), not between machines on a network file system.
 */
export function claimRelayPublishing(statePath: string, variable = 'RELAY_STATE_PATH'): RelayPublisherLock {
  const lockPath = `${statePath}.lock`;
  const unusable = (reason: string) => new SQLiteFileError(lockPath, variable, `cannot be used as the relay's lock: ${reason}`);
  // A folder, FIFO, socket or device where the lock or its -wal/-shm should be was made by no
  // relay: named, and left where it is (SQLite would fail on it with a bare "unable to open").
  for (const part of [lockPath, `${lockPath}-wal`, `${lockPath}-shm`]) {
    const kind = specialKindOf(part);
    if (kind !== undefined) throw unusable(`${part} is ${kind}, not a file: move it away (no relay made it)`);
  }
  ensureOwnerOnlyFile(lockPath, variable);
  let db: Database.Database;
  try {
    // No busy wait: a lock that is held is held by a relay that runs, and waiting would not free it.
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw unusable(sqliteFileProblem(error, lockPath));
  }
  const refuse = (holder: Holder | undefined): never => {
    db.close();
    const who =
      holder === undefined
        ? 'another relay'
        : holder.pid === process.pid && holder.host === hostname()
          ? `another relay of this same process (${holder.pid})`
          : `another relay, process ${holder.pid} on ${holder.host} (publishing from it since ${holder.since})`;
    throw new SQLiteFileError(
      statePath,
      variable,
      `is in use by ${who}: two relays on one file would publish every event twice. Stop that one first (an API with RELAY=in-process, or npm run start:relay), or, to publish to other sinks, give this one its own ${variable} (two relays on the same sinks publish every event twice, whatever their files); the claim is held in ${lockPath}`,
    );
  };
  try {
    db.pragma('journal_mode = WAL'); // readers see who holds it while it is held
    db.exec('CREATE TABLE IF NOT EXISTS relay_publisher (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL, claim TEXT NOT NULL)');
  } catch (error) {
    if (isBusy(error)) refuse(undefined);
    db.close();
    // Not a database: no relay wrote it, but one started before it was overwritten may still hold it.
    const notOurs = (error as { code?: unknown }).code === 'SQLITE_NOTADB' ? `; no relay wrote it: once no relay publishes from ${statePath}, delete it` : '';
    throw unusable(`${sqliteFileProblem(error, lockPath)}${notOurs}`);
  }
  // A relay_publisher already there in another shape (a view, columns missing: an edit, another
  // program's file) is left as it is by CREATE TABLE IF NOT EXISTS and failed on the claim's first
  // write, as a stack trace. Named instead, like any lock no relay made.
  const shape = lockTableShapeProblem(db);
  if (shape !== undefined) {
    db.close();
    throw unusable(`its relay_publisher is not the table a relay makes (${shape}); no relay wrote it: once no relay publishes from ${statePath}, delete it`);
  }
  const holder = () => db.prepare<[], Holder & { claim: string }>('SELECT pid, host, since, claim FROM relay_publisher WHERE id = 1').get();
  const me = { pid: process.pid, host: hostname(), since: new Date().toISOString(), claim: randomUUID() };
  // Who holds it is written (committed, so others can read it) and then the write lock is taken
  // again and kept. Another relay may take it in between: then whoever holds it afterwards, with
  // its own name written, wins, and the other is refused.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) refuse(holder());
      throw error;
    }
    db.prepare('INSERT OR REPLACE INTO relay_publisher (id, pid, host, since, claim) VALUES (1, ?, ?, ?, ?)').run(me.pid, me.host, me.since, me.claim);
    db.exec('COMMIT');
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      if (isBusy(error)) continue;
      throw error;
    }
    if (holder()?.claim === me.claim) {
      return { release: () => db.close() }; // closing ends the transaction, and with it the claim
    }
    db.exec('ROLLBACK');
  }
  return refuse(holder());
}

const LOCK_COLUMNS = ['id', 'pid', 'host', 'since', 'claim'];

/** What keeps relay_publisher from holding a claim, in SQLite's words where it has some; undefined when it is the table a relay makes. */
function lockTableShapeProblem(db: Database.Database): string | undefined {
  const kind = db.prepare<[], { type: string }>("SELECT type FROM sqlite_master WHERE name = 'relay_publisher'").get()?.type;
  if (kind !== 'table') return `cannot modify relay_publisher because it is a ${kind ?? 'missing table'}`;
  const columns = new Set(db.prepare<[], { name: string }>('SELECT name FROM pragma_table_info(\'relay_publisher\')').all().map((column) => column.name));
  const missing = LOCK_COLUMNS.find((column) => !columns.has(column));
  return missing === undefined ? undefined : `table relay_publisher has no column named ${missing}`;
}
