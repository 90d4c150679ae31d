import { chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { getSQLiteRelayStateStore } from '@stagecraft/relay';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { readApiKeysFile, updateApiKeysFile } from '../apps/api/src/auth/api-keys.file';
import { join } from 'node:path';
import { startKurrentDbDouble } from './kurrentdb-double/kurrentdb-double';
import { freePort, runApiUntilExit, runProjectorUntilExit, runRelayUntilExit, spawnApi, type ApiChildProcess } from './support/api-child-process';
import { ROOT, temporaryDirectory } from './support/api-test-app';
import { childNodeArgs } from './support/child-entry';
import { E2E_STORE, eventStoreEnv } from './support/e2e-store';
import { itIf } from './support/skips';
import { dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../libs/projections/src/testing/postgres.testing';
import { migrateReadSide } from '../libs/projections/src/postgres/read-side.migrations';
import { Pool } from 'pg';
import { stagecraft } from './support/stagecraft-cli';

// Derived files (the read models, the folded streams) never block start-up: a damaged one is set
// aside under a new name, with a warning naming it, and rebuilt from the log. What cannot be
// derived (the events, the keys, the address) stops start-up with one line naming the path or
// the variable and why: no stack trace.

const STACK_LINE = /^\s+at /m;
const onSQLite = itIf(E2E_STORE === 'sqlite', 'an event store file: the KurrentDB run has none');
// Settings read before any store is opened, and files that are SQLite whatever the event store:
// the same code on either store, so checked once (the KurrentDB run keeps one damaged-file case).
const onceOnSQLite = itIf(E2E_STORE === 'sqlite', 'checked before the event store is reached: the same on KurrentDB');
const onKurrentDB = itIf(E2E_STORE === 'kurrentdb', 'a KurrentDB server\'s refusal: the SQLite run has no server');

async function schemaExists(schema: string): Promise<boolean> {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
  try {
    return (await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
  } finally {
    await pool.end();
  }
}

async function dropSchema(schema: string): Promise<void> {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
  try {
    await dropReadSideSchemas(pool, schema);
  } finally {
    await pool.end();
  }
}

/** Runs `npm run projections -- <args>` to its end: its exit code and everything it printed. */
async function runProjectionsCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...childNodeArgs('apps/projector/src/projections.cli'), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, output };
}

async function stop(api: ApiChildProcess): Promise<void> {
  api.child.kill('SIGTERM');
  await api.exited();
}

async function pipelineCount(api: ApiChildProcess): Promise<number> {
  const body = (await (await fetch(`${api.baseUrl}/pipeline`)).json()) as { processes: { stages: { count: number }[] }[] };
  return body.processes.flatMap((process) => process.stages).reduce((sum, stage) => sum + stage.count, 0);
}

/** A store with `deals` opportunities, its read models and stream snapshots saved (the API stopped); ids in `ids`. */
async function storeWithDeals(folder: string, deals: number, ids: string[] = []): Promise<Record<string, string>> {
  mkdirSync(folder, { recursive: true });
  const env = {
    ...(await eventStoreEnv(join(folder, 'events.db'))),
    READ_MODELS_PATH: join(folder, 'read-models.db'),
    STREAM_SNAPSHOTS_PATH: join(folder, 'stream-snapshots.db'),
  };
  const api = await spawnApi(env);
  try {
    for (let index = 0; index < deals; index += 1) {
      const created = await fetch(`${api.baseUrl}/opportunities`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Deal ${index}`, processId: 'standard', amount: 100 + index }),
      });
      expect(created.status).toBe(201);
      ids.push(((await created.json()) as { id: string }).id);
    }
    expect(await pipelineCount(api)).toBe(deals);
  } finally {
    await stop(api); // SIGTERM saves the read models
  }
  return env;
}

function asideCopies(folder: string, name: string): string[] {
  return readdirSync(folder).filter((file) => file.startsWith(`${name}.damaged-`) && !file.endsWith('-wal') && !file.endsWith('-shm'));
}

// Ways a derived file goes bad: overwritten, cut short, a page scribbled over.
const DAMAGE: Record<string, (path: string) => void> = {
  'replaced by other bytes': (path) => writeFileSync(path, 'this is not a database '.repeat(200)),
  'truncated to a third': (path) => truncateSync(path, Math.floor(statSync(path).size / 3 / 4096) * 4096 + 1000),
  'a b-tree page scribbled over': (path) => {
    const fd = openSync(path, 'r+');
    try {
      // Page 2 onwards holds the tables' b-trees; 0xff bytes make their headers impossible.
      writeSync(fd, Buffer.alloc(2048, 0xff), 0, 2048, 4096 + 8);
    } finally {
      closeSync(fd);
    }
  },
};

describe('start-up with damaged derived files', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  // On KurrentDB the first kind of damage stands for all: the read models file is SQLite on either store.
  const damagedReadModels = Object.keys(DAMAGE).map((damage, index) => [damage, index === 0 ? it : onceOnSQLite] as const);
  for (const [damage, test] of damagedReadModels) {
    test(`read-models.db ${damage}: the API warns, sets it aside and rebuilds the read models from the log`, async () => {
      const folder = join(dir.path, `read-models-${damage.replace(/\W+/g, '-')}`);
      const env = await storeWithDeals(folder, 4);
      DAMAGE[damage](env.READ_MODELS_PATH);

      const api = await spawnApi(env);
      try {
        expect(await pipelineCount(api)).toBe(4);
        const health = await fetch(`${api.baseUrl}/health`);
        expect(health.status).toBe(200);
      } finally {
        await stop(api);
      }
      const aside = asideCopies(folder, 'read-models.db');
      expect(aside).toHaveLength(1);
      expect(api.output()).toContain(`${env.READ_MODELS_PATH} (READ_MODELS_PATH)`);
      expect(api.output()).toContain(`set aside as ${join(folder, aside[0])}`);
      expect(api.output()).not.toMatch(STACK_LINE);
    });
  }

  it('a setting written a letter or two wrong is pointed out at start-up, with the one meant, and the API still starts', async () => {
    const folder = join(dir.path, 'misspelt');
    const env = await storeWithDeals(folder, 1, []);
    const api = await spawnApi({ ...env, RELAY_SINK: 'nats://127.0.0.1:4222', READ_MODEL_PATH: join(folder, 'elsewhere.db'), EVENT_STORE_DURABLITY: 'normal' });
    await stop(api);
    for (const [name, meant] of [['EVENT_STORE_DURABLITY', 'EVENT_STORE_DURABILITY'], ['READ_MODEL_PATH', 'READ_MODELS_PATH'], ['RELAY_SINK', 'RELAY_SINKS']]) {
      expect(api.output()).toContain(`Warning: ${name} is not a setting Stagecraft reads (did you mean ${meant}?)`);
    }
    expect(api.output()).not.toMatch(/Warning: (HOME|HOSTNAME|PATH|PWD) /);
  });

  it('a keys file holding no key: the API starts and says every request will be refused until one is added', async () => {
    const folder = join(dir.path, 'no-keys');
    const env = await storeWithDeals(folder, 1, []);
    const keysFile = join(folder, 'api-keys.json');
    writeFileSync(keysFile, '{"keys": []}\n');
    const api = await spawnApi({ ...env, AUTH: 'on', API_KEYS_FILE: keysFile });
    try {
      expect((await fetch(`${api.baseUrl}/pipeline`)).status).toBe(401);
    } finally {
      await stop(api);
    }
    expect(api.output()).toContain(`No API key in ${keysFile} and no JWT key: every request is refused (401)`);
  });

  it('stream-snapshots.db damaged: the API sets it aside and commands fold the streams from their events', async () => {
    const folder = join(dir.path, 'stream-snapshots');
    const ids: string[] = [];
    const env = await storeWithDeals(folder, 2, ids);
    DAMAGE['replaced by other bytes'](env.STREAM_SNAPSHOTS_PATH);

    const api = await spawnApi(env);
    try {
      const id = ids[0];
      const moved = await fetch(`${api.baseUrl}/opportunities/${id}/move`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stage: 'qualification' }) });
      expect(moved.status).toBe(200);
      expect(((await moved.json()) as { revision: number }).revision).toBe(1);
    } finally {
      await stop(api);
    }
    expect(asideCopies(folder, 'stream-snapshots.db')).toHaveLength(1);
    expect(api.output()).toContain(`${env.STREAM_SNAPSHOTS_PATH} (STREAM_SNAPSHOTS_PATH)`);
  });

  it('`stagecraft rebuild` works on a damaged read-models.db, setting it aside', async () => {
    const folder = join(dir.path, 'rebuild');
    const env = await storeWithDeals(folder, 3);
    DAMAGE['truncated to a third'](env.READ_MODELS_PATH);

    const run = stagecraft(env, 'rebuild');
    expect(run.stderr).not.toMatch(STACK_LINE);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Rebuilt');
    expect(`${run.stdout}${run.stderr}`).toContain('set aside as');
    expect(asideCopies(folder, 'read-models.db')).toHaveLength(1);

    const api = await spawnApi(env);
    try {
      expect(await pipelineCount(api)).toBe(3);
    } finally {
      await stop(api);
    }
    // The rebuilt file was good: nothing more was set aside.
    expect(asideCopies(folder, 'read-models.db')).toHaveLength(1);
  });
});

describe('start-up failures an operator fixes: one line, no stack trace', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  /** Exit 1, no stack trace, and after `header` (each process's own: the API's, the relay's, the projector's) one line naming each of `named`. */
  const expectOneLineFailureAfter = (header: string, result: { code: number | null; output: string }, ...named: string[]) => {
    expect(result.code).toBe(1);
    expect(result.output).toContain(header);
    expect(result.output).not.toMatch(STACK_LINE);
    const reason = result.output.slice(result.output.indexOf(header)).split('\n').filter((line) => line.trim() !== '');
    expect(reason[0]).toBe(header);
    expect(reason).toHaveLength(2);
    for (const name of named) expect(reason[1]).toContain(name);
  };
  const expectOneLineFailure = (result: { code: number | null; output: string }, ...named: string[]) => expectOneLineFailureAfter('Stagecraft did not start.', result, ...named);

  onSQLite('an event store whose folder path runs through a file', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'x');
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: join(file, 'events.db') }), join(file, 'events.db'), 'EVENT_STORE_PATH', 'not a folder');
  });

  onSQLite('an event store file that is not a database (it is the truth: never set aside)', async () => {
    const path = join(dir.path, 'not-events.db');
    writeFileSync(path, 'these are not events '.repeat(100));
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: path }), path, 'EVENT_STORE_PATH', 'not a SQLite database');
    expect(readdirSync(dir.path).filter((file) => file.startsWith('not-events.db.damaged'))).toEqual([]);
  });

  /** A store file of a few events, closed (its write-ahead log folded into the file). */
  const storeWithEvents = async (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    const store = getSQLiteEventStore({ path });
    for (let i = 0; i < 40; i++) await store.appendToStream(`s-${i}`, [{ id: crypto.randomUUID(), type: 'Noted', data: { text: 'x'.repeat(200) }, metadata: {} }], { expectedRevision: 'any' });
    await store.close();
  };

  onSQLite('an event store with a damaged page: one line naming the file, not a stack trace', async () => {
    const path = join(dir.path, 'damaged-page', 'events.db');
    await storeWithEvents(path);
    const descriptor = openSync(path, 'r+');
    writeSync(descriptor, Buffer.from([0x0d, ...Array<number>(7).fill(0xff)]), 0, 8, 4096); // page 2: a B-tree page header made nonsense
    closeSync(descriptor);
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: path }), path, 'EVENT_STORE_PATH', 'is damaged');
  });

  onSQLite('an event store whose main file is gone beside its write-ahead log: refused, the log left where it is', async () => {
    const path = join(dir.path, 'wal-left', 'events.db');
    await storeWithEvents(path);
    writeFileSync(`${path}-wal`, Buffer.alloc(8192, 1)); // what is left of it, as far as start-up can tell
    rmSync(path);
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: path }), path, 'EVENT_STORE_PATH', `is missing, but its write-ahead log ${path}-wal holds 8192 bytes`);
    expect(statSync(`${path}-wal`).size).toBe(8192);
    expect(existsSync(path)).toBe(false);
  });

  onSQLite('an empty event store file (0 bytes), and an empty relay state file: refused, never taken for new ones', async () => {
    const path = join(dir.path, 'emptied', 'events.db');
    mkdirSync(join(dir.path, 'emptied'));
    writeFileSync(path, '');
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: path }), path, 'EVENT_STORE_PATH', 'is an empty file (0 bytes)');
    expect(statSync(path).size).toBe(0);
    const relayState = join(dir.path, 'emptied', 'relay.db');
    writeFileSync(relayState, '');
    const fresh = join(dir.path, 'emptied', 'fresh-events.db');
    expectOneLineFailure(await runApiUntilExit({ EVENT_STORE_PATH: fresh, RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_STATE_PATH: relayState }), relayState, 'RELAY_STATE_PATH', 'is an empty file (0 bytes)');
  });

  onSQLite('an event store this user may read but not write: refused at start, not a 500 on every command', async () => {
    const folder = join(dir.path, 'read-only-store');
    const path = join(folder, 'events.db');
    await storeWithEvents(path);
    // root may write anything: the API then runs as nobody, on a file nobody may write (its folder writable).
    const asRoot = process.getuid?.() === 0;
    chmodSync(dir.path, 0o755);
    chmodSync(folder, 0o777);
    chmodSync(path, 0o444);
    const result = await runApiUntilExit({ EVENT_STORE_PATH: path, STREAM_SNAPSHOTS_PATH: 'off', READ_MODELS_PATH: join(folder, 'read-models.db') }, asRoot ? { uid: 65534, gid: 65534 } : {});
    expectOneLineFailure(result, path, 'EVENT_STORE_PATH', 'cannot be written: this user may not write it');
  });

  onSQLite('a relay state file this user may read but not write: refused at start, not a relay retrying for ever', async () => {
    const folder = join(dir.path, 'read-only-relay');
    const path = join(folder, 'relay.db');
    mkdirSync(folder, { recursive: true });
    const asRoot = process.getuid?.() === 0;
    const env = { EVENT_STORE_PATH: join(folder, 'events.db'), RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_STATE_PATH: path, STREAM_SNAPSHOTS_PATH: 'off' };
    await storeWithEvents(env.EVENT_STORE_PATH);
    getSQLiteRelayStateStore(path).close(); // a whole one: opening it writes nothing, so only following the log found it read-only
    // root may write anything: the API then runs as nobody, on a file nobody may write (its folder writable).
    if (asRoot) {
      chmodSync(dir.path, 0o755);
      for (const file of readdirSync(folder)) chownSync(join(folder, file), 65534, 65534);
    }
    chmodSync(folder, 0o777);
    chmodSync(path, 0o444);
    const result = await runApiUntilExit(env, asRoot ? { uid: 65534, gid: 65534 } : {});
    expectOneLineFailure(result, path, 'RELAY_STATE_PATH', 'cannot be written: this user may not write it');
  });

  onceOnSQLite('read models and stream snapshots this user may read but not write: set aside and rebuilt, with a warning each', async () => {
    const folder = join(dir.path, 'read-only-derived');
    const env = await storeWithDeals(folder, 2);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chmodSync(dir.path, 0o755);
      for (const file of readdirSync(folder)) chownSync(join(folder, file), 65534, 65534);
      chownSync(folder, 65534, 65534);
    }
    chmodSync(env.READ_MODELS_PATH!, 0o444);
    chmodSync(env.STREAM_SNAPSHOTS_PATH!, 0o444);
    // Left as they were, every save failed (an error a few seconds apart) and /health said ok.
    const result = await runApiUntilExit(env, asRoot ? { uid: 65534, gid: 65534 } : {});
    expect(result.output).toContain('Stagecraft API listening');
    expect(result.output).not.toMatch(STACK_LINE);
    for (const [variable, name] of [['READ_MODELS_PATH', 'read-models.db'], ['STREAM_SNAPSHOTS_PATH', 'stream-snapshots.db']] as const) {
      const aside = asideCopies(folder, name);
      expect(aside).toHaveLength(1);
      expect(result.output).toContain(`${env[variable]} (${variable}) cannot be written: this user may not write it`);
      expect(result.output).toContain(`set aside as ${join(folder, aside[0]!)}`);
      expect(statSync(join(folder, name)).mode & 0o777).toBe(0o600);
    }
  });

  onceOnSQLite('read models in a folder this user may not write', async () => {
    const folder = join(dir.path, 'read-only');
    mkdirSync(folder);
    const store = await eventStoreEnv(join(dir.path, 'writable', 'events.db'));
    const env = { ...store, READ_MODELS_PATH: join(folder, 'read-models.db'), STREAM_SNAPSHOTS_PATH: 'off' };
    // root may write anywhere: the API then runs as nobody, on a folder nobody may write.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      chmodSync(dir.path, 0o755);
      mkdirSync(join(dir.path, 'writable'), { mode: 0o777 });
      chmodSync(join(dir.path, 'writable'), 0o777);
    } else {
      chmodSync(folder, 0o555);
    }
    const result = await runApiUntilExit(env, asRoot ? { uid: 65534, gid: 65534 } : {});
    expectOneLineFailure(result, join(folder, 'read-models.db'), 'READ_MODELS_PATH', 'permission denied');
    expect(existsSync(join(folder, 'read-models.db'))).toBe(false);
  });

  onceOnSQLite('a derived file (read models, stream snapshots, relay state) naming another program\'s SQLite database: refused, left as it was', async () => {
    const store = await eventStoreEnv(join(dir.path, 'foreign-derived', 'events.db'));
    const crm = join(dir.path, 'foreign-derived', 'crm.db');
    mkdirSync(join(dir.path, 'foreign-derived'), { recursive: true });
    const other = new Database(crm);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ann')");
    other.close();
    const relay = { RELAY_SINKS: 'nats://127.0.0.1:4222' };
    for (const [variable, extra] of [['READ_MODELS_PATH', {}], ['STREAM_SNAPSHOTS_PATH', {}], ['RELAY_STATE_PATH', relay]] as const) {
      const result = await runApiUntilExit({ ...store, ...extra, [variable]: crm });
      expectOneLineFailure(result, crm, variable, 'another kind (it holds customers)');
      const after = new Database(crm, { readonly: true });
      expect(after.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").pluck().all()).toEqual(['customers']);
      after.close();
    }
    expect(readdirSync(join(dir.path, 'foreign-derived')).filter((file) => file.startsWith('crm.db.'))).toEqual([]);
  });

  onceOnSQLite('a relay state file holding tables of its names but another shape: refused in one line, left as it was', async () => {
    // Checkpoints are not derived (never set aside): a file whose tables this code cannot read
    // is an operator's to look at, named, not a stack trace ("no such column: sink").
    const folder = join(dir.path, 'relay-other-shape');
    mkdirSync(folder, { recursive: true });
    const store = await eventStoreEnv(join(folder, 'events.db'));
    const shapes = {
      'relay_checkpoints without its sink column': 'CREATE TABLE relay_checkpoints (x TEXT)',
      'relay_dead_letters keyed on another column': 'CREATE TABLE relay_dead_letters (sink TEXT, position INTEGER, event_id TEXT PRIMARY KEY, type TEXT, subject TEXT, attempts INTEGER, last_error TEXT, failed_at TEXT, body TEXT)',
      'relay_discarded as a view': 'CREATE VIEW relay_discarded AS SELECT 1 AS sink',
    };
    for (const [shape, sql] of Object.entries(shapes)) {
      const path = join(folder, `${shape.split(' ')[0]}.db`);
      const other = new Database(path);
      other.exec(sql);
      const before = other.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all();
      other.close();
      const result = await runApiUntilExit({ ...store, RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_STATE_PATH: path });
      expect({ shape, stack: STACK_LINE.test(result.output) }).toEqual({ shape, stack: false });
      expectOneLineFailure(result, path, 'RELAY_STATE_PATH', shape.split(' ')[0]!);
      const after = new Database(path, { readonly: true });
      expect({ shape, schema: after.prepare('SELECT sql FROM sqlite_master ORDER BY name').pluck().all() }).toEqual({ shape, schema: before });
      after.close();
    }
  });

  onceOnSQLite('HOST that is not an address of this machine, or not an address at all', async () => {
    const store = await eventStoreEnv(join(dir.path, 'host', 'events.db'));
    // 192.0.2.1 is TEST-NET-1: never an address of this machine.
    expectOneLineFailure(await runApiUntilExit({ ...store, HOST: '192.0.2.1' }), 'HOST=192.0.2.1');
    expectOneLineFailure(await runApiUntilExit({ ...store, HOST: '999.1.1.1' }), 'HOST=999.1.1.1');
  });

  onKurrentDB('a KurrentDB server that denies this service\'s user: one line naming EVENT_STORE_URL, never its password', async () => {
    const double = await startKurrentDbDouble();
    const allowAgain = double.faults.denyAccess('');
    try {
      const url = double.url.replace('://', '://stagecraft:s3cretpw@');
      const denied = await runApiUntilExit({ EVENT_STORE_PATH: join(dir.path, 'denied', 'events.db'), EVENT_STORE_URL: url });
      expectOneLineFailure(denied, 'EVENT_STORE_URL', 'denied');
      expect(denied.output).not.toContain('s3cretpw');
    } finally {
      allowAgain();
      await double.stop();
    }
  });

  onKurrentDB('the relay as its own process, on a KurrentDB server that denies its user: stopped in one line naming EVENT_STORE_URL, never its password, not retrying for ever', async () => {
    const double = await startKurrentDbDouble();
    const allowAgain = double.faults.denyAccess('');
    try {
      const url = double.url.replace('://', '://stagecraft:s3cretpw@');
      const denied = await runRelayUntilExit({ EVENT_STORE_PATH: join(dir.path, 'relay-denied', 'events.db'), EVENT_STORE_URL: url, RELAY_SINKS: 'nats://127.0.0.1:4222' });
      expectOneLineFailureAfter('Relay did not start.', denied, 'EVENT_STORE_URL', 'denied');
      expect(denied.output).not.toContain('s3cretpw');
    } finally {
      allowAgain();
      await double.stop();
    }
  });

  // The projector as its own process, in both its modes (read models in a SQLite file, or in
  // PostgreSQL): a refusal no retry cures stops it at once, as it stops the API and the relay.
  const projectorModes: [string, Record<string, string>][] = [
    ['its read models in a SQLite file', {}],
    ['its read models in PostgreSQL', { READ_MODELS_URL: POSTGRES_TEST_URL, READ_MODELS_SCHEMA: uniqueSchema('startup_denied') }],
  ];
  for (const [mode, readModels] of projectorModes) {
    onKurrentDB(`the projector as its own process (${mode}), on a KurrentDB server that denies its user: stopped in one line naming EVENT_STORE_URL, never its password, PostgreSQL untouched`, async () => {
      const double = await startKurrentDbDouble();
      const allowAgain = double.faults.denyAccess('');
      try {
        const url = double.url.replace('://', '://stagecraft:s3cretpw@');
        const folder = join(dir.path, 'projector-denied');
        const denied = await runProjectorUntilExit({ EVENT_STORE_PATH: join(folder, 'events.db'), READ_MODELS_PATH: join(folder, 'read-models.db'), EVENT_STORE_URL: url, ...readModels });
        expectOneLineFailureAfter('Projector did not start.', denied, 'EVENT_STORE_URL', 'denied');
        expect(denied.output).not.toContain('s3cretpw');
        // Refused before it opened the read models: no schema made for a projector that cannot run.
        if (readModels.READ_MODELS_SCHEMA !== undefined) expect(await schemaExists(readModels.READ_MODELS_SCHEMA)).toBe(false);
      } finally {
        allowAgain();
        await double.stop();
        if (readModels.READ_MODELS_SCHEMA !== undefined) await dropSchema(readModels.READ_MODELS_SCHEMA);
      }
    });

    onKurrentDB(`npm run projections -- status | rebuild (${mode}), on a KurrentDB server that denies its user: exit 1, one line naming EVENT_STORE_URL, never its password`, async () => {
      const double = await startKurrentDbDouble();
      const allowAgain = double.faults.denyAccess('');
      try {
        const url = double.url.replace('://', '://stagecraft:s3cretpw@');
        const folder = join(dir.path, 'projections-cli-denied');
        mkdirSync(folder, { recursive: true });
        const env = { ...process.env, EVENT_STORE_PATH: join(folder, 'events.db'), READ_MODELS_PATH: join(folder, 'read-models.db'), EVENT_STORE_URL: url, ...readModels };
        for (const command of ['status', 'rebuild']) {
          // Not spawnSync: the double answers from this process, which must keep running meanwhile.
          const run = await runProjectionsCli(env, command);
          const lines = run.output.split('\n').filter((line) => line.trim() !== '');
          expect([command, run.code]).toEqual([command, 1]);
          expect(lines).toEqual([expect.stringContaining('EVENT_STORE_URL')]);
          expect(lines[0]).toContain('denied');
          expect(lines[0]).not.toContain('s3cretpw');
        }
      } finally {
        allowAgain();
        await double.stop();
        if (readModels.READ_MODELS_SCHEMA !== undefined) await dropSchema(readModels.READ_MODELS_SCHEMA);
      }
    });
  }

  onKurrentDB('a process definition larger than the server takes in one append (1 MiB before 25.1): stopped naming the file, not a stack trace', async () => {
    // Valid as a definition (at most 100 stages of at most 100 criteria, texts of at most 500
    // characters, a file of at most 4 MiB): about 1.4 MB here.
    const processesDir = join(dir.path, 'big-process');
    mkdirSync(processesDir, { recursive: true });
    const stages = Array.from({ length: 100 }, (_, s) => [
      `  - id: s${s}`,
      `    name: Stage ${s}`,
      '    probability: 50',
      '    exitCriteria:',
      ...Array.from({ length: 30 }, (__, c) => `      - { id: c${c}, description: "${'x'.repeat(450)}" }`),
    ]);
    const file = join(processesDir, 'big.yaml');
    writeFileSync(file, ['id: big', 'name: Big', 'stages:', ...stages.flat(), 'lostReasons: [price]', ''].join('\n'));
    const double = await startKurrentDbDouble({ mode: '24.10' });
    try {
      const refused = await runApiUntilExit({ EVENT_STORE_PATH: join(processesDir, 'events.db'), EVENT_STORE_URL: double.url, PROCESSES_DIR: processesDir });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('Stagecraft did not start.');
      expect(refused.output).not.toMatch(STACK_LINE);
      expect(refused.output).toContain(file);
      expect(refused.output).toMatch(/1048576 bytes/);
    } finally {
      await double.stop();
    }
  });

  onKurrentDB('a process whose stream was truncated in KurrentDB (its first recordings hidden): stopped naming its file and the stream, not started on what is left', async () => {
    const processesDir = join(dir.path, 'truncated-process');
    mkdirSync(processesDir, { recursive: true });
    const file = join(processesDir, 'quick.yaml');
    const definition = (probability: number) => ['id: quick', 'name: Quick', 'stages:', `  - { id: talk, name: Talk, probability: ${probability} }`, '  - { id: sign, name: Sign, probability: 80 }', 'lostReasons: [price]', ''].join('\n');
    const double = await startKurrentDbDouble();
    try {
      const env = { EVENT_STORE_PATH: join(processesDir, 'events.db'), EVENT_STORE_URL: double.url, PROCESSES_DIR: processesDir };
      // Two starts, two versions: recordings at revisions 0 and 1 of sales-process-quick.
      writeFileSync(file, definition(20));
      expect((await runApiUntilExit(env)).output).toContain('Stagecraft API listening');
      writeFileSync(file, definition(30));
      expect((await runApiUntilExit(env)).output).toContain('Stagecraft API listening');
      double.faults.truncateBefore('sales-process-quick', 1);
      const refused = await runApiUntilExit(env);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('Stagecraft did not start.');
      expect(refused.output).not.toMatch(STACK_LINE);
      expect(refused.output).toContain(file);
      expect(refused.output).toContain('"sales-process-quick", whose recordings before revision 1 can no longer be read');
    } finally {
      await double.stop();
    }
  });

  onKurrentDB('a process whose stream was deleted for good from KurrentDB: stopped naming its file and the stream, not a stack trace', async () => {
    const double = await startKurrentDbDouble();
    try {
      const env = { EVENT_STORE_PATH: join(dir.path, 'tombstoned', 'events.db'), EVENT_STORE_URL: double.url };
      // A first start records the shipped processes' versions (it is then stopped).
      expect((await runApiUntilExit(env)).output).toContain('Stagecraft API listening');
      double.faults.deleteStream('sales-process-standard');
      const refused = await runApiUntilExit(env);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('Stagecraft did not start.');
      expect(refused.output).not.toMatch(STACK_LINE);
      expect(refused.output).toContain('standard.yaml');
      expect(refused.output).toContain('"sales-process-standard", which was deleted from the event store for good');
    } finally {
      await double.stop();
    }
  });

  onceOnSQLite('a PostgreSQL read side that cannot be reached, or whose database does not exist, never showing the password', async () => {
    const store = await eventStoreEnv(join(dir.path, 'unreachable-read-side', 'events.db'));
    const closed = await freePort();
    const refused = await runApiUntilExit({ ...store, READ_MODELS_URL: `postgres://stagecraft:s3cretpw@127.0.0.1:${closed}/stagecraft` });
    expectOneLineFailure(refused, 'READ_MODELS_URL', 'cannot be used', 'ECONNREFUSED');
    expect(refused.output).not.toContain('s3cretpw');
  });

  // The schema named is right (it is the read side's own): the line blames no setting, as
  // "Invalid setting READ_MODELS_SCHEMA" did, and says what to do with the schema.
  onceOnSQLite('a PostgreSQL read side whose schema_migrations was dropped by hand: the API and the projector say so and what to do, blaming no setting', async () => {
    const schema = uniqueSchema('startup_unrecorded');
    const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
    try {
      const client = await pool.connect();
      try {
        await migrateReadSide(client, schema);
        await client.query(`DROP TABLE ${schema}.schema_migrations`);
      } finally {
        client.release();
      }
      const folder = join(dir.path, 'unrecorded-read-side');
      const store = await eventStoreEnv(join(folder, 'events.db'));
      const expected =
        `The PostgreSQL read side cannot be used: the schema ${schema} holds the read side's tables, but not schema_migrations, its record of the migrations applied to them (dropped by hand?): ` +
        `without it no migration can be known to be there or not. The read models are derived from the event log: drop the schema (DROP SCHEMA ${schema} CASCADE) and start again to build them anew, ` +
        'or restore schema_migrations from a backup of this database';
      const env = { ...store, READ_MODELS_URL: POSTGRES_TEST_URL, READ_MODELS_SCHEMA: schema };
      const api = await runApiUntilExit(env);
      expectOneLineFailure(api);
      expect(api.output.slice(api.output.indexOf('Stagecraft did not start.')).trim().split('\n')).toEqual(['Stagecraft did not start.', expected]);
      const projector = await runProjectorUntilExit({ ...env, READ_MODELS_PATH: join(folder, 'read-models.db') });
      expectOneLineFailureAfter('Projector did not start.', projector);
      expect(projector.output.slice(projector.output.indexOf('Projector did not start.')).trim().split('\n')).toEqual(['Projector did not start.', expected]);
    } finally {
      await dropReadSideSchemas(pool, schema);
      await pool.end();
    }
  });

  /**
   * An API started with authentication on, on an empty folder (so it makes the first admin key),
   * whose start-up waits on a read side that takes the connection and never answers: its end in
   * the test's hands. `held` resolves once start-up waits there; `refuse()` closes that connection,
   * so start-up fails.
   */
  async function startHeldOnReadSide(folder: string) {
    const store = await eventStoreEnv(join(folder, 'events.db'));
    const apiKeysFile = join(folder, 'api-keys.json');
    const connected: (() => void)[] = [];
    const sockets: Socket[] = [];
    const silent = createServer((socket) => {
      sockets.push(socket);
      connected.splice(0).forEach((resolve) => resolve());
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const held = new Promise<void>((resolve) => connected.push(resolve));
    const child = spawn(process.execPath, childNodeArgs('apps/api/src/main'), {
      cwd: ROOT,
      env: { ...process.env, ...store, HOST: '127.0.0.1', PORT: String(await freePort()), AUTH: 'on', API_KEYS_FILE: apiKeysFile, READ_MODELS_URL: `postgres://stagecraft@127.0.0.1:${(silent.address() as { port: number }).port}/stagecraft` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    return {
      apiKeysFile,
      child,
      held,
      exited,
      output: () => output,
      refuse: () => sockets.forEach((socket) => socket.destroy()),
      close: () => silent.close(),
    };
  }

  onceOnSQLite('a SIGTERM during start-up ends it by the signal, without a stack trace, and drops the first admin key nobody saw', async () => {
    const api = await startHeldOnReadSide(join(dir.path, 'stopped-during-start-up'));
    try {
      await api.held;
      expect(existsSync(api.apiKeysFile)).toBe(true); // made before start-up reaches the read side, to be shown in the banner
      api.child.kill('SIGTERM');
      expect(await api.exited).toEqual([null, 'SIGTERM']);
      expect(api.output()).not.toMatch(STACK_LINE);
      expect(api.output()).not.toContain('Authorization: Bearer');
      // Never shown, so never usable: the next start makes one and shows it.
      expect(existsSync(api.apiKeysFile)).toBe(false);
    } finally {
      api.close();
    }
  });

  // A key added while start-up ran (`npm run api-keys -- add`, as an operator does while a slow
  // start-up catches up) is someone else's: the unseen first key goes, the added one stays.
  for (const [how, end] of [
    ['stopped by SIGTERM', (api: Awaited<ReturnType<typeof startHeldOnReadSide>>) => api.child.kill('SIGTERM')],
    ['failing', (api: Awaited<ReturnType<typeof startHeldOnReadSide>>) => api.refuse()],
  ] as const) {
    onceOnSQLite(`a start-up ${how} drops only the first admin key it made, not a key added meanwhile`, async () => {
      const api = await startHeldOnReadSide(join(dir.path, `added-during-start-up-${how.split(' ')[0]}`));
      try {
        await api.held;
        const added = generateApiKey({ name: 'added-meanwhile', roles: ['writer'] }, new Date()).stored;
        const before = await updateApiKeysFile(api.apiKeysFile, ({ keys }) => ({ keys: [...keys, added], result: keys.map((key) => key.name) }));
        expect(before).toEqual(['admin']); // the first key was there, not yet dropped
        end(api);
        await api.exited;
        expect(api.output()).not.toContain('Authorization: Bearer');
        expect(readApiKeysFile(api.apiKeysFile).map((key) => key.id)).toEqual([added.id]);
      } finally {
        api.close();
      }
    });
  }

  onceOnSQLite('PORT already taken', async () => {
    const store = await eventStoreEnv(join(dir.path, 'port', 'events.db'));
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      expectOneLineFailure(await runApiUntilExit({ ...store, PORT: String(port) }), `PORT=${port}`, 'already in use');
    } finally {
      holder.close();
    }
  });

  for (const [name, value] of [
    ['not JSON', '{'],
    ['not a list of keys', '{"keys": 3}'],
    ['a key without its hash', '{"keys": [{"id": "k1", "name": "x", "roles": ["admin"]}]}'],
  ]) {
    onceOnSQLite(`API_KEYS ${name}`, async () => {
      const store = await eventStoreEnv(join(dir.path, 'keys', 'events.db'));
      expectOneLineFailure(await runApiUntilExit({ ...store, AUTH: 'on', API_KEYS: value! }), 'API_KEYS');
    });
  }

  // A value the environment held is quoted back escaped (libs/config, SettingsError): an ESC, a line
  // break or a right-to-left override in it cannot recolour, split or reorder the line an operator reads.
  const HOSTILE = 'in\u202eprocess\u001b[2J\u200b\r\nStagecraft API listening';
  const ESCAPED = '"in\\u202eprocess\\u001b[2J\\u200b\\r\\nStagecraft API listening"';
  const ACTS_ON_READER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
  const expectEscaped = (header: string, result: { code: number | null; output: string }, variable: string) => {
    expectOneLineFailureAfter(header, result, variable, ESCAPED);
    const line = result.output.slice(result.output.indexOf(header) + header.length).trim();
    expect(line).not.toMatch(ACTS_ON_READER);
  };
  onceOnSQLite('a setting holding what a terminal acts on: the API, the relay and the projector quote it escaped, in one line', async () => {
    const store = await eventStoreEnv(join(dir.path, 'hostile', 'events.db'));
    expectEscaped('Stagecraft did not start.', await runApiUntilExit({ ...store, PROJECTIONS: HOSTILE }), 'PROJECTIONS');
    expectEscaped('Relay did not start.', await runRelayUntilExit({ ...store, RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_NEW_SINK_FROM: HOSTILE }), 'RELAY_NEW_SINK_FROM');
    expectEscaped('Projector did not start.', await runProjectorUntilExit({ ...store, READ_MODELS_PATH: join(dir.path, 'hostile', 'read-models.db'), EVENT_STORE_DURABILITY: HOSTILE }), 'EVENT_STORE_DURABILITY');
  });

  onceOnSQLite('npm run projections -- rebuild of a name that is none quotes it escaped, in one line', async () => {
    const folder = join(dir.path, 'projections-hostile');
    mkdirSync(folder, { recursive: true });
    const path = join(folder, 'events.db');
    const events = getSQLiteEventStore({ path });
    await events.close();
    const run = await runProjectionsCli({ ...process.env, EVENT_STORE_PATH: path, READ_MODELS_PATH: join(folder, 'read-models.db') }, 'rebuild', HOSTILE);
    const lines = run.output.split('\n').filter((line) => line.trim() !== '');
    expect([run.code, lines]).toEqual([2, [expect.stringContaining(`unknown projection(s) ${ESCAPED}`)]]);
    expect(lines[0]).not.toMatch(ACTS_ON_READER);
  });
});
