import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { analyticsQueriesContract, inMemoryReference } from '../queries/analytics-queries.contract';
import { EPOCH, historyArbitrary, SPAN_MS, TEAMS } from '../testing/history.arbitrary';
import { log, standardV1 } from '../testing/log.fixtures';
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

  // Random histories hold too few deals per stage for the order of a float sum to change its last
  // bit. Here it does: in each currency many small amounts come first in the log, then one large
  // one that opened first in business time. Added in log order (the in-memory order) the small
  // ones survive; in the order of the segments' start times, or with the large one anywhere
  // earlier, each small one is rounded away. The two currencies' rows are interleaved, so a sort
  // by currency (to group) that is not stable would reorder them too.
  it('adds the board as of an instant in log order, where another order would change the sums', async () => {
    const smallAmount = 0.0625; // a quarter of the spacing of doubles near the large one
    const largeAmount = 1e15;
    const events = [log.version(standardV1)];
    for (let i = 0; i < 40; i++) {
      for (const currency of ['EUR', 'USD']) events.push(log.opened(`small-${currency}-${i}`, standardV1, 100 + i, { amount: smallAmount, currency, teamId: `team-${i % 2}` }));
    }
    for (const currency of ['EUR', 'USD']) events.push(log.opened(`large-${currency}`, standardV1, 0, { amount: largeAmount, currency, teamId: 'team-0' }));
    // Renamed later: each small deal's first segment ends then, so its row is written again, after
    // the large ones (a scan of the table in its physical order meets the large ones first).
    for (let i = 0; i < 40; i++) for (const currency of ['EUR', 'USD']) events.push(log.details(`small-${currency}-${i}`, 300, { title: `Renamed ${i}` }));
    const reference = inMemoryReference(events);
    const adapter = await readSide.load(events, [7]);
    for (const [atMs, filter] of [
      [Date.parse(log.opened('x', standardV1, 200).data.occurredAt as string), {}],
      [Date.parse(log.opened('x', standardV1, 200).data.occurredAt as string), { teamId: 'team-0' }],
      // The first small deal's very opening: it stands, the next ones do not yet.
      [Date.parse(log.opened('x', standardV1, 100).data.occurredAt as string), {}],
      [Date.parse(log.opened('x', standardV1, 100).data.occurredAt as string) - 1, {}],
    ] as const) {
      const expected = await reference.pipelineAsOf(atMs, filter, { includeOpportunities: true });
      expect(JSON.stringify(await adapter.pipelineAsOf(atMs, filter, { includeOpportunities: true }))).toBe(JSON.stringify(expected));
    }
    // The question is one where the order matters: the large amount first gives another sum.
    const column = (await reference.pipelineAsOf(Date.parse(log.opened('x', standardV1, 200).data.occurredAt as string), {})).processes[0]!.stages[0]!;
    const largeFirst = [largeAmount, ...Array.from({ length: 40 }, () => smallAmount)].reduce((sum, amount) => sum + amount, 0);
    expect(column.amountsByCurrency.EUR).not.toBe(largeFirst);
    expect(column.amountsByCurrency.USD).toBe(column.amountsByCurrency.EUR);
  }, 60_000);

  // Random histories seldom move two deals into a stage at the same millisecond: here every event
  // happens at the start of its 50-day period (the log's order of times kept), so most deals of a
  // column entered it at one instant and the first cards are those with the smallest ids.
  it('lists the first open cards of each column with ties on the entry instant broken by id, as in memory', async () => {
    const PERIOD_MS = 50 * 86_400_000;
    const periodStart = (occurredAt: unknown) => new Date(Math.floor(Date.parse(occurredAt as string) / PERIOD_MS) * PERIOD_MS).toISOString();
    await assertProperty(
      fc.asyncProperty(historyArbitrary({ maxSteps: 300 }), fc.integer({ min: 1, max: 3 }), fc.option(fc.constantFrom(...TEAMS), { nil: undefined }), async (history, cap, teamId) => {
        const events = history.events.map((event) => (typeof event.data.occurredAt === 'string' ? { ...event, data: { ...event.data, occurredAt: periodStart(event.data.occurredAt) } } : event));
        const adapter = await readSide.load(events, [25]);
        const options = { includeOpportunities: true, cardsPerColumn: cap };
        const expected = await inMemoryReference(events).pipeline({ teamId }, options);
        expect(JSON.stringify(await adapter.pipeline({ teamId }, options))).toBe(JSON.stringify(expected));
      }),
      { numRuns: 30 },
    );
  }, 300_000);
});
