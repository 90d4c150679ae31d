import { analyticsQueriesContract, inMemoryReference } from './analytics-queries.contract';

// The in-memory adapter keeps the contract trivially against itself, except for what a restart
// changes: the models are folded afresh from the same events in each call (the batch sizes mean
// nothing here).
describe('AnalyticsQueries contract: in-memory read models', () => {
  analyticsQueriesContract(async (events) => inMemoryReference(events), { numRuns: 20 });
});
