import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getSQLiteEventStore, SQLiteFileError, type EventStore } from '@stagecraft/event-store';
import { Relay } from './relay';
import { getSQLiteRelayStateStore } from './relay-state.store';

// Two relays on one state file would each publish every event and race the checkpoints: the
// second is refused at start. (Across processes, and after a SIGKILL: test/relay.e2e-spec.ts.)

const sqlite = (file: string, sql: string) => {
  const db = new Database(file);
  db.exec(sql);
  db.close();
};

describe('one relay per state file', () => {
  let dir: string;
  let store: EventStore;
  const relays: Relay[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-relay-claim-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop().catch(() => undefined)));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const relayOn = (statePath: string) => {
    const relay = new Relay(store, getSQLiteRelayStateStore(statePath), [], { newSinkFrom: 'beginning', retryBaseMs: 20, retryMaxMs: 200, readAhead: 64, replayCheckMs: 50, log: () => undefined });
    relays.push(relay);
    return relay;
  };

  it('refuses a second relay on the same file, naming the file and the holder; the CLI still reads and writes it; once the first stops, another may start', async () => {
    const statePath = join(dir, 'relay.db');
    const first = relayOn(statePath);
    first.start();

    const second = relayOn(statePath);
    let refusal: unknown;
    try {
      second.start();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(SQLiteFileError);
    expect((refusal as Error).message).toContain(`${statePath} (RELAY_STATE_PATH) is in use by another relay of this same process (${process.pid})`);
    // Its own file is the way out only for other sinks: on the same sinks, two relays publish every event twice.
    expect((refusal as Error).message).toContain('or, to publish to other sinks, give this one its own RELAY_STATE_PATH (two relays on the same sinks publish every event twice, whatever their files)');

    // The CLI's replays and discards write the file itself, which the claim leaves free.
    const cli = getSQLiteRelayStateStore(statePath);
    try {
      expect(cli.requestReplay('nats://a', 0, 0).generation).toBe(1);
    } finally {
      cli.close();
    }

    await first.stop();
    relays.splice(relays.indexOf(first), 1);
    const third = relayOn(statePath);
    expect(() => third.start()).not.toThrow();
  });

  it('a lock that no relay made (a folder, a FIFO, other bytes; or such a thing beside it) is refused in one line naming it, and left where it is', () => {
    const cases: [string, (lock: string) => void, string][] = [
      ['a folder', (lock) => mkdirSync(lock), 'is a folder, not a file: move it away'],
      ['a FIFO', (lock) => execFileSync('mkfifo', [lock]), 'is a FIFO, not a file: move it away'],
      ['a folder as its -wal', (lock) => mkdirSync(`${lock}-wal`), `${'-wal'} is a folder, not a file: move it away`],
      ['a FIFO as its -shm', (lock) => execFileSync('mkfifo', [`${lock}-shm`]), `${'-shm'} is a FIFO, not a file: move it away`],
      ['other bytes', (lock) => writeFileSync(lock, 'not a database '.repeat(100)), 'is not a SQLite database (damaged, or another kind of file); no relay wrote it: once no relay publishes from'],
      // A database holding relay_publisher in a shape no relay made (edited, another program's): it failed on the claim's first write, as a stack trace.
      ['its table in another shape', (lock) => sqlite(lock, 'CREATE TABLE relay_publisher (id INTEGER)'), 'its relay_publisher is not the table a relay makes (table relay_publisher has no column named pid); no relay wrote it: once no relay publishes from'],
      ['a view in its table\'s place', (lock) => sqlite(lock, 'CREATE VIEW relay_publisher AS SELECT 1 AS id'), 'its relay_publisher is not the table a relay makes (cannot modify relay_publisher because it is a view); no relay wrote it: once no relay publishes from'],
      // Worded "a missing folder, or no permission" (SQLite's CANTOPEN), neither of which it is.
      ['a symbolic link that loops', (lock) => symlinkSync(lock, lock), 'cannot be used as the relay\'s lock: is a symbolic link that loops back on itself'],
      ['a symbolic link into a missing folder', (lock) => symlinkSync(join(dir, 'gone', 'x.lock'), lock), `cannot be used as the relay's lock: is a symbolic link to ${join(dir, 'gone', 'x.lock')}, which does not exist`],
    ];
    for (const [what, make, reason] of cases) {
      const statePath = join(dir, `${what.replace(/\W/g, '-')}.relay.db`);
      const lock = `${statePath}.lock`;
      make(lock);
      let refusal: unknown;
      try {
        relayOn(statePath).start();
      } catch (error) {
        refusal = error;
      }
      expect([what, refusal]).toEqual([what, expect.any(SQLiteFileError)]);
      expect([what, (refusal as Error).message]).toEqual([what, expect.stringContaining(`${lock} (RELAY_STATE_PATH) cannot be used as the relay's lock: `)]);
      expect([what, (refusal as Error).message]).toEqual([what, expect.stringContaining(reason)]);
      expect([lock, `${lock}-wal`, `${lock}-shm`].some((part) => lstatSync(part, { throwIfNoEntry: false }) !== undefined)).toBe(true);
    }
  });

  it('a state file whose name leaves no room for the files made beside it says so, not as a temporary file\'s name and a system call', () => {
    const statePath = join(dir, 'r'.repeat(248));
    expect(() => relayOn(statePath).start()).toThrow(`${statePath} (RELAY_STATE_PATH) has a name too long for the file system, or too long for the files made beside it`);
  });

  it('lets relays on different files run side by side', () => {
    relayOn(join(dir, 'a.relay.db')).start();
    expect(() => relayOn(join(dir, 'b.relay.db')).start()).not.toThrow();
  });
});
