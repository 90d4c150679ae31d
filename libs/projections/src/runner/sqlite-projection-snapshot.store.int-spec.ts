import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serialize } from 'node:v8';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS } from '../all-projections';
import { queryFunnel, type FunnelModel } from '../funnel.projection';
import { queryPipeline, type PipelineModel } from '../pipeline.projection';
import type { Projection } from '../projection.types';
import { queryStageDurations, type StageDurationsModel } from '../stage-durations.projection';
import { queryPipelineAsOf, type StageIntervalsModel } from '../stage-intervals.projection';
import { EPOCH, historyArbitrary, SPAN_MS } from '../testing/history.arbitrary';
import { project } from '../testing/project';
import { SMALL_PARTS, twoHeaders, twoModels } from '../testing/snapshot-saves.fixtures';
import { queryTransitions, type TransitionsModel } from '../transitions.projection';
import { queryWinLoss, type WinLossModel } from '../win-loss.projection';
import type { WinProbabilityModel } from '../win-probability.projection';
import { queryWinProbabilityCalibration } from '../win-probability.queries';
import { SnapshotFormatError } from './model-serialization';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import { ProjectionRunner } from './projection.runner';
import { SnapshotFollower } from './snapshot-follower';
import { getSQLiteProjectionSnapshotStore } from './sqlite-projection-snapshot.store';

const ROOT = join(__dirname, '..', '..', '..', '..');
const KILLED_HALFWAY = join(__dirname, '..', 'testing', 'save-snapshots-killed-halfway.ts');
const projections = ALL_PROJECTIONS as readonly Projection<unknown>[];
/** Read models of a random but fixed history (fast-check, seed 5): the shapes the runner saves. */
const models = (() => {
  const [history] = fc.sample(historyArbitrary({ maxSteps: 120 }), { seed: 5, numRuns: 1 });
  return projections.map((projection) => ({ name: projection.name, model: project(projection, history!.events) }));
})();
/** What each read model answers: a model read back must answer exactly as the one saved. */
const NOW = new Date(EPOCH + SPAN_MS).toISOString();
const answersOf: Record<string, (model: unknown) => unknown> = {
  pipeline: (model) => queryPipeline(model as PipelineModel, {}, { includeOpportunities: true }),
  'win-loss': (model) => (['team', 'owner', 'reason', 'month', 'process'] as const).map((groupBy) => queryWinLoss(model as WinLossModel, {}, groupBy)),
  'stage-durations': (model) => queryStageDurations(model as StageDurationsModel, {}, NOW),
  funnel: (model) => queryFunnel(model as FunnelModel, {}),
  transitions: (model) => queryTransitions(model as TransitionsModel, {}),
  'stage-intervals': (model) => queryPipelineAsOf(model as StageIntervalsModel, EPOCH + SPAN_MS / 3, {}, { includeOpportunities: true }),
  'win-probability': (model) => queryWinProbabilityCalibration(model as WinProbabilityModel, {}),
};

/** Whether some connection holds the file's write lock: another cannot take it without waiting. */
function writeLockHeld(path: string): boolean {
  const probe = new Database(path, { timeout: 0 });
  try {
    probe.exec('BEGIN IMMEDIATE');
    probe.exec('ROLLBACK');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return true;
    throw error;
  } finally {
    probe.close();
  }
}

describe('SQLite read-model snapshots', () => {
  let dir: string;
  let path: string;
  const opened: ProjectionSnapshotStore[] = [];
  const open = (options?: Parameters<typeof getSQLiteProjectionSnapshotStore>[1]) => {
    const store = getSQLiteProjectionSnapshotStore(path, options);
    opened.push(store);
    return store;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-snapshots-'));
    path = join(dir, 'read-models.db');
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every model in chunks no larger than asked (64 bytes here) and reads each back whole', async () => {
    const store = open({ chunkBytes: 64 });
    await store.save(models.map(({ name, model }, index) => ({ name, model, position: 100 + index, logId: 'log-1' }))).written;

    const raw = new Database(path, { readonly: true });
    const stored = raw.prepare('SELECT count(*) AS chunks, max(length(bytes)) AS largest FROM read_model_snapshot_chunks').get() as { chunks: number; largest: number };
    raw.close();
    expect(stored.largest).toBeLessThanOrEqual(64);
    expect(stored.chunks).toBeGreaterThan(models.length * 10);
    const reopened = open();
    for (const [index, { name, model }] of models.entries()) {
      const loaded = await reopened.load(name);
      expect(loaded).toMatchObject({ name, position: 100 + index, logId: 'log-1' });
      expect(answersOf[name]!(loaded!.model)).toEqual(answersOf[name]!(model));
    }
    expect(reopened.headers().map((header) => header.name)).toEqual(models.map((m) => m.name).sort());
  });

  it('saves are written in the order asked for, and a later save replaces every chunk of the earlier one', async () => {
    const store = open({ chunkBytes: 16 });
    const first = store.save([{ name: 'm', position: 1, logId: 'log', model: { words: Array.from({ length: 200 }, (_, i) => `word-${i}`) } }]);
    const second = store.save([{ name: 'm', position: 2, logId: 'log', model: { words: ['short'] }, failed: 'stopped at 3' }]);
    await Promise.all([first.written, second.written]);

    expect(await store.load('m')).toEqual({ name: 'm', position: 2, logId: 'log', failed: 'stopped at 3', model: { words: ['short'] } });
    const raw = new Database(path, { readonly: true });
    const chunks = raw.prepare("SELECT seq, length(bytes) AS bytes FROM read_model_snapshot_chunks WHERE name = 'm' ORDER BY seq").all() as { seq: number; bytes: number }[];
    expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, index) => index));
    expect(chunks.reduce((sum, chunk) => sum + chunk.bytes, 0)).toBe(raw.prepare("SELECT byte_count FROM read_model_snapshots WHERE name = 'm'").pluck().get());
    raw.close();
  });

  it('fills again the chunks its written parts hand back: however large the model, a save allocates a bounded number of buffers', async () => {
    const sizes = { chunkBytes: 64 * 1024, partBytes: 256 * 1024 };
    const store = open(sizes);
    const model = { words: Array.from({ length: 2_000_000 }, (_, i) => `word-${i}`) };
    const allocate = jest.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      await store.save([{ name: 'big', position: 1, logId: 'log', model }]).written;
      const whole = allocate.mock.calls.filter(([size]) => size === sizes.chunkBytes).length;
      const raw = new Database(path, { readonly: true });
      const chunks = raw.prepare("SELECT count(*) FROM read_model_snapshot_chunks WHERE name = 'big'").pluck().get() as number;
      raw.close();
      // ~400 whole chunks went by, in parts of 4. New ones are allocated only for what is in flight
      // (4 parts) and what one slice of serialising fills before a written part can come back;
      // without the chunks handed back, one per chunk.
      expect(chunks).toBeGreaterThan(350);
      expect(whole).toBeGreaterThan(0);
      expect(whole).toBeLessThan(chunks / 4);
    } finally {
      allocate.mockRestore();
    }
    // (Compared as text: a deep comparison of two million strings takes seconds.)
    expect(JSON.stringify(await store.load('big'))).toBe(JSON.stringify({ name: 'big', position: 1, logId: 'log', model }));
  });

  it('writes on its own thread: while another connection holds the write lock, the save waits there and this thread goes on', async () => {
    const store = open();
    await store.save([{ name: 'm', position: 1, logId: 'log', model: { n: 1 } }]).written;
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    let written = false;
    const saving = store.save([{ name: 'm', position: 2, logId: 'log', model: { n: 2 } }]);
    void saving.written.then(() => (written = true));
    try {
      await saving.serialized;
      // Written on this thread, the save would block it in SQLite's busy wait (5 s) first.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(written).toBe(false);
      expect(store.headers()).toEqual([{ name: 'm', position: 1, logId: 'log' }]);
    } finally {
      other.exec('COMMIT');
      other.close();
    }
    await saving.written;
    expect(store.headers()).toEqual([{ name: 'm', position: 2, logId: 'log' }]);
  });

  it('reads a snapshot of the single-blob format older versions wrote, and replaces it on the next save', async () => {
    // Exactly what the previous store wrote: one V8-serialised blob per model.
    const legacy = new Database(path);
    legacy.exec(`CREATE TABLE projection_snapshots (name TEXT PRIMARY KEY, position INTEGER NOT NULL, model BLOB NOT NULL, log_id TEXT NOT NULL, failed TEXT, saved_at TEXT NOT NULL)`);
    const pipeline = models.find((m) => m.name === 'pipeline')!;
    legacy.prepare('INSERT INTO projection_snapshots VALUES (?, ?, ?, ?, ?, ?)').run('pipeline', 40, serialize(pipeline.model), 'log-1', null, '2026-01-01T00:00:00.000Z');
    legacy.close();

    const store = open();
    expect(store.headers()).toEqual([{ name: 'pipeline', position: 40, logId: 'log-1' }]);
    const loaded = await store.load('pipeline');
    expect(loaded).toMatchObject({ name: 'pipeline', position: 40, logId: 'log-1' });
    expect(answersOf.pipeline!(loaded!.model)).toEqual(answersOf.pipeline!(pipeline.model));

    await store.save([{ ...loaded!, position: 41 }]).written;
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM projection_snapshots').get()).toEqual({ n: 0 });
    raw.close();
    expect(store.headers()).toEqual([{ name: 'pipeline', position: 41, logId: 'log-1' }]);
  });

  it('refuses a snapshot of the single-blob format whose bytes do not decode: set aside and rebuilt, not a start-up that stops on a stack trace', async () => {
    // That format has no digest: damage shows only when V8 reads the bytes, and what it throws is
    // no SnapshotFormatError, which alone the runner (and the follower) take for "rebuild it".
    const legacy = new Database(path);
    legacy.exec(`CREATE TABLE projection_snapshots (name TEXT PRIMARY KEY, position INTEGER NOT NULL, model BLOB NOT NULL, log_id TEXT NOT NULL, failed TEXT, saved_at TEXT NOT NULL)`);
    const whole = serialize(models.find((m) => m.name === 'pipeline')!.model);
    const insert = legacy.prepare('INSERT INTO projection_snapshots VALUES (?, ?, ?, ?, ?, ?)');
    insert.run('garbage', 40, Buffer.from('not a model'), 'log-1', null, '2026-01-01T00:00:00.000Z');
    insert.run('cut-short', 40, whole.subarray(0, Math.floor(whole.length / 2)), 'log-1', null, '2026-01-01T00:00:00.000Z');
    legacy.close();

    const store = open();
    await expect(store.load('garbage')).rejects.toThrow(SnapshotFormatError);
    await expect(store.load('cut-short')).rejects.toThrow(SnapshotFormatError);
  });

  it('refuses, never misreads, a snapshot in a format it does not know, with chunks missing, or with bytes changed', async () => {
    const store = open({ chunkBytes: 32 });
    await store.save([
      { name: 'newer', position: 1, logId: 'log', model: { n: 1 } },
      { name: 'torn', position: 1, logId: 'log', model: { words: ['a', 'b', 'c', 'd', 'e', 'f'] } },
      { name: 'changed', position: 1, logId: 'log', model: { amount: 1000, owner: 'ann' } },
    ]).written;
    const raw = new Database(path);
    raw.exec("UPDATE read_model_snapshots SET format = format + 1 WHERE name = 'newer'");
    raw.exec("DELETE FROM read_model_snapshot_chunks WHERE name = 'torn' AND seq = 1");
    // 'ann' becomes 'bob' in place: still a well-formed stream, so only the digest can tell.
    const chunks = raw.prepare("SELECT seq, bytes FROM read_model_snapshot_chunks WHERE name = 'changed' ORDER BY seq").all() as { seq: number; bytes: Buffer }[];
    const edited = chunks.find((chunk) => chunk.bytes.includes('ann'))!;
    raw.prepare("UPDATE read_model_snapshot_chunks SET bytes = ? WHERE name = 'changed' AND seq = ?").run(Buffer.from(edited.bytes.toString('latin1').replace('ann', 'bob'), 'latin1'), edited.seq);
    raw.close();

    await expect(store.load('newer')).rejects.toThrow(SnapshotFormatError);
    await expect(store.load('torn')).rejects.toThrow(/chunks/);
    await expect(store.load('changed')).rejects.toThrow(/digest/);
    expect(await store.load('absent')).toBeUndefined();
  });

  it('refuses a snapshot whose header was changed in place to another plausible position, log or failure, and reads one saved before headers were digested', async () => {
    const store = open({ chunkBytes: 32 });
    const names = ['earlier', 'later', 'other-log', 'unfailed', 'before'];
    await store.save([...names.map((name) => ({ name, position: 68, logId: 'log', model: { n: name } })), { name: 'failed', position: 68, logId: 'log', failed: 'stopped', model: { n: 1 } }]).written;
    const raw = new Database(path);
    raw.exec("UPDATE read_model_snapshots SET position = 3 WHERE name = 'earlier'");
    raw.exec("UPDATE read_model_snapshots SET position = 70 WHERE name = 'later'");
    raw.exec("UPDATE read_model_snapshots SET log_id = 'another' WHERE name = 'other-log'");
    raw.exec("UPDATE read_model_snapshots SET failed = NULL WHERE name = 'failed'");
    // A file saved before: its digest covers the chunks alone, and is checked as such.
    const chunks = raw.prepare("SELECT bytes FROM read_model_snapshot_chunks WHERE name = 'before' ORDER BY seq").all() as { bytes: Buffer }[];
    const chunksOnly = createHash('sha256');
    for (const chunk of chunks) chunksOnly.update(chunk.bytes);
    raw.prepare("UPDATE read_model_snapshots SET digest = ? WHERE name = 'before'").run(chunksOnly.digest('hex'));
    raw.close();
    for (const name of ['earlier', 'later', 'other-log', 'failed']) await expect(store.load(name)).rejects.toThrow(/header changed since they were saved \(digest mismatch\)/);
    expect(await store.load('unfailed')).toMatchObject({ position: 68, logId: 'log', model: { n: 'unfailed' } });
    expect(await store.load('before')).toMatchObject({ position: 68, model: { n: 'before' } });
  });

  it('keeps the last event folded in under the digest, and opens a file saved before anchors were, its snapshots then without one', async () => {
    const store = open({ chunkBytes: 32 });
    const anchor = { position: 68, eventId: 'event-68' };
    await store.save(['kept', 'moved', 'renamed'].map((name) => ({ name, position: 70, logId: 'log', anchor, model: { n: name } }))).written;
    let raw = new Database(path);
    raw.exec("UPDATE read_model_snapshots SET anchor_position = 69 WHERE name = 'moved'");
    raw.exec("UPDATE read_model_snapshots SET anchor_event_id = 'event-69' WHERE name = 'renamed'");
    raw.close();
    expect(await store.load('kept')).toMatchObject({ position: 70, anchor, model: { n: 'kept' } });
    for (const name of ['moved', 'renamed']) await expect(store.load(name)).rejects.toThrow(/digest mismatch/);
    await store.close();

    // The file as an older version left it: no anchor columns, digests over the header without one.
    rmSync(path, { force: true });
    const older = open({ chunkBytes: 32 });
    await older.save([{ name: 'older', position: 12, logId: 'log', model: { n: 'older' } }]).written;
    await older.close();
    raw = new Database(path);
    raw.exec('ALTER TABLE read_model_snapshots DROP COLUMN anchor_position; ALTER TABLE read_model_snapshots DROP COLUMN anchor_event_id');
    raw.close();
    const reopened = open();
    const loaded = await reopened.load('older');
    expect(loaded).toMatchObject({ position: 12, logId: 'log', model: { n: 'older' } });
    expect(loaded!.anchor).toBeUndefined();
    await reopened.save([{ ...loaded!, position: 13, anchor: { position: 13, eventId: 'event-13' } }]).written;
    expect((await reopened.load('older'))!.anchor).toEqual({ position: 13, eventId: 'event-13' });
  });

  it('refuses a snapshot whose header records no log position (the runner would fold from there twice over, or never end)', async () => {
    const store = open({ chunkBytes: 32 });
    const names = ['text', 'negative', 'fraction', 'huge'];
    await store.save(names.map((name) => ({ name, position: 5, logId: 'log', model: { n: 1 } }))).written;
    const raw = new Database(path);
    for (const [name, position] of [['text', "'x'"], ['negative', '-5'], ['fraction', '2.5'], ['huge', '1e300']]) raw.exec(`UPDATE read_model_snapshots SET position = ${position} WHERE name = '${name}'`);
    raw.close();
    for (const name of names) await expect(store.load(name)).rejects.toThrow(/no position of a log/);
    // Listed as holding nothing, so nothing reads a lag from it.
    expect(store.headers().filter((header) => names.includes(header.name)).map((header) => header.position)).toEqual([0, 0, 0, 0]);
  });

  it('writes a save as it is serialised, in one transaction: loads meanwhile read the save before, and one failing halfway leaves it whole', async () => {
    const store = open(SMALL_PARTS);
    await store.save(twoModels(1)).written;

    let lockHeld: boolean | undefined;
    let loadedMeanwhile: Promise<unknown> | undefined;
    let headersMeanwhile: unknown;
    const failing = store.save(
      twoModels(2, {
        get late() {
          // Every part of 'a' is on the snapshot thread, in the open transaction, not yet committed.
          lockHeld = writeLockHeld(path);
          loadedMeanwhile = store.load('a');
          headersMeanwhile = store.headers();
          throw new Error('this model cannot be read');
        },
      }),
    );
    await expect(failing.serialized).rejects.toThrow('this model cannot be read');
    await expect(failing.written).rejects.toThrow('this model cannot be read');

    expect(lockHeld).toBe(true);
    expect(await loadedMeanwhile).toEqual(twoModels(1)[0]);
    expect(headersMeanwhile).toEqual(twoHeaders(1, 1));
    expect(await store.load('a')).toEqual(twoModels(1)[0]);
    expect(await store.load('b')).toEqual(twoModels(1)[1]);
    expect(writeLockHeld(path)).toBe(false);
    // The next save goes through whole.
    await store.save(twoModels(3)).written;
    expect(store.headers()).toEqual(twoHeaders(3, 3));
    expect(await open().load('a')).toEqual(twoModels(3)[0]);
  });

  it('a process killed halfway through a save leaves the save before it whole', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', KILLED_HALFWAY, path], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => (output += data));
    child.stderr.on('data', (data) => (output += data));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (let waited = 0; waited < 600 && !output.includes('halfway') && child.exitCode === null; waited += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(output).toBe('halfway\n');
    // The save is under way in its transaction ('a' written in it, not committed) when it is killed.
    expect(writeLockHeld(path)).toBe(true);
    child.kill('SIGKILL');
    await exited;

    const store = open();
    expect(store.headers()).toEqual(twoHeaders(1, 1));
    expect(await store.load('a')).toEqual(twoModels(1)[0]);
    expect(await store.load('b')).toEqual(twoModels(1)[1]);
  }, 60_000);

  it('in memory, a save is seen only once committed, and one failing halfway leaves the save before whole', async () => {
    path = ':memory:';
    const store = open(SMALL_PARTS);
    await store.save(twoModels(1)).written;
    let headersMeanwhile: unknown;
    const failing = store.save(
      twoModels(2, {
        get late() {
          headersMeanwhile = store.headers();
          throw new Error('this model cannot be read');
        },
      }),
    );
    await expect(failing.serialized).rejects.toThrow('this model cannot be read');
    await expect(failing.written).rejects.toThrow('this model cannot be read');
    expect(headersMeanwhile).toEqual(twoHeaders(1, 1));
    expect(await store.load('a')).toEqual(twoModels(1)[0]);
    expect(store.headers()).toEqual(twoHeaders(1, 1));
    await store.save(twoModels(3)).written;
    expect(await store.load('a')).toEqual(twoModels(3)[0]);
    expect(store.headers()).toEqual(twoHeaders(3, 3));
  });

  it('a reader that does not own the file (an API following a projector) refuses a damaged one, says who sets it aside, and leaves it where it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'snapshots-reader-'));
    try {
      const file = join(dir, 'read-models.db');
      writeFileSync(file, 'not a database, but a file of the right name'.repeat(200));
      expect(() => getSQLiteProjectionSnapshotStore(file, { onSetAside: false })).toThrow(
        expect.objectContaining({ name: 'SQLiteFileError', message: expect.stringMatching(/READ_MODELS_PATH.*PROJECTIONS=external\): start the projector, which sets a damaged file aside/) }),
      );
      expect(readFileSync(file, 'utf8')).toMatch(/^not a database/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works in memory too, on the calling thread', async () => {
    path = ':memory:';
    const store = open({ chunkBytes: 8 });
    await store.save([{ name: 'm', position: 3, logId: 'log', model: new Map([['a', 1]]) }]).written;
    expect(await store.load('m')).toEqual({ name: 'm', position: 3, logId: 'log', model: new Map([['a', 1]]) });
  });
});

describe('the projection runner and its followers on the SQLite snapshot store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-snapshots-runner-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const tally: Projection<{ count: number; streams: Map<string, number> }> = {
    name: 'tally',
    handles: new Set(['Ping']),
    initial: () => ({ count: 0, streams: new Map() }),
    evolve: (model, event) => {
      model.count += 1;
      model.streams.set(event.stream, (model.streams.get(event.stream) ?? 0) + 1);
      return model;
    },
  };
  const ping = { type: 'Ping', data: {}, metadata: {} };

  it('a follower serves what the runner saves in chunks, and says so when a saved model cannot be read', async () => {
    const events = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
    const path = join(dir, 'read-models.db');
    const saving = getSQLiteProjectionSnapshotStore(path, { chunkBytes: 40 });
    const serving = getSQLiteProjectionSnapshotStore(path);
    const runner = new ProjectionRunner(events, saving, [tally as Projection<unknown>], { snapshotEveryMs: 10 });
    const follower = new SnapshotFollower(events, serving, [tally as Projection<unknown>], 20);
    try {
      for (let i = 0; i < 30; i += 1) await events.appendToStream(`s-${i % 3}`, [{ id: crypto.randomUUID(), ...ping }], { expectedRevision: 'any' });
      await runner.start();
      await follower.start();
      expect(await follower.waitFor(30, 5_000)).toBe(true);
      expect(follower.model(tally)).toEqual({ count: 30, streams: new Map([['s-0', 10], ['s-1', 10], ['s-2', 10]]) });

      await events.appendToStream('s-0', [{ id: crypto.randomUUID(), ...ping }], { expectedRevision: 'any' });
      expect(await follower.waitFor(31, 5_000)).toBe(true);
      expect(follower.model(tally).count).toBe(31);

      await runner.stop();
      const raw = new Database(path);
      // A header changed in place (a later position, so the follower reads it again): its digest no longer matches.
      raw.exec("UPDATE read_model_snapshots SET format = 99, position = position + 1 WHERE name = 'tally'");
      raw.close();
      await follower.waitFor(1_000, 200);
      expect(follower.failure('tally')).toMatch(/could not be read.*header changed since they were saved \(digest mismatch\)/);
      expect(follower.status()[0]).toMatchObject({ name: 'tally', failed: expect.stringMatching(/could not be read/) });
    } finally {
      await runner.stop();
      await follower.stop();
      await saving.close();
      await serving.close();
      await events.close();
    }
  });

  it('a runner meeting a saved model it cannot read sets it aside and rebuilds that projection from the log', async () => {
    const events = getSQLiteEventStore({ path: join(dir, 'events.db') });
    const path = join(dir, 'read-models.db');
    const first = getSQLiteProjectionSnapshotStore(path);
    for (let i = 0; i < 5; i += 1) await events.appendToStream('s', [{ id: crypto.randomUUID(), ...ping }], { expectedRevision: 'any' });
    const writer = new ProjectionRunner(events, first, [tally as Projection<unknown>]);
    await writer.start();
    await writer.stop();
    await first.close();
    const raw = new Database(path);
    raw.exec("UPDATE read_model_snapshot_chunks SET bytes = x'00' WHERE seq = 0");
    raw.exec("UPDATE read_model_snapshots SET byte_count = (SELECT sum(length(bytes)) FROM read_model_snapshot_chunks)");
    raw.close();

    const snapshots = getSQLiteProjectionSnapshotStore(path);
    const runner = new ProjectionRunner(events, snapshots, [tally as Projection<unknown>]);
    const discarded: string[] = [];
    runner.onDiscardedSnapshot = (name, reason) => discarded.push(`${name}: ${reason}`);
    try {
      await runner.start();
      expect(discarded).toEqual([expect.stringMatching(/^tally: its model could not be read/)]);
      expect(runner.model(tally).count).toBe(5);
    } finally {
      await runner.stop();
      await snapshots.close();
      await events.close();
    }
  });
});
