import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NewEvent } from '../event-store.port';
import { getSQLiteEventStore, type SQLiteEventStore, type SQLiteEventStoreOptions } from './sqlite-event-store';

// The checkpointer thread (sqlite-checkpointer.ts): the WAL is copied into the database file off
// the commit path, stays short, and no acknowledged event is lost whenever the process stops.

/**
 * Frames now in use in the WAL: mxFrame of the wal-index header, 4 bytes at offset 16 of the -shm
 * file in the machine's byte order (https://www.sqlite.org/walformat.html). The WAL file's size
 * says only how long it ever was.
 */
function walFramesInUse(path: string): number {
  const fd = openSync(`${path}-shm`, 'r');
  try {
    const header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    return endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
  } finally {
    closeSync(fd);
  }
}

describe('SQLite checkpointer thread', () => {
  let dir: string;
  let path: string;
  const opened: SQLiteEventStore[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-checkpointer-'));
    path = join(dir, 'events.db');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(options: Partial<SQLiteEventStoreOptions> = {}): SQLiteEventStore {
    const store = getSQLiteEventStore({ path, ...options });
    opened.push(store);
    return store;
  }

  const event = (n: number): NewEvent => ({ id: randomUUID(), type: 'Happened', data: { n }, metadata: {} });

  it('keeps the WAL short: the writer’s commits start it over after each background checkpoint', async () => {
    // One event per commit dirties a few pages: 2,000 commits put several thousand frames through
    // the WAL. SQLite's automatic checkpoint (the writer's until the checkpointer is ready, or if
    // it were not there) lets it reach 1,000 frames before starting over; checkpoints every 25
    // events (~100 frames) start it over long before.
    const store = open({ checkpointEveryEvents: 25 });
    let n = 0;
    const appendOne = () => store.appendToStream(`deal-${n}`, [event(n++)], { expectedRevision: 'no_stream' });
    // The checkpointer thread starts beside the writer; until it is ready nothing is checkpointed off the commit path.
    while (store.stats().backgroundCheckpoints === 0 && n < 100_000) await appendOne();
    const before = store.stats().backgroundCheckpoints;
    let mostFrames = 0;
    for (let commit = 0; commit < 2_000; commit++) {
      await appendOne();
      mostFrames = Math.max(mostFrames, walFramesInUse(path));
    }

    expect(before).toBeGreaterThan(0);
    expect(store.stats().backgroundCheckpoints - before).toBeGreaterThanOrEqual(2_000 / 25 / 2);
    expect(mostFrames).toBeLessThan(1_000);
    expect(await store.readAll()).toHaveLength(n);
    await store.close();

    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(raw.prepare('SELECT count(*) AS n FROM events').get()).toEqual({ n });
    } finally {
      raw.close();
    }
  }, 60_000);

  it('close() in the middle of checkpoints keeps every event, and ends the checkpointer’s connection too', async () => {
    const store = open({ checkpointEveryEvents: 5 });
    const appends = Array.from({ length: 400 }, (_, n) => store.appendToStream(`deal-${n % 40}`, [event(n)], { expectedRevision: 'any' }));
    await Promise.all(appends.slice(0, 200));
    await store.close();
    await expect(Promise.all(appends)).resolves.toHaveLength(400);

    // The last connection to close copies the WAL and deletes it: had the checkpointer kept its
    // connection open, the WAL would still be there.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = open();
    expect(await reopened.readAll()).toHaveLength(400);
  }, 60_000);

  it('a process killed in the middle of checkpoints has lost no acknowledged event', async () => {
    // A child process appends from 8 lanes, printing each event id once its append is
    // acknowledged (durable), with a checkpoint every 10 events; it is killed with SIGKILL (its
    // threads too, wherever they stand) once 600 are acknowledged.
    const child = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        `
        const { getSQLiteEventStore } = require(${JSON.stringify(join(__dirname, 'sqlite-event-store.ts'))});
        const { randomUUID } = require('node:crypto');
        const store = getSQLiteEventStore({ path: ${JSON.stringify(path)}, checkpointEveryEvents: 10 });
        let n = 0;
        const lane = async (l) => {
          for (;;) {
            const id = randomUUID();
            await store.appendToStream('deal-' + l + '-' + n++, [{ id, type: 'Happened', data: { l }, metadata: {} }], { expectedRevision: 'no_stream' });
            process.stdout.write(id + '\\n');
          }
        };
        for (let l = 0; l < 8; l++) lane(l).catch((error) => { console.error(error); process.exit(1); });`,
      ],
      { cwd: join(__dirname, '..', '..', '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acknowledged: string[] = [];
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      acknowledged.push(...lines);
      if (acknowledged.length >= 600) child.kill('SIGKILL');
    });

    expect(await exited).toBe('SIGKILL');
    expect(stderr).toBe('');
    expect(acknowledged.length).toBeGreaterThanOrEqual(600);

    const store = open();
    const stored = new Set((await store.readAll()).map((e) => e.id));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
    const raw = new Database(path, { readonly: true });
    try {
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      raw.close();
    }
  }, 60_000);
});
