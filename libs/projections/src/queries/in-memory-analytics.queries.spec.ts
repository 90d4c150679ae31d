import type { ProjectionStatus, ReadModels } from '../runner/read-models.port';
import { inMemoryAnalyticsQueries } from './in-memory-analytics.queries';

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
