import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { historyArbitrary } from '../testing/history.arbitrary';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';

// The projector keeps at most `cacheSize` opportunity records in memory between batches (the
// least recently used go first) and reads the others back from `opportunities`: what it holds
// does not grow with the log, and what it writes must not depend on which records it held.

const TABLES = [
  'opportunities',
  'stage_visits',
  'stage_visit_totals',
  'stage_duration_buckets',
  'stage_duration_dim_buckets',
  'stage_duration_month_buckets',
  'outcomes',
  'transitions',
  'transition_pairs',
  'board_segments',
  'win_loss_summary',
  'funnel_summary',
  'transition_summary',
] as const;

describeWithPostgres('the read-side writer with a bounded cache of records', () => {
  const small = new PostgresTestReadSide();
  const large = new PostgresTestReadSide();
  beforeAll(async () => {
    await small.reset();
    await large.reset();
  });
  afterAll(async () => {
    await small.close();
    await large.close();
  });

  /** Every row of every table, as text, in a fixed order; the checkpoint's position, state and counters. */
  const contents = async (readSide: PostgresTestReadSide) => {
    const tables: Record<string, string[]> = {};
    for (const table of TABLES) tables[table] = (await readSide.pool.query<{ row: string }>(`SELECT t::text AS row FROM ${readSide.schema}.${table} t ORDER BY 1`)).rows.map(({ row }) => row);
    const { rows } = await readSide.pool.query(`SELECT position, state, counters FROM ${readSide.schema}.checkpoint`);
    return { tables, checkpoint: rows };
  };

  it('never holds more records than its cap, and writes the same rows with a cap of one record as with room for all', async () => {
    await assertProperty(
      fc.asyncProperty(historyArbitrary(), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), async (history, batchSizes, cap) => {
        const held: number[] = [];
        await small.load(history.events, batchSizes, { cacheSize: cap, onBatch: (writer) => held.push(writer.cachedRecords) });
        await large.load(history.events, batchSizes);
        expect(held.filter((size) => size > cap)).toEqual([]);
        expect(await contents(small)).toEqual(await contents(large));
      }),
      { numRuns: Number(process.env.READ_SIDE_RUNS ?? 30) },
    );
  }, 600_000);
});
