import type { ProjectionStatus, ReadModels } from '../runner/read-models.port';
import { ALL_PROJECTIONS } from '../all-projections';
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
    await expect(answer).rejects.toMatchObject({ code: 'PROJECTIONS.FAILED', message: expect.stringContaining('rebuild it') });
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
