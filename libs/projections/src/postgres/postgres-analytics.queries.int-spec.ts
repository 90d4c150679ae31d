import { analyticsQueriesContract } from '../queries/analytics-queries.contract';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';

describeWithPostgres('AnalyticsQueries contract: PostgreSQL read side', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  analyticsQueriesContract((events, batchSizes) => readSide.load(events, batchSizes), { numRuns: Number(process.env.READ_SIDE_RUNS ?? 60) });
});
