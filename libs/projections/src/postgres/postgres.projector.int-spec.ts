import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { Pool } from 'pg';
import { inMemoryReference } from '../queries/analytics-queries.contract';
import { historyArbitrary } from '../testing/history.arbitrary';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { PostgresAnalyticsQueries } from './postgres-analytics.queries';
import { createReadSidePool, PostgresProjector, PostgresReadSideFollower, projectorLockKey, READ_SIDE_NAMES } from './postgres.projector';
import { rebuildPostgresReadSide } from './postgres-maintenance';
import { allDailyCountsSql, allLabelRowsSql } from './read-side.learned';
import { migrateReadSide } from './read-side.migrations';
import { stoppedForGood } from '../runner/read-models.port';
import { TcpProxy } from '../../../../test/support/tcp-proxy';

const ROOT = join(__dirname, '..', '..', '..', '..');
const RUNNER = join(__dirname, '..', 'testing', 'run-postgres-projector.ts');

/** Appends each event to `target` anew: same stream, type and data, a new id. */
async function appendCopies(target: EventStore, events: readonly { stream: string; type: string; data: unknown }[]): Promise<void> {
  for (const event of events) {
    await target.appendToStream(event.stream, [{ id: crypto.randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata: {} }], { expectedRevision: 'any' });
  }
}

/** Runs `work` on an event store of its own, in a temporary directory closed and removed after. */
async function withOwnStore(work: (own: EventStore) => Promise<void>): Promise<void> {
  const ownDir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-own-store-'));
  const own = getSQLiteEventStore({ path: join(ownDir, 'events.db'), pollIntervalMs: 20 });
  try {
    await work(own);
  } finally {
    await own.close();
    rmSync(ownDir, { recursive: true, force: true });
  }
}

describeWithPostgres('the PostgreSQL projector', () => {
  let dir: string;
  let store: EventStore;
  let pool: Pool;
  const schemas: string[] = [];
  const schema = () => {
    const name = uniqueSchema('projector');
    schemas.push(name);
    return name;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-projector-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
    pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
    // A few thousand events of random valid histories (fixed seed), noise included.
    const [history] = fc.sample(historyArbitrary({ maxSteps: 1500 }), { seed: 1128, numRuns: 1 });
    await appendCopies(store, history!.events);
  }, 120_000);

  afterAll(async () => {
    for (const name of schemas) await dropReadSideSchemas(pool, name);
    await pool.end();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const answers = async (queries: { pipeline: PostgresAnalyticsQueries['pipeline']; winLoss: PostgresAnalyticsQueries['winLoss']; stageDurations: PostgresAnalyticsQueries['stageDurations']; funnel: PostgresAnalyticsQueries['funnel']; transitions: PostgresAnalyticsQueries['transitions']; pipelineAsOf: PostgresAnalyticsQueries['pipelineAsOf'] }) =>
    JSON.stringify([
      await queries.pipeline({}, { includeOpportunities: true, closed: { outcomes: ['won', 'lost'], from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z', limit: 20 } }),
      await queries.pipelineAsOf(Date.UTC(2026, 2, 1), {}, { includeOpportunities: true }),
      await queries.winLoss({}, 'month'),
      await queries.winLoss({ teamId: 't1' }, 'reason'),
      await queries.stageDurations({}, '2026-12-01T00:00:00.000Z'),
      await queries.stageDurations({ ownerId: 'ann', from: '2026-02-01T00:00:00Z' }, '2026-12-01T00:00:00.000Z'),
      await queries.funnel({}),
      await queries.transitions({ to: '2026-04-01T00:00:00Z' }),
    ]);
  const expected = async () => answers(inMemoryReference(await store.readAll({ maxCount: 1_000_000 })));
  const queriesOn = (name: string) => new PostgresAnalyticsQueries(pool, name, { position: () => 0, waitFor: async () => true, status: () => [] });

  const startRunner = (name: string, batch = 5, deferIndexesFrom?: number): { child: ChildProcess; output: () => string; exited: Promise<number | null> } => {
    const args = [RUNNER, join(dir, 'events.db'), name, String(batch), ...(deferIndexesFrom === undefined ? [] : [String(deferIndexesFrom)])];
    const child = spawn(process.execPath, ['-r', '@swc-node/register', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    return { child, output: () => output, exited: new Promise((resolve) => child.once('exit', resolve)) };
  };
  /** The schema's indexes (definitions with the schema name taken out) and the notes of deferred ones. */
  const indexesOf = async (name: string) => {
    const { rows } = await pool.query<{ def: string }>(`SELECT replace(indexdef, $1, 'S.') AS def FROM pg_indexes WHERE schemaname = $2 ORDER BY indexname`, [`${name}.`, name]);
    const notes = await pool.query(`SELECT index_name FROM ${name}.deferred_indexes`);
    return { indexes: rows.map((row) => row.def), deferred: notes.rows.map((row) => row.index_name as string) };
  };
  const freshIndexes = async () => {
    const name = schema();
    const client = await pool.connect();
    try {
      await migrateReadSide(client, name);
    } finally {
      client.release();
    }
    return indexesOf(name);
  };
  /**
   * Rows by which the learned win probability's kept tables (labels and daily counts) differ from
   * those counted again from the schema's tables: 0 once a catch-up that deferred them has made them.
   */
  const learnedTablesDiffer = async (name: string) => {
    const differ = (kept: string, counted: string) => `(SELECT count(*) FROM (${kept} EXCEPT ALL ${counted}) x)::int + (SELECT count(*) FROM (${counted} EXCEPT ALL ${kept}) x)::int`;
    const { rows } = await pool.query(
      `SELECT ${differ(`SELECT * FROM ${name}.win_probability_labels`, allLabelRowsSql(name))} AS labels,
         ${differ(`SELECT process_id, stage_id, reached, flagged, won, day, visits::int FROM ${name}.win_probability_daily`, allDailyCountsSql(name))} AS daily,
         (SELECT count(*) FROM ${name}.win_probability_labels)::int AS kept`,
    );
    return rows[0] as { labels: number; daily: number; kept: number };
  };
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 600 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it('killed with SIGKILL at any point, resumes to exactly the figures of one uninterrupted run', async () => {
    const name = schema();
    const checkpoints: number[] = [];
    const deferred: number[] = [];
    // It defers the query indexes (a first fold "long enough" from 1 event): killed meanwhile, the
    // next run must still make them before it reports caught up.
    for (const after of [3, 25, 60]) {
      const run = startRunner(name, 5, 1);
      // Killed once it has committed `after` more batches (mid-stream, between or during transactions).
      await until(() => (run.output().match(/checkpoint \d+/g) ?? []).length >= after || run.output().includes('caught up'), 'progress');
      run.child.kill('SIGKILL');
      await run.exited;
      const { rows } = await pool.query(`SELECT position FROM ${name}.checkpoint`);
      checkpoints.push(Number(rows[0].position));
      deferred.push((await indexesOf(name)).deferred.length);
    }
    // It made progress between kills, and never past the log.
    expect(checkpoints[0]).toBeGreaterThan(0);
    expect(checkpoints[2]).toBeGreaterThanOrEqual(checkpoints[0]!);
    expect(deferred[0]).toBeGreaterThan(0); // the first run was killed before it made them again
    const last = startRunner(name, 5, 1);
    await until(() => last.output().includes('caught up'), 'catching up');
    last.child.kill('SIGTERM');
    await last.exited;
    expect(await answers(queriesOn(name))).toBe(await expected());
    expect(await indexesOf(name)).toEqual(await freshIndexes());
    const learned = await learnedTablesDiffer(name);
    expect(learned).toEqual({ labels: 0, daily: 0, kept: learned.kept });
    expect(learned.kept).toBeGreaterThan(0);
  }, 120_000);

  it('lets one projector work per schema: a second one waits for the lock, then takes over where the first stopped', async () => {
    const name = schema();
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 500 });
    await first.start();
    let waiting = false;
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { onWaitingForLock: () => (waiting = true) });
    let started = false;
    const starting = second.start().then(() => (started = true));
    await until(() => waiting, 'the second projector to wait');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(started).toBe(false);
    const head = await store.headPosition();
    expect(first.position()).toBe(head);
    await first.stop();
    await starting;
    expect(second.position()).toBe(head);
    expect(await answers(queriesOn(name))).toBe(await expected());
    await second.stop();
  }, 60_000);

  // A DBA's statement_timeout or lock_timeout on the projector's role (or database) must not cut
  // the standby's wait for the lock short, nor any statement of its own work: cancelled, a batch
  // or an index build would only be tried again, and a standby would exit instead of waiting.
  it('a second projector, and a rebuild from the CLI, wait for the lock whatever statement_timeout and lock_timeout the role gives its sessions', async () => {
    const name = schema();
    const url = `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c statement_timeout=300 -c lock_timeout=300')}`;
    const first = new PostgresProjector(store, { url, schema: name }, { batchSize: 500 });
    await first.start();
    let waiting = false;
    const second = new PostgresProjector(store, { url, schema: name }, { onWaitingForLock: () => (waiting = true) });
    let ended: string | undefined;
    const starting = second.start().then(
      () => (ended = 'started'),
      (error: Error) => (ended = `failed: ${error.message}`),
    );
    let rebuildWaiting = false;
    let rebuilt: string | undefined;
    const rebuilding = rebuildPostgresReadSide(store, { url, schema: name }, undefined, () => (rebuildWaiting = true)).then(
      () => (rebuilt = 'rebuilt'),
      (error: Error) => (rebuilt = `failed: ${error.message}`),
    );
    await until(() => waiting && rebuildWaiting, 'the second projector and the rebuild to wait');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect([ended, rebuilt]).toEqual([undefined, undefined]);
    await first.stop();
    // Whichever of the two takes the lock first, the other has it once that one is done.
    try {
      await until(() => ended !== undefined || rebuilt !== undefined, 'the lock to be taken');
      if (ended === 'started') await second.stop();
      await until(() => ended !== undefined && rebuilt !== undefined, 'the second projector and the rebuild to take the lock in turn');
      await Promise.all([starting, rebuilding]);
      expect([ended, rebuilt]).toEqual(['started', 'rebuilt']);
    } finally {
      await second.stop();
    }
    expect(await answers(queriesOn(name))).toBe(await expected());
  }, 60_000);

  // idle_session_timeout (PostgreSQL 14+) on the role ends a session left idle: the live
  // projector's, between two events, and the lock with it — a standby would take over while this
  // one believes it still projects, and each event after a quiet spell would fail a batch first.
  it('keeps its connection, and so its lock, through quiet spells whatever idle_session_timeout the role sets', async () => {
    const name = schema();
    const url = `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c idle_session_timeout=300')}`;
    await withOwnStore(async (quiet) => {
      const events = await store.readAll({ maxCount: 200 });
      await appendCopies(quiet, events.slice(0, 100));
      const failures: string[] = [];
      const projector = new PostgresProjector(quiet, { url, schema: name }, { batchSize: 50 });
      projector.onFailure = (reason) => failures.push(reason);
      try {
        await projector.start();
        await new Promise((resolve) => setTimeout(resolve, 1200));
        // A session of our own tries the lock (and lets it go if it got it).
        const other = await pool.connect();
        const free = await other
          .query<{ free: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS free', [projectorLockKey(name)])
          .then(async ({ rows }) => (rows[0]!.free ? (await other.query('SELECT pg_advisory_unlock(hashtext($1))', [projectorLockKey(name)]), true) : false))
          .finally(() => other.release());
        expect(free).toBe(false);
        await appendCopies(quiet, events.slice(100));
        const head = await quiet.headPosition();
        await until(() => projector.position() === head, 'the projector to follow');
        expect(failures).toEqual([]);
      } finally {
        await projector.stop();
      }
    });
  }, 60_000);

  it('folds the log again when migration 8 finds tables folded without criteria, and then answers the criteria of the in-memory model', async () => {
    const name = schema();
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await first.start();
    await first.stop();
    // The schema as an older Stagecraft left it: no migration 8, no criteria column, a catalog saved without criteria.
    await pool.query(`DELETE FROM ${name}.schema_migrations WHERE version = 8; ALTER TABLE ${name}.opportunities DROP COLUMN criteria_met;
      UPDATE ${name}.checkpoint SET state = jsonb_set(state, '{catalog,versions}', (SELECT jsonb_agg(v - 'criteria') FROM jsonb_array_elements(state->'catalog'->'versions') v))`);
    const positionBefore = Number((await pool.query(`SELECT position FROM ${name}.checkpoint`)).rows[0].position);
    expect(positionBefore).toBeGreaterThan(0);
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await second.start();
    expect(second.position()).toBe(await store.headPosition());
    const answered = await answers(queriesOn(name));
    expect(answered).toBe(await expected());
    // Not vacuous: some card of this history has criteria met.
    const pipeline = await queriesOn(name).pipeline({}, { includeOpportunities: true });
    expect(pipeline.processes.flatMap((process) => process.stages.flatMap((stage) => stage.opportunities!)).some((card) => card.criteria!.met > 0)).toBe(true);
    await second.stop();
  }, 60_000);

  it('folds the log again when migration 23 finds furthest ranks carried through a stage mapping, and then answers the in-memory funnel', async () => {
    const name = schema();
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await first.start();
    await first.stop();
    // The schema as an older Stagecraft left it: no migration 23, and furthest ranks (with the funnel's
    // summary of them) that the old rule may have carried too far.
    await pool.query(`DELETE FROM ${name}.schema_migrations WHERE version = 23; UPDATE ${name}.opportunities SET furthest_rank = furthest_rank + 1; DELETE FROM ${name}.funnel_summary`);
    expect(Number((await pool.query(`SELECT position FROM ${name}.checkpoint`)).rows[0].position)).toBeGreaterThan(0);
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await second.start();
    expect(second.position()).toBe(await store.headPosition());
    expect(await answers(queriesOn(name))).toBe(await expected());
    await second.stop();
  }, 60_000);

  it('folds the log again when migration 24 finds visits known only by the stage and version they ended in, and then answers the in-memory calibration', async () => {
    const name = schema();
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await first.start();
    await first.stop();
    const relabelled = `SELECT count(*)::int AS n FROM ${name}.stage_visits WHERE entered_stage_id <> stage_id OR entered_process_version <> process_version`;
    // Not vacuous: this history migrates deals while they stand in a stage.
    const visitsRelabelled = (await pool.query(relabelled)).rows[0].n as number;
    expect(visitsRelabelled).toBeGreaterThan(0);
    const calibrations = async (queries: Pick<PostgresAnalyticsQueries, 'winProbabilityCalibration'>) => JSON.stringify([await queries.winProbabilityCalibration({}), await queries.winProbabilityCalibration({ to: '2026-03-01T00:00:00Z' })]);
    const reference = await calibrations(inMemoryReference(await store.readAll({ maxCount: 1_000_000 })));
    // The schema as an older Stagecraft left it: no migration 24, each visit known by its labels alone (what migration 24 fills in before the fold).
    await pool.query(`DELETE FROM ${name}.schema_migrations WHERE version = 24; UPDATE ${name}.stage_visits SET entered_stage_id = stage_id, entered_process_version = process_version`);
    expect(await calibrations(queriesOn(name))).not.toBe(reference);
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await second.start();
    expect(second.position()).toBe(await store.headPosition());
    expect((await pool.query(relabelled)).rows[0].n).toBe(visitsRelabelled);
    expect(await calibrations(queriesOn(name))).toBe(reference);
    await second.stop();
  }, 60_000);

  it('gives the in-memory figures whatever settings the server gives its sessions (options in READ_MODELS_URL, ALTER ROLE or DATABASE … SET)', async () => {
    const name = schema();
    // 15 significant digits for a float8, another time zone and date style: what an operator's
    // defaults may give every connection. The amounts get 17 significant digits.
    const options = '-c extra_float_digits=0 -c TimeZone=Pacific/Kiritimati -c DateStyle=SQL,DMY -c IntervalStyle=sql_standard';
    const url = `${POSTGRES_TEST_URL}${POSTGRES_TEST_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(options)}`;
    const awkward = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(awkward)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, key === 'amount' && typeof inner === 'number' ? inner + 0.1234567890123 : awkward(inner)]))
          : value;
    const events = (await store.readAll({ maxCount: 1_000_000 })).map((event) => ({ ...event, data: awkward(event.data) }));
    expect(events.filter((event) => JSON.stringify(event.data).includes('.1234567890123')).length).toBeGreaterThan(0);
    const half = Math.floor(events.length / 2);
    await withOwnStore(async (own) => {
      await appendCopies(own, events.slice(0, half));
      const first = new PostgresProjector(own, { url, schema: name }, { batchSize: 50 });
      await first.start();
      await first.stop();
      // Started again, the projector reads the records of the deals the rest of the log touches back from its tables.
      await appendCopies(own, events.slice(half));
      const second = new PostgresProjector(own, { url, schema: name }, { batchSize: 50 });
      await second.start();
      await second.stop();
      const skewedPool = createReadSidePool({ url, schema: name }, 2);
      try {
        const queries = new PostgresAnalyticsQueries(skewedPool, name, { position: () => 0, waitFor: async () => true, status: () => [] });
        expect(await answers(queries)).toBe(await answers(inMemoryReference(await own.readAll({ maxCount: 1_000_000 }))));
      } finally {
        await skewedPool.end();
      }
    });
  }, 90_000);

  // Text PostgreSQL cannot hold (U+0000) in a log written before the API refused it, or by
  // another writer: the projector must stop visibly, for every API instance, not serve figures
  // that no longer move.
  it('records in the checkpoint that PostgreSQL refused a value of the log, so every instance answers PROJECTIONS.FAILED', async () => {
    const name = schema();
    await withOwnStore(async (refusedStore) => {
      const events = await store.readAll({ maxCount: 400 });
      const opened = events.find((event) => event.type === 'OpportunityOpened')!;
      const id = crypto.randomUUID();
      await appendCopies(refusedStore, [...events, { stream: `opportunity-${id}`, type: 'OpportunityOpened', data: { ...(opened.data as Record<string, unknown>), opportunityId: id, title: 'nul \u0000 here' } }]);
      const projector = new PostgresProjector(refusedStore, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50 });
      await projector.start();
      expect(projector.failure()).toMatch(/refused a value/);
      const { rows } = await pool.query(`SELECT failed, position FROM ${name}.checkpoint`);
      expect(rows[0].failed).toMatch(/could not be written into PostgreSQL/);
      // What came before the refused event was written, each batch with its checkpoint.
      expect(Number(rows[0].position)).toBeGreaterThan(0);
      // How to rebuild: this API's route where this process projects, the projector's command where another does.
      await expect(queriesOn(name).funnel({})).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringContaining('then rebuild them: POST /admin/projections/pipeline/rebuild (one schema') });
      const elsewhere = new PostgresAnalyticsQueries(pool, name, new PostgresReadSideFollower(refusedStore, pool, name));
      await expect(elsewhere.funnel({})).rejects.toMatchObject({
        code: 'PROJECTIONS.FAILED',
        message: expect.stringContaining('then rebuild them in the projector process: stop it, run npm run projections -- rebuild pipeline, and start it again (one schema'),
      });
      // A stop for good, not a lost connection: a ?minPosition= read is refused at once, not waited for.
      expect(stoppedForGood(projector.status(), READ_SIDE_NAMES)).toMatch(/could not be written into PostgreSQL/);
      // A rebuild folds what came before the event into a new schema, which knows nothing of the
      // stop: the projector follows again and records the stop there too.
      await projector.rebuild('funnel');
      // The rebuilt schema holds no stop, and the projector follows again by itself: until it meets
      // the event again, the status says so (recovering), not the stop an operator had to fix.
      expect(stoppedForGood(projector.status(), READ_SIDE_NAMES)).toBeUndefined();
      let failedAgain: string | null = null;
      for (let i = 0; i < 200 && failedAgain === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        failedAgain = (await pool.query(`SELECT failed FROM ${name}.checkpoint`)).rows[0].failed;
      }
      expect(failedAgain).toMatch(/could not be written into PostgreSQL/);
      expect(projector.failure()).toMatch(/refused a value/);
      await projector.stop();
    });
  }, 60_000);

  // A row altered outside Stagecraft (its data no longer JSON) in a log long enough to defer the
  // query indexes: counting the log's events before the first fold threw, and start-up failed
  // (the whole API with it), where the fold itself meets the event and says so in the status.
  it('starts on a long log holding an event it cannot read, counting that event among the others, and stops on it for good', async () => {
    const name = schema();
    const ownDir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-unreadable-'));
    const own = getSQLiteEventStore({ path: join(ownDir, 'events.db'), pollIntervalMs: 20 });
    const projector = new PostgresProjector(own, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 10, deferIndexesFrom: 20 });
    try {
      await appendCopies(own, await store.readAll({ maxCount: 30 }));
      const db = new Database(join(ownDir, 'events.db'));
      expect(db.prepare("UPDATE events SET data = 'not json' WHERE position = 3").run().changes).toBe(1);
      db.close();
      await projector.start();
      expect(projector.failure()).toMatch(/position 3/);
      // Reading it again reads the same bytes: a stop until the log is restored, not a retry for ever.
      expect(projector.status()[0]).toMatchObject({ failed: expect.stringMatching(/\(position 3\) cannot be read.*restore the log/) });
      expect(projector.status()[0]!.recovering).toBeUndefined();
    } finally {
      await projector.stop().catch(() => undefined);
      await own.close();
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 60_000);

  // PostgreSQL restarting, failing over, or an operator ending the session: the projector follows
  // again from its checkpoint once PostgreSQL answers, instead of staying stopped until a restart.
  it('follows the log again from its checkpoint after PostgreSQL ended its connections', async () => {
    const name = schema();
    await withOwnStore(async (movingStore) => {
      const events = await store.readAll({ maxCount: 100_000 });
      const half = Math.floor(events.length / 2);
      await appendCopies(movingStore, events.slice(0, half));
      const failures: string[] = [];
      const projector = new PostgresProjector(movingStore, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50 });
      projector.onFailure = (reason) => failures.push(reason);
      await projector.start();
      const before = projector.position();
      // Both of its connections ended by the server (the lock goes with the session); only this
      // projector's, by their backend pids: other test files' projectors share the database.
      const { client, reader } = projector as unknown as Record<'client' | 'reader', { processID: number }>;
      const ended = await pool.query<{ ended: boolean }>(`SELECT pg_terminate_backend(pid) AS ended FROM unnest($1::int[]) AS pid`, [[client.processID, reader.processID]]);
      expect(ended.rows).toEqual([{ ended: true }, { ended: true }]);
      await appendCopies(movingStore, events.slice(half));
      const head = await movingStore.headPosition();
      await until(() => projector.position() === head && projector.failure() === undefined, 'the projector to follow again').catch((error) => { throw new Error(`${error.message}: position ${projector.position()} of ${head}, failure ${projector.failure()}, told ${failures.join(' | ')}`); });
      expect(before).toBeLessThan(head);
      expect(failures.join('\n')).toMatch(/PostgreSQL ended the projector's session \(terminating connection due to administrator command\), and the schema's lock with it: following the log again once it answers/);
      // Nothing counted twice, nothing skipped: the figures of the whole log.
      const queries = queriesOn(name);
      const inMemory = inMemoryReference(await movingStore.readAll({ maxCount: 1_000_000 }));
      expect(JSON.stringify([await queries.funnel({}), await queries.winLoss({}, 'month'), await queries.transitions({})])).toBe(JSON.stringify([await inMemory.funnel({}), await inMemory.winLoss({}, 'month'), await inMemory.transitions({})]));
      await projector.stop();
    });
  }, 90_000);

  // A quiet log: nothing to write, so no batch finds out that the connection is gone (a failover,
  // the network cut, a restart) — and the lock went with the session. The projector must notice
  // at once, take the lock again and follow, not when the next event comes: meanwhile a standby
  // could take over, and a rebuild would swap its schema in and then fail on the dead connection.
  it('notices at once that PostgreSQL dropped its connections while the log is quiet, takes its lock again, and a rebuild then succeeds', async () => {
    const name = schema();
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(POSTGRES_TEST_URL).port || 5432)).start();
    const url = new URL(POSTGRES_TEST_URL);
    url.host = proxy.url;
    const failures: string[] = [];
    const projector = new PostgresProjector(store, { url: url.toString(), schema: name }, { batchSize: 500 });
    projector.onFailure = (reason) => failures.push(reason);
    const lockIsFree = async () => {
      const other = await pool.connect();
      try {
        const { rows } = await other.query<{ free: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS free', [projectorLockKey(name)]);
        if (rows[0]!.free) await other.query('SELECT pg_advisory_unlock(hashtext($1))', [projectorLockKey(name)]);
        return rows[0]!.free;
      } finally {
        other.release();
      }
    };
    try {
      await projector.start();
      expect(await lockIsFree()).toBe(false);
      await proxy.cut();
      await proxy.restore();
      await until(() => failures.length > 0, 'the projector to notice');
      expect(failures[0]).toMatch(/The projector lost its PostgreSQL session \(.*\), and the schema's lock with it: following the log again once it answers, after taking the lock again/);
      let held = false;
      for (let i = 0; i < 100 && !held; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        held = projector.failure() === undefined && !(await lockIsFree());
      }
      expect(held).toBe(true);
      await projector.rebuild('funnel');
      const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}_%`]);
      expect(rows).toEqual([]);
      expect(await answers(queriesOn(name))).toBe(await expected());
    } finally {
      await projector.stop();
      await proxy.close();
    }
  }, 60_000);

  // The state kept with the checkpoint is derived, as the tables are: one that no longer reads (a
  // hand edit, a partial restore) stopped start-up with a TypeError and answered 500 to every query.
  it.each([
    ['a catalog that is not one', `state = '{"catalog": 5}'`],
    ['a stage of a process the catalog lacks', `state = jsonb_set(state, '{catalog,stages,0,processId}', '"gone"')`],
    ['counters that are not number triples', `counters = '{"pairs": "x"}'`],
    ['a transition pair naming a stage the catalog lacks', `counters = jsonb_set(counters, '{pairs,0,0}', '999')`],
  ])('answers PROJECTIONS.FAILED while the saved state does not read (%s), and a projector started then folds the log again', async (_what, damage) => {
    const name = schema();
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 500 });
    await first.start();
    await first.stop();
    await pool.query(`UPDATE ${name}.checkpoint SET ${damage}`);
    await expect(queriesOn(name).funnel({})).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringContaining('restart the projector') });
    await expect(queriesOn(name).transitions({})).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringContaining('restart the projector') });

    const resets: string[] = [];
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 500, onReset: (reason) => resets.push(reason) });
    try {
      await second.start();
      expect(resets).toEqual([expect.stringContaining('rebuilt from this event log: the state saved with the checkpoint does not read')]);
      expect(await answers(queriesOn(name))).toBe(await expected());
    } finally {
      await second.stop();
    }
  }, 90_000);

  // The swap commits, then the live projector reads the rebuilt schema back. When the live side has
  // just lost its connection and is getting it back (its pause, or waiting for its lock), that read
  // fails on the dead connection: the rebuild was still done, and the live side reads the rebuilt
  // schema when it opens again. Reported as failed, an operator would rebuild again for nothing.
  it('a rebuild whose swap lands while the live projector is getting its connection back is done, and the live side follows the rebuilt schema', async () => {
    const name = schema();
    let waitedForLock = 0;
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000, onWaitingForLock: () => (waitedForLock += 1) });
    const holder = await pool.connect();
    try {
      await projector.start();
      const before = await answers(queriesOn(name));
      // Its connections ended by the server; its lock, which goes with them, is taken at once by
      // this test, so that its recovery waits for it, the old connections dead, until let go.
      const { client, reader } = projector as unknown as Record<'client' | 'reader', { processID: number }>;
      await pool.query(`SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, [[client.processID, reader.processID]]);
      await holder.query('SELECT pg_advisory_lock(hashtext($1))', [projectorLockKey(name)]);
      await until(() => waitedForLock > 0, 'the projector to wait for its lock again');
      await expect(projector.rebuild('funnel')).resolves.toBeUndefined();
      expect((await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}\\_%`])).rows).toEqual([]);
      await holder.query('SELECT pg_advisory_unlock(hashtext($1))', [projectorLockKey(name)]);
      await until(() => projector.failure() === undefined, 'the projector to follow again');
      expect(await answers(queriesOn(name))).toBe(before);
    } finally {
      holder.release();
      await projector.stop();
    }
  }, 60_000);

  it('rebuilds from the beginning when the store was restored from an older backup and written on past its checkpoint', async () => {
    const name = schema();
    const events = await store.readAll({ maxCount: 100_000 });
    const backupAt = Math.floor(events.length / 4);
    const projectedTo = Math.floor(events.length / 2);
    // After the restore the log goes on with other deals than before: the history's later events
    // without every other deal opened after the backup (whole streams, so it stays a valid log).
    const firstIndex = new Map<string, number>();
    events.forEach((event, index) => firstIndex.has(event.stream) || firstIndex.set(event.stream, index));
    const later = [...firstIndex].filter(([stream, index]) => stream.startsWith('opportunity-') && index >= backupAt).map(([stream]) => stream);
    const left = new Set(later.filter((_stream, index) => index % 2 === 0));
    const afterRestore = events.slice(backupAt).filter((event) => !left.has(event.stream));
    expect(left.size).toBeGreaterThan(0);

    const ownDir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-restored-'));
    const path = join(ownDir, 'events.db');
    let own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
    const projectors: PostgresProjector[] = [];
    const projectorOn = (log: EventStore, resets: string[] = []) => {
      const projector = new PostgresProjector(log, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50, onReset: (reason) => resets.push(reason) });
      projectors.push(projector);
      return projector;
    };
    try {
      await appendCopies(own, events.slice(0, backupAt));
      await own.close();
      copyFileSync(path, `${path}.backup`);
      own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
      await appendCopies(own, events.slice(backupAt, projectedTo));
      const first = projectorOn(own);
      await first.start();
      const checkpoint = first.position();
      await first.stop();
      await own.close();

      for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      copyFileSync(`${path}.backup`, path);
      own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
      await appendCopies(own, afterRestore);
      expect(await own.headPosition()).toBeGreaterThan(checkpoint);

      const resets: string[] = [];
      const second = projectorOn(own, resets);
      await second.start();
      expect(resets).toEqual([expect.stringMatching(new RegExp(`rebuilt from this event log: the event it last took in \\(position ${checkpoint}, id .*is no longer at that position`)) as string]);
      expect(await answers(queriesOn(name))).toBe(await answers(inMemoryReference(await own.readAll({ maxCount: 1_000_000 }))));
      await second.stop();

      // Its anchor now holds: started again, it goes on from its checkpoint.
      const third = projectorOn(own, resets);
      await third.start();
      expect(resets).toHaveLength(1);
      await third.stop();
    } finally {
      for (const projector of projectors) await projector.stop().catch(() => undefined); // stopping twice is harmless
      await own.close().catch(() => undefined);
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('rebuilds from the beginning when the restored store has events it reads where its checkpoint had passed only events it does not read', async () => {
    const name = schema();
    const events = await store.readAll({ maxCount: 100_000 });
    const backupAt = Math.floor(events.length / 3);
    /** Events no read model takes in: the projector's checkpoint passes them, its anchor stays on the last event it folded. */
    const noise = (count: number) => Array.from({ length: count }, () => ({ stream: 'noise', type: 'Noise', data: {} }));
    const ownDir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-restored-gap-'));
    const path = join(ownDir, 'events.db');
    let own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
    const projectors: PostgresProjector[] = [];
    const resets: string[] = [];
    const projectorOn = (log: EventStore) => {
      const projector = new PostgresProjector(log, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50, onReset: (reason) => resets.push(reason) });
      projectors.push(projector);
      return projector;
    };
    try {
      // The backup ends two events into a run of five the projector does not read.
      await appendCopies(own, [...events.slice(0, backupAt), ...noise(2)]);
      await own.close();
      copyFileSync(path, `${path}.backup`);
      own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
      await appendCopies(own, noise(3));
      const first = projectorOn(own);
      await first.start();
      expect(first.position()).toBe(backupAt + 5);
      await first.stop();
      // The unchanged log: that run is no reason to start over.
      const again = projectorOn(own);
      await again.start();
      await again.stop();
      expect(resets).toEqual([]);
      await own.close();

      for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
      copyFileSync(`${path}.backup`, path);
      own = getSQLiteEventStore({ path, pollIntervalMs: 20 });
      await appendCopies(own, events.slice(backupAt));

      const restored = projectorOn(own);
      await restored.start();
      expect(resets).toEqual([expect.stringContaining(`position ${backupAt + 3}) now stands between the event it last took in (position ${backupAt}) and its checkpoint (position ${backupAt + 5})`) as string]);
      expect(await answers(queriesOn(name))).toBe(await answers(inMemoryReference(await own.readAll({ maxCount: 1_000_000 }))));
      await restored.stop();
    } finally {
      for (const projector of projectors) await projector.stop().catch(() => undefined);
      await own.close().catch(() => undefined);
      rmSync(ownDir, { recursive: true, force: true });
    }
  }, 90_000);

  it('rebuilds from the log, saying so, a schema whose tables were changed outside Stagecraft: at start-up (its checkpoint dropped) and while following (its opportunities dropped)', async () => {
    const events = await store.readAll({ maxCount: 1_000_000 });
    const half = Math.floor(events.length / 2);
    await withOwnStore(async (own) => {
      const name = schema();
      await appendCopies(own, events.slice(0, half));
      const first = new PostgresProjector(own, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50 });
      await first.start();
      await first.stop();
      const expectedOf = async () => answers(inMemoryReference(await own.readAll({ maxCount: 1_000_000 })));
      // Derived: a start on it does not stop on a stack trace, nor wait for a table that does not come back.
      await pool.query(`DROP TABLE ${name}.checkpoint`);
      const resets: string[] = [];
      const projector = new PostgresProjector(own, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50, onReset: (reason) => resets.push(reason) });
      await projector.start();
      expect(resets).toEqual([expect.stringContaining(`relation "${name}.checkpoint" does not exist`)]);
      expect(resets[0]).toContain(`are rebuilt from this event log into ${name}_rebuild`);
      expect(await answers(queriesOn(name))).toBe(await expectedOf());
      // Following, the next batch meets the table missing: rebuilt too, and it follows on.
      await pool.query(`DROP TABLE ${name}.opportunities CASCADE`);
      await appendCopies(own, events.slice(half));
      const head = await own.headPosition();
      await until(() => projector.position() === head && projector.failure() === undefined, 'the rebuilt schema to follow the log');
      expect(resets[1]).toContain(`relation "${name}.opportunities" does not exist`);
      expect(await answers(queriesOn(name))).toBe(await expectedOf());
      await projector.stop();
    });
  }, 120_000);

  it('rebuilds into a shadow schema while the live one serves, and swaps it in with the same figures', async () => {
    const name = schema();
    // Deferring the shadow schema's query indexes to the end of its fold (from 1 event on).
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000, deferIndexesFrom: 1 });
    await projector.start();
    const before = await answers(queriesOn(name));
    // Readers cache the catalog by state_revision: the rebuilt schema counts its own from 0, and
    // one equal to the live one's would keep a reader on the catalog it held before the swap.
    const stateRevision = async () => Number((await pool.query(`SELECT state_revision FROM ${name}.checkpoint`)).rows[0].state_revision);
    const revisionBefore = await stateRevision();
    const progress: number[] = [];
    const rebuilding = projector.rebuild('funnel', ({ position }) => progress.push(position));
    expect(projector.status().every((status) => status.rebuilding)).toBe(true);
    // The live schema answers while the shadow one fills.
    expect(await answers(queriesOn(name))).toBe(before);
    await rebuilding;
    expect(await stateRevision()).toBeGreaterThan(revisionBefore);
    expect(progress.at(-1)).toBe(projector.position());
    expect(await answers(queriesOn(name))).toBe(before);
    const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}_%`]);
    expect(rows).toEqual([]); // no shadow or retired schema left behind
    expect(await indexesOf(name)).toEqual(await freshIndexes());
    const learned = await learnedTablesDiffer(name);
    expect(learned).toEqual({ labels: 0, daily: 0, kept: learned.kept });
    expect(learned.kept).toBeGreaterThan(0);
    await projector.stop();
  }, 60_000);

  it('follows the log again right after the swap while a session still reads the old tables (an analyst with a transaction open)', async () => {
    const name = schema();
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await projector.start();
    const analyst = await pool.connect();
    try {
      await analyst.query('BEGIN');
      await analyst.query(`SELECT count(*) FROM ${name}.opportunities`);
      const rebuilding = projector.rebuild('funnel');
      // The swap is done when the live schema is the rebuilt one (a retired schema beside it).
      const swapped = async () => (await pool.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE $1`, [`${name}\\_retired\\_%`])).rowCount === 1;
      for (let i = 0; i < 300 && !(await swapped()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await swapped()).toBe(true);
      await store.appendToStream('api-key-analyst', [{ id: crypto.randomUUID(), type: 'ApiKeyIssued', data: { keyId: 'analyst' }, metadata: {} }], { expectedRevision: 'any' });
      const head = await store.headPosition();
      // The live projector follows while the analyst's transaction still holds the old tables.
      expect(await projector.waitFor(head, 5_000)).toBe(true);
      await analyst.query('COMMIT');
      await rebuilding;
      const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}_%`]);
      expect(rows).toEqual([]);
    } finally {
      await analyst.query('ROLLBACK').catch(() => undefined);
      analyst.release();
      await projector.stop();
    }
  }, 60_000);
  it('a rebuild drops the old schemas an earlier one left (killed between the swap and the drop), and no other', async () => {
    const name = schema();
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000 });
    await projector.start();
    try {
      await pool.query(`CREATE SCHEMA ${name}_retired_1700000000000`);
      await pool.query(`CREATE TABLE ${name}_retired_1700000000000.opportunities (id text)`);
      await pool.query(`CREATE SCHEMA ${name}_retired_notmine`);
      await projector.rebuild('funnel');
      const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [`${name}\\_%`]);
      expect(rows.map((row: { nspname: string }) => row.nspname)).toEqual([`${name}_retired_notmine`]);
    } finally {
      // Failed or not, nothing of this test is left on the server.
      await pool.query(`DROP SCHEMA IF EXISTS ${name}_retired_notmine CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS ${name}_retired_1700000000000 CASCADE`);
      await projector.stop();
    }
  }, 60_000);

  it('a drop of the old schema that fails after the swap (cancelled) does not make the rebuild a failure', async () => {
    const name = schema();
    const told: string[] = [];
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 1000, onReset: (reason) => told.push(reason) });
    await projector.start();
    const analyst = await pool.connect();
    try {
      await analyst.query('BEGIN');
      await analyst.query(`SELECT count(*) FROM ${name}.opportunities`);
      const rebuilding = projector.rebuild('funnel');
      // The drop waits on the analyst's lock: cancel it, as a DBA would, or as a deadlock does.
      let cancelled = false;
      for (let i = 0; i < 300 && !cancelled; i++) {
        const { rows } = await pool.query(`SELECT pg_cancel_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'stagecraft-rebuild' AND query LIKE 'DROP SCHEMA ${name}\\_retired%' AND wait_event_type = 'Lock'`);
        cancelled = rows.some((row: { ok: boolean }) => row.ok);
        if (!cancelled) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(cancelled).toBe(true);
      await expect(rebuilding).resolves.toBeUndefined();
      expect(told.some((reason) => reason.includes('could not be dropped'))).toBe(true);
    } finally {
      await analyst.query('ROLLBACK').catch(() => undefined);
      analyst.release();
      await projector.stop();
      const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${name}\\_retired\\_%`]);
      for (const { nspname } of rows as { nspname: string }[]) await pool.query(`DROP SCHEMA ${nspname} CASCADE`);
    }
  }, 60_000);
});
