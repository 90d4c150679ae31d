import type { EventStore } from '@stagecraft/event-store';
import type { ProjectionStatus, ReadModels } from '../runner/read-models.port';
import type { ProjectionSnapshotStore } from '../runner/projection-snapshot.store';
import { SnapshotFollower } from '../runner/snapshot-follower';
import { ALL_PROJECTIONS } from '../all-projections';
import type { Projection } from '../projection.types';
import { ReadModelUnavailableError } from './analytics-queries.port';
import { at, log, threeStages } from '../testing/log.fixtures';
import { project } from '../testing/project';
import { winProbabilityProjection } from '../win-probability.projection';
import { inMemoryAnalyticsQueries } from './in-memory-analytics.queries';
import { QUERY_READ_MODELS, type AnalyticsQueryName } from './query-read-models';

// A model that stopped on an event of its own is a stop an operator must fix (PROJECTIONS.FAILED,
// "rebuild it"); one waiting for an event log that cannot be reached now follows again by itself:
// telling an operator to rebuild it would send them to do work that fixes nothing.
function readModelsWith(status: ProjectionStatus): ReadModels {
  return {
    status: () => [status],
    failure: (name: string) => (name === status.name ? status.failed : undefined),
    position: () => status.checkpoint,
    model: () => {
      throw new Error('a model that cannot be served is not read');
    },
  } as unknown as ReadModels;
}

describe('inMemoryAnalyticsQueries, a read model that does not serve', () => {
  it('answers PROJECTIONS.UNAVAILABLE, without asking for a rebuild, while the event log cannot be reached', async () => {
    const failed = 'the event log could not be followed: test store cannot be reached: connection refused; following again once it answers';
    const answer = inMemoryAnalyticsQueries(readModelsWith({ name: 'funnel', checkpoint: 7, lag: 0, rebuilding: false, failed, recovering: true })).funnel({});
    await expect(answer).rejects.toMatchObject({ code: 'PROJECTIONS.UNAVAILABLE', message: expect.stringContaining('connection refused') });
    await expect(answer).rejects.not.toMatchObject({ message: expect.stringContaining('rebuild') });
  });

  it('answers PROJECTIONS.FAILED, asking for a fix and a rebuild, when it stopped on an event', async () => {
    const failed = 'event at position 3 (Poison) could not be folded in: cannot read this';
    const answer = inMemoryAnalyticsQueries(readModelsWith({ name: 'funnel', checkpoint: 2, lag: 1, rebuilding: false, failed })).funnel({});
    await expect(answer).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringMatching(/fix the cause, then rebuild it: POST \/admin\/projections\/funnel\/rebuild\.$/) });
  });

  it("names the projector's command, not this API's route, where another process projects the models", async () => {
    const failed = 'event at position 3 (Poison) could not be folded in: cannot read this';
    const follower = { ...readModelsWith({ name: 'funnel', checkpoint: 2, lag: 1, rebuilding: false, failed }), projectedElsewhere: true as const };
    const answer = inMemoryAnalyticsQueries(follower).funnel({});
    await expect(answer).rejects.toMatchObject({
      code: 'PROJECTIONS.FAILED',
      message: expect.stringMatching(/fix the cause, then rebuild it in the projector process: stop it, run npm run projections -- rebuild funnel, and start it again\.$/),
    });
    // The followers are what serve another process's models.
    expect(new SnapshotFollower({} as EventStore, {} as ProjectionSnapshotStore, []).projectedElsewhere).toBe(true);
  });
});

// The controller refuses a ?minPosition= read at once when a read model its answer needs stopped
// for good (QUERY_READ_MODELS): that list must be what each query really reads.
describe('inMemoryAnalyticsQueries, the read models each query reads', () => {
  it('reads exactly the read models QUERY_READ_MODELS names', async () => {
    let read: string[] = [];
    const readModels = {
      status: () => [],
      failure: () => undefined,
      position: () => 0,
      model: ({ name }: { name: string }) => {
        read.push(name);
        return ALL_PROJECTIONS.find((projection) => projection.name === name)!.initial();
      },
    } as unknown as ReadModels;
    const queries = inMemoryAnalyticsQueries(readModels);
    const window = { fromMs: 0, toMs: 86_400_000 };
    const asked: { [Query in AnalyticsQueryName]: () => Promise<unknown> } = {
      pipeline: () => queries.pipeline({}, { closed: { outcomes: ['won'], from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z', limit: 5 } }),
      pipelineAsOf: () => queries.pipelineAsOf(0, {}),
      searchOpportunities: () => queries.searchOpportunities({ q: 'acme', limit: 5 }),
      winLoss: () => queries.winLoss({}),
      stageDurations: () => queries.stageDurations({}, '2026-01-01T00:00:00.000Z'),
      funnel: () => queries.funnel({}),
      transitions: () => queries.transitions({}),
      forecast: () => queries.forecast({ period: 'month' }),
      forecastAsOf: () => queries.forecastAsOf(0, { period: 'month' }),
      forecastAccuracy: () => queries.forecastAccuracy({ period: 'month' }),
      rotting: () => queries.rotting(0, { limit: 10 }),
      rottingAsOf: () => queries.rottingAsOf(0, { limit: 10 }),
      learnedPipeline: () => queries.learnedPipeline({ atMs: 0, asOf: false, filter: {}, cardIds: [] }),
      learnedForecast: () => queries.learnedForecast({ atMs: 0, asOf: false, forecast: { period: 'month' } }),
      winProbabilityCalibration: () => queries.winProbabilityCalibration({}),
      waterfall: () => queries.waterfall({ ...window, byStage: false, includeOpportunities: false }),
      velocity: () => queries.velocity(window),
      cohorts: () => queries.cohorts({}),
    };
    for (const [query, ask] of Object.entries(asked) as [AnalyticsQueryName, () => Promise<unknown>][]) {
      read = [];
      await ask();
      expect({ query, reads: [...new Set(read)].sort() }).toEqual({ query, reads: [...QUERY_READ_MODELS[query]].sort() });
    }
  });
});

// With PROJECTIONS=external the API serves the models the projector saves: during an upgrade, a
// projector not yet upgraded saves the win-probability model of layout 1, whose visits have no
// entered stage or version. Read as if it had them, every learned figure was a TypeError: a 500 on
// /pipeline (which answers without its learned figures when only their model cannot serve) and on
// calibration. It must be refused as a model saved by an older version, as the other layouts are.
describe('inMemoryAnalyticsQueries, a win-probability model saved by an older version', () => {
  const events = [log.version(threeStages), log.opened('x', threeStages, 0, { amount: 100, currency: 'EUR' }), log.moved('x', 'a', 'c', 10), log.won('x', 'c', 20), log.opened('y', threeStages, 30)];
  const models = (winProbability: unknown) =>
    ({
      status: () => [],
      failure: () => undefined,
      position: () => 0,
      model: ({ name }: { name: string }) => {
        if (name === winProbabilityProjection.name) return winProbability;
        const projection = ALL_PROJECTIONS.find((candidate) => candidate.name === name)! as Projection<unknown>;
        return project(projection, events);
      },
    }) as unknown as ReadModels;
  const layout1 = (() => {
    const model = project(winProbabilityProjection, events);
    const { enteredStageKey: _stage, enteredVersion: _version, ...visits } = model.visits;
    return { ...model, layout: 1, visits };
  })();
  // Each asked apart, on its own turn: a query that throws before its promise is made is a rejection here too.
  const asked = (queries: ReturnType<typeof inMemoryAnalyticsQueries>): (() => Promise<unknown>)[] => [
    () => queries.learnedPipeline({ atMs: Date.parse(at(40)), asOf: false, filter: {}, cardIds: [] }),
    () => queries.learnedForecast({ atMs: Date.parse(at(40)), asOf: false, forecast: { period: 'month' } }),
    () => queries.winProbabilityCalibration({}),
  ];

  it('is refused as PROJECTIONS.FAILED, saying to upgrade the projector, not read into a TypeError', async () => {
    expect(layout1.labelled.length).toBeGreaterThan(0); // not vacuous: the learned figures read its visits
    for (const ask of asked(inMemoryAnalyticsQueries(models(layout1)))) {
      const answer = Promise.resolve().then(ask);
      await expect(answer).rejects.toBeInstanceOf(ReadModelUnavailableError);
      await expect(answer).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringContaining('upgrade the projector') });
    }
  });

  it('answers from a model of the current layout', async () => {
    const [pipeline, forecast, calibration] = await Promise.all(asked(inMemoryAnalyticsQueries(models(project(winProbabilityProjection, events)))).map((ask) => ask()));
    expect([pipeline, forecast, calibration]).toEqual([expect.anything(), expect.anything(), expect.objectContaining({ estimates: 2, won: 2 })]);
  });
});
