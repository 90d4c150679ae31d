import type { ProcessRegistry } from '@stagecraft/commands';
import type { Settings } from '@stagecraft/config';
import { EventStoreUnavailableError, getSQLiteEventStore, type EventStore, type SubscribeToAllOptions, type SubscriptionMessage } from '@stagecraft/event-store';
import {
  ALL_PROJECTIONS,
  inMemoryAnalyticsQueries,
  PostgresAnalyticsQueries,
  PostgresReadSideFollower,
  ProjectionRunner,
  type AnalyticsQueries,
  type Projection,
  type ProjectionSnapshot,
  type ProjectionSnapshotStore,
} from '@stagecraft/projections';
import { describeWithPostgres, migratedTestSchema } from '../../../../libs/projections/src/testing/postgres.testing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import type { Principal } from '../auth/principal';
import { toProblem } from '../http/problem.mapping';
import { AnalyticsController } from './analytics.controller';
import type { AnalyticsQueryDto, CohortsQueryDto, ForecastAccuracyQueryDto, ForecastQueryDto, PipelineQueryDto, RottingQueryDto, VelocityQueryDto, WaterfallQueryDto, WinLossQueryDto } from './analytics.dto';

// ?minPosition= on a read side that stopped for good (an event it cannot fold, a value PostgreSQL
// refused) can never be met: the answer is 503 PROJECTIONS.FAILED at once, as the same query
// without minPosition answers, not PROJECTIONS.BEHIND ("retry shortly") after the wait. A read side
// that only cannot be reached now (it follows again by itself) is still waited for.

const principal: Principal = { name: 'analyst', authenticatedBy: 'api-key:k', roles: ['analyst'], mayActOnBehalf: false };
const request = { headers: {} } as FastifyRequest;
const reply = { header: () => reply } as unknown as FastifyReply;
const processes = { exists: async () => true, list: () => [] } as unknown as ProcessRegistry;
const atHead = (head: number) => ({ headPosition: async () => head }) as unknown as EventStore;

/** The code /pipeline?minPosition= answers with (or 'ok'). */
async function minPositionAnswer(queries: AnalyticsQueries, store: EventStore, minPosition: number): Promise<string> {
  return (await minPositionProblem(queries, store, minPosition)).code;
}

/** The problem /pipeline?minPosition= answers with (code 'ok' when it answers). */
async function minPositionProblem(queries: AnalyticsQueries, store: EventStore, minPosition: number): Promise<{ code: string; detail?: string; projection?: string }> {
  // The wait is short: what is asserted is which refusal comes, not how long it took.
  const controller = new AnalyticsController(queries, { readYourWritesTimeoutMs: 50 } as Settings, () => new Date('2026-03-01T00:00:00Z'), processes, store, null);
  try {
    await controller.pipeline({ minPosition } as PipelineQueryDto, principal, request, reply);
    return { code: 'ok' };
  } catch (error) {
    const problem = toProblem(error);
    return { code: problem.code, detail: problem.detail, ...problem.extensions };
  }
}

describe('?minPosition= against in-memory read models that stopped', () => {
  let dir: string;
  let store: EventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-ryw-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers PROJECTIONS.FAILED when every read model stopped on an event', async () => {
    // A pipeline model that cannot fold the second event: the runner's only model stops there.
    const fragile: Projection<{ seen: number }> = {
      name: 'pipeline',
      handles: new Set(['Ping', 'Poison']),
      initial: () => ({ seen: 0 }),
      evolve: (model, event) => {
        if (event.type === 'Poison') throw new Error('cannot read this');
        return { seen: model.seen + 1 };
      },
    };
    for (const type of ['Ping', 'Poison', 'Ping']) await store.appendToStream('s', [{ id: crypto.randomUUID(), type, data: {}, metadata: {} }], { expectedRevision: 'any' });
    const snapshots: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: (_: readonly ProjectionSnapshot[]) => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };
    const runner = new ProjectionRunner(store, snapshots, [fragile as Projection<unknown>]);
    await runner.start();
    try {
      expect(runner.failure('pipeline')).toMatch(/cannot read this/);
      // As the query itself says it: the route that rebuilds the model stopped, named.
      expect(await minPositionProblem(inMemoryAnalyticsQueries(runner), store, await store.headPosition())).toMatchObject({
        code: 'PROJECTIONS.FAILED',
        detail: expect.stringMatching(/cannot read this.*then rebuild it: POST \/admin\/projections\/pipeline\/rebuild\.$/),
        projection: 'pipeline',
      });
    } finally {
      await runner.stop();
    }
  });
});

describe('?minPosition= against in-memory read models, some stopped for good and the rest waiting for the log', () => {
  let dir: string;
  let store: EventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-ryw-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Each endpoint answers from its own read models: one that needs a model stopped for good is
  // refused at once, as the PostgreSQL side (one schema, one stop) refuses; one whose models only
  // wait for the log is waited for. Several-model answers (cohorts: funnel and stage-intervals; the
  // learned forecast: stage-intervals and win-probability) are refused when any of theirs stopped.
  it('refuses at once each answer that needs a stopped model, and waits for the others', async () => {
    const stopsOnPoison = new Set(['funnel', 'win-probability']);
    const models = ALL_PROJECTIONS.map(
      ({ name }): Projection<{ seen: number }> => ({
        name,
        handles: new Set(['Ping', 'Poison']),
        initial: () => ({ seen: 0 }),
        evolve: (model, event) => {
          if (event.type === 'Poison' && stopsOnPoison.has(name)) throw new Error('cannot read this');
          return { seen: model.seen + 1 };
        },
      }),
    );
    for (const type of ['Ping', 'Poison', 'Ping']) await store.appendToStream('s', [{ id: crypto.randomUUID(), type, data: {}, metadata: {} }], { expectedRevision: 'any' });
    const head = await store.headPosition();
    // The log's head still answers (the controller checks minPosition against it), but it cannot be
    // followed once everything was delivered: the working models wait for it (recovering).
    let delivered = false;
    const outage = () => new EventStoreUnavailableError('test store', 'connection refused');
    const cutOff: EventStore = Object.assign(Object.create(store) as EventStore, {
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        if (delivered) throw outage();
        return (async function* () {
          for await (const message of store.subscribeToAll(options)) {
            yield message;
            if (message.type === 'caughtUp') {
              delivered = true;
              throw outage();
            }
          }
        })();
      },
    });
    const snapshots: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: (_: readonly ProjectionSnapshot[]) => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };
    const runner = new ProjectionRunner(cutOff, snapshots, models as Projection<unknown>[]);
    await runner.start();
    try {
      for (let i = 0; i < 500 && !runner.status().some((status) => status.recovering); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(runner.status().map(({ name, failed, recovering }) => [name, failed === undefined ? 'working' : recovering ? 'recovering' : 'stopped'])).toEqual(
        ALL_PROJECTIONS.map(({ name }) => [name, stopsOnPoison.has(name) ? 'stopped' : 'recovering']),
      );
      const controller = new AnalyticsController(inMemoryAnalyticsQueries(runner), { readYourWritesTimeoutMs: 50 } as Settings, () => new Date('2026-03-01T00:00:00Z'), processes, store, null);
      const asked = { minPosition: head };
      const endpoints: Record<string, () => Promise<unknown>> = {
        pipeline: () => controller.pipeline(asked as PipelineQueryDto, principal, request, reply),
        'pipeline?asOf': () => controller.pipeline({ ...asked, asOf: '2026-02-01T00:00:00Z' } as PipelineQueryDto, principal, request, reply),
        'win-loss': () => controller.winLoss(asked as WinLossQueryDto, principal, request, reply),
        'stage-durations': () => controller.stageDurations(asked as AnalyticsQueryDto, principal, request, reply),
        funnel: () => controller.funnel(asked as AnalyticsQueryDto, principal, request, reply),
        transitions: () => controller.transitions(asked as AnalyticsQueryDto, principal, request, reply),
        forecast: () => controller.forecast(asked as ForecastQueryDto, principal, request, reply),
        'forecast?asOf': () => controller.forecast({ ...asked, asOf: '2026-02-01T00:00:00Z' } as ForecastQueryDto, principal, request, reply),
        'forecast?include=learned': () => controller.forecast({ ...asked, include: 'learned' } as ForecastQueryDto, principal, request, reply),
        'forecast-accuracy': () => controller.forecastAccuracy(asked as ForecastAccuracyQueryDto, principal, request, reply),
        rotting: () => controller.rotting(asked as RottingQueryDto, principal, request, reply),
        'rotting?asOf': () => controller.rotting({ ...asked, asOf: '2026-02-01T00:00:00Z' } as RottingQueryDto, principal, request, reply),
        waterfall: () => controller.waterfall(asked as WaterfallQueryDto, principal, request, reply),
        velocity: () => controller.velocity(asked as VelocityQueryDto, principal, request, reply),
        cohorts: () => controller.cohorts(asked as CohortsQueryDto, principal, request, reply),
        'win-probability/calibration': () => controller.winProbabilityCalibration(asked as AnalyticsQueryDto, principal, request, reply),
      };
      const answers: Record<string, string> = {};
      for (const [endpoint, ask] of Object.entries(endpoints)) {
        answers[endpoint] = await ask().then(
          () => 'ok',
          (error: unknown) => (toProblem(error) as { code: string }).code,
        );
      }
      expect(answers).toEqual({
        pipeline: 'PROJECTIONS.BEHIND',
        'pipeline?asOf': 'PROJECTIONS.BEHIND',
        'win-loss': 'PROJECTIONS.BEHIND',
        'stage-durations': 'PROJECTIONS.BEHIND',
        funnel: 'PROJECTIONS.FAILED',
        transitions: 'PROJECTIONS.BEHIND',
        forecast: 'PROJECTIONS.BEHIND',
        'forecast?asOf': 'PROJECTIONS.BEHIND',
        'forecast?include=learned': 'PROJECTIONS.FAILED',
        'forecast-accuracy': 'PROJECTIONS.BEHIND',
        rotting: 'PROJECTIONS.BEHIND',
        'rotting?asOf': 'PROJECTIONS.BEHIND',
        waterfall: 'PROJECTIONS.BEHIND',
        velocity: 'PROJECTIONS.BEHIND',
        cohorts: 'PROJECTIONS.FAILED',
        'win-probability/calibration': 'PROJECTIONS.FAILED',
      });
    } finally {
      await runner.stop();
    }
  }, 30_000);
});

describeWithPostgres('?minPosition= against the PostgreSQL read side', () => {
  const { pool, schema } = migratedTestSchema('ryw', 3);

  it('answers PROJECTIONS.FAILED at once when the projector recorded that it stopped (checkpoint.failed)', async () => {
    await pool.query(`UPDATE ${schema}.checkpoint SET position = 5, failed = 'the events after position 5 could not be written into PostgreSQL'`);
    const store = atHead(9);
    const follower = new PostgresReadSideFollower(store, pool, schema, 20);
    await follower.start();
    try {
      expect(await minPositionAnswer(new PostgresAnalyticsQueries(pool, schema, follower), store, 8)).toBe('PROJECTIONS.FAILED');
    } finally {
      await follower.stop();
    }
  });

  it('still waits, and answers PROJECTIONS.BEHIND, while the read side only cannot be reached', async () => {
    // Nothing listens on this port (the range this suite may use): every poll is refused.
    const away = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:7197/postgres', max: 1, connectionTimeoutMillis: 500 });
    away.on('error', () => undefined);
    const store = atHead(9);
    const follower = new PostgresReadSideFollower(store, away, schema, 20);
    await follower.start();
    try {
      expect(follower.status()[0]!.failed).toMatch(/cannot be read/);
      expect(await minPositionAnswer(new PostgresAnalyticsQueries(away, schema, follower), store, 8)).toBe('PROJECTIONS.BEHIND');
    } finally {
      await follower.stop();
      await away.end();
    }
  });
});
