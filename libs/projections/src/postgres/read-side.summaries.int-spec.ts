import fc from 'fast-check';
import type { WinLossGroupBy } from '@stagecraft/contracts';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { AnalyticsFilter } from '../projection.types';
import { filterArbitraryFor, historyWith, instantArbitraryFor, OWNERS, PROCESS_IDS, TEAMS, type GeneratedHistory } from '../testing/history.arbitrary';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';
import { PostgresAnalyticsQueries } from './postgres-analytics.queries';
import { rebuildDurationBucketsSql, rebuildSummariesSql, SUMMARY_TABLES } from './read-side.summaries';

const DAY = 86_400_000;

// Bounds where the summaries split a range: day and month starts, the last millisecond and the
// last second of a day (23:59:59, as clients write "to the end of the day"), beside the history's events.
const boundArbitraryFor = (history: GeneratedHistory) =>
  fc.tuple(instantArbitraryFor(history), fc.constantFrom('as is', 'day start', 'day end', 'last second', 'month start')).map(([at, where]) => {
    const day = Math.floor(at / DAY) * DAY;
    const d = new Date(at);
    const ms = where === 'as is' ? at : where === 'day start' ? day : where === 'day end' ? day + DAY - 1 : where === 'last second' ? day + DAY - 1000 : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return new Date(ms).toISOString();
  });

const filterFor = (history: GeneratedHistory): fc.Arbitrary<AnalyticsFilter> =>
  fc.oneof(
    filterArbitraryFor(history),
    fc
      .record(
        {
          processId: fc.constantFrom(...PROCESS_IDS),
          teamId: fc.constantFrom(...TEAMS),
          ownerId: fc.constantFrom(...OWNERS),
          from: boundArbitraryFor(history),
          to: boundArbitraryFor(history),
        },
        { requiredKeys: [] },
      )
      .map((filter) => filter as AnalyticsFilter),
  );

const GROUPINGS: readonly (WinLossGroupBy | undefined)[] = [undefined, 'month', 'team', 'owner', 'process', 'reason'];

describeWithPostgres('summary tables of the PostgreSQL read side', () => {
  const readSide = new PostgresTestReadSide();
  /** The indexes and constraints of a freshly migrated schema. */
  let indexes: string[] = [];
  beforeAll(async () => {
    await readSide.reset();
    indexes = await readSide.indexDefinitions();
  });
  afterAll(() => readSide.close());

  /** The rows of every summary table that count something, in a fixed order. */
  const summaryRows = async () => {
    const rows: Record<string, unknown[]> = {};
    for (const table of SUMMARY_TABLES) {
      const measure = table === 'win_loss_summary' ? 'closings' : table === 'funnel_summary' ? 'opportunities' : 'transitions';
      const { rows: found } = await readSide.pool.query(`SELECT * FROM ${readSide.schema}.${table} t WHERE ${measure} <> 0 ORDER BY t::text`);
      rows[table] = found.map((row) => JSON.stringify(row));
    }
    return rows;
  };

  /** The rows of the stage-duration counts per team, owner and month, in a fixed order. */
  const durationRows = async () => {
    const rows: Record<string, unknown[]> = {};
    for (const table of ['stage_duration_dim_buckets', 'stage_duration_month_buckets']) {
      const { rows: found } = await readSide.pool.query(`SELECT * FROM ${readSide.schema}.${table} t WHERE visits <> 0 ORDER BY t::text`);
      rows[table] = found.map((row) => JSON.stringify(row));
    }
    return rows;
  };

  it('answer win/loss, the funnel and transitions as the general queries do, and hold what a rebuild computes, for random logs, batches, reassignments and bounds', async () => {
    await assertProperty(
      fc.asyncProperty(historyWith((h) => fc.array(filterFor(h), { minLength: 3, maxLength: 8 })), fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }), async ([history, filters], batchSizes) => {
        const summed = await readSide.load(history.events, batchSizes);
        const general = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => summed.position(), waitFor: async () => true, status: () => [] }, { summaries: false });
        for (const filter of filters) {
          for (const groupBy of GROUPINGS) expect([filter, groupBy, JSON.stringify(await summed.winLoss(filter, groupBy))]).toEqual([filter, groupBy, JSON.stringify(await general.winLoss(filter, groupBy))]);
          expect([filter, JSON.stringify(await summed.funnel(filter))]).toEqual([filter, JSON.stringify(await general.funnel(filter))]);
          expect([filter, JSON.stringify(await summed.transitions(filter))]).toEqual([filter, JSON.stringify(await general.transitions(filter))]);
        }
        // Kept batch by batch (deals reassigned, reopened, moved between batches) = computed at once.
        const kept = await summaryRows();
        await readSide.pool.query(rebuildSummariesSql(readSide.schema));
        expect(await summaryRows()).toEqual(kept);
        // Each visit carries its deal's current team and owner.
        const { rows: stale } = await readSide.pool.query(
          `SELECT v.opportunity_id FROM ${readSide.schema}.stage_visits v JOIN ${readSide.schema}.opportunities o USING (opportunity_id)
           WHERE v.current_team_id IS DISTINCT FROM o.team_id OR v.current_owner_id IS DISTINCT FROM o.owner_id`,
        );
        expect(stale).toEqual([]);
      }),
      { numRuns: Number(process.env.READ_SIDE_RUNS ?? 40), seed: 20261128 },
    );
  }, 600_000);

  it('hold what a rebuild computes when a long first fold leaves them to its end (a restart meanwhile, or a connection lost part way through that end, included) and later batches keep them', async () => {
    await assertProperty(
      fc.asyncProperty(
        historyWith((h) => fc.array(filterFor(h), { minLength: 1, maxLength: 3 })),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 8 }),
        fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
        // The end of that fold loses its second connection after this many statements, and is done again.
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
        async ([history, filters], batchSizes, deferredUntil, restartAt, endLostAfter) => {
          const summed = await readSide.load(history.events, batchSizes, { deferredUntil, restartAt, endLostAfter });
          const { rows: notes } = await readSide.pool.query(`SELECT index_name FROM ${readSide.schema}.deferred_indexes`);
          expect(notes).toEqual([]);
          expect(await readSide.indexDefinitions()).toEqual(indexes);
          const general = new PostgresAnalyticsQueries(readSide.pool, readSide.schema, { position: () => summed.position(), waitFor: async () => true, status: () => [] }, { summaries: false });
          for (const filter of filters) {
            expect([filter, JSON.stringify(await summed.winLoss(filter, 'month'))]).toEqual([filter, JSON.stringify(await general.winLoss(filter, 'month'))]);
            expect([filter, JSON.stringify(await summed.funnel(filter))]).toEqual([filter, JSON.stringify(await general.funnel(filter))]);
            expect([filter, JSON.stringify(await summed.transitions(filter))]).toEqual([filter, JSON.stringify(await general.transitions(filter))]);
          }
          const kept = await summaryRows();
          const keptDurations = await durationRows();
          await readSide.pool.query(rebuildSummariesSql(readSide.schema));
          await readSide.pool.query(rebuildDurationBucketsSql(readSide.schema));
          expect(await summaryRows()).toEqual(kept);
          expect(await durationRows()).toEqual(keptDurations);
        },
      ),
      { numRuns: Number(process.env.READ_SIDE_RUNS ?? 25), seed: 20261129 },
    );
  }, 600_000);
});
