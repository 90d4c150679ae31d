import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { analyticsQueriesContract, inMemoryReference } from '../queries/analytics-queries.contract';
import { EPOCH, historyArbitrary, SPAN_MS, TEAMS } from '../testing/history.arbitrary';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';

describeWithPostgres('AnalyticsQueries contract: PostgreSQL read side', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  analyticsQueriesContract((events, batchSizes) => readSide.load(events, batchSizes), { numRuns: Number(process.env.READ_SIDE_RUNS ?? 60) });

  // Random histories seldom close two deals at the same millisecond, where the board's closed cards
  // must break the tie by id: here every win and loss happens at one instant, after every other event.
  it('lists the latest closed cards with ties on the closing instant broken by id, as in memory', async () => {
    const closedAt = new Date(EPOCH + 3 * SPAN_MS).toISOString();
    await assertProperty(
      fc.asyncProperty(historyArbitrary({ maxSteps: 300 }), fc.integer({ min: 1, max: 3 }), fc.option(fc.constantFrom(...TEAMS), { nil: undefined }), async (history, limit, teamId) => {
        const events = history.events.map((event) => (event.type === 'OpportunityWon' || event.type === 'OpportunityLost' ? { ...event, data: { ...event.data, occurredAt: closedAt } } : event));
        const adapter = await readSide.load(events, [25]);
        const options = { includeOpportunities: true, cardsPerColumn: 2, closed: { outcomes: ['won', 'lost'] as ('won' | 'lost')[], from: closedAt, to: closedAt, limit } };
        const expected = await inMemoryReference(events).pipeline({ teamId }, options);
        expect(JSON.stringify(await adapter.pipeline({ teamId }, options))).toBe(JSON.stringify(expected));
      }),
      { numRuns: 40 },
    );
  }, 300_000);
});
