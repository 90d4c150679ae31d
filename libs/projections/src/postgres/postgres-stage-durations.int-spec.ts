import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { inMemoryReference } from '../queries/analytics-queries.contract';
import type { AnalyticsFilter } from '../projection.types';
import { filterArbitraryFor, historyWith, OWNERS, TEAMS } from '../testing/history.arbitrary';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';
import { at, log, threeStages } from '../testing/log.fixtures';
import { doubleSumMean, exactMeanSeconds, millenniaVisits, oneBucketVisits, orderSensitiveVisits, secondsSumMean } from '../testing/stage-durations.fixtures';

// Stage durations from PostgreSQL: the mean is the exact sum of whole ms over count · 1000
// (stage-durations.projection.ts), from bucket counts (every visit, a team's, an owner's) or from
// the visits a period keeps. Random histories seldom make a sum whose order matters, so the
// histories of stage-durations.fixtures.ts make it on purpose; and the counts the projector keeps
// per bucket must be what the visits add up to, whatever batches and reassignments came between.

const NOW = '2026-12-01T00:00:00.000Z';
const FILTERS: AnalyticsFilter[] = [
  {},
  { processId: 'three' },
  { teamId: 't1' },
  { teamId: 't2' },
  { ownerId: 'ann' },
  { ownerId: 'bob' },
  { teamId: 't1', ownerId: 'ann' },
  { from: '0001-01-01T00:00:00Z', to: '9999-12-31T23:59:59.999Z' },
  { processId: 'three', teamId: 't2', from: '0001-01-01T00:00:00Z' },
  { ownerId: 'ann', from: '0001-01-01T00:00:00.001Z', to: '0001-01-20T00:00:00Z' },
  { from: '2026-03-01T09:00:00.150Z', to: '2026-03-01T09:00:00.500Z' },
  // Most of March: its month row less the visits of the rest (both ends).
  { from: '2026-03-01T09:00:30Z', to: '2026-03-31T00:00:00Z' },
  { teamId: 't1', from: '2026-03-01T09:04:00Z', to: '2026-03-31T00:00:00Z' },
];

describeWithPostgres('stage durations from PostgreSQL: the exact mean, and the bucket counts', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  /** Every bucket count the projector keeps, against the same counted from the visits (text rows, both ways). */
  const bucketDrift = async () => {
    const s = readSide.schema;
    const { rows } = await readSide.pool.query(
      `WITH kept AS (
         SELECT 'all' AS dim, '' AS dim_id, process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_buckets WHERE visits <> 0
         UNION ALL SELECT dim, dim_id, process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_dim_buckets WHERE visits <> 0
         UNION ALL SELECT 'month ' || dim || ' ' || month, dim_id, process_id, stage_id, bucket, visits, ms_sum FROM ${s}.stage_duration_month_buckets WHERE visits <> 0
       ), visits AS (
         SELECT d.dim, d.dim_id, v.process_id, v.stage_id, v.duration_bucket AS bucket, date_trunc('month', v.left_at AT TIME ZONE 'UTC')::date AS month, v.duration_ms
         FROM ${s}.stage_visits v CROSS JOIN LATERAL (VALUES ('all', ''), ('team', v.current_team_id), ('owner', v.current_owner_id)) AS d(dim, dim_id)
         WHERE v.left_at IS NOT NULL AND d.dim_id IS NOT NULL
       ), counted AS (
         SELECT dim, dim_id, process_id, stage_id, bucket, count(*) AS visits, sum(duration_ms) AS ms_sum FROM visits GROUP BY 1, 2, 3, 4, 5
         UNION ALL SELECT 'month ' || dim || ' ' || month, dim_id, process_id, stage_id, bucket, count(*), sum(duration_ms) FROM visits GROUP BY 1, 2, 3, 4, 5
       )
       (SELECT 'kept only' AS side, * FROM (SELECT * FROM kept EXCEPT ALL SELECT * FROM counted) a)
       UNION ALL (SELECT 'counted only', * FROM (SELECT * FROM counted EXCEPT ALL SELECT * FROM kept) b)`,
    );
    return rows;
  };

  it.each([
    ['0.3 + 0.2 + 0.1 seconds', orderSensitiveVisits, secondsSumMean],
    ['visits lasting millennia, past 2^53 ms in all', millenniaVisits, doubleSumMean],
    ['ten visits in one bucket', oneBucketVisits, null],
  ] as const)('%s: the exact mean, as in memory, for every filter', async (_, history, replaced) => {
    const { events, durations } = history();
    // The case is made on purpose: the replaced definition gives another double.
    if (replaced) expect(replaced(durations)).not.toBe(exactMeanSeconds(durations));
    for (const batchSizes of [[1], [1000]]) {
      const postgres = await readSide.load(events, batchSizes);
      const memory = inMemoryReference(events);
      expect((await postgres.stageDurations({}, NOW)).processes[0]!.stages[0]!.completed.meanSeconds).toBe(exactMeanSeconds(durations));
      for (const filter of FILTERS) expect(JSON.stringify(await postgres.stageDurations(filter, NOW))).toBe(JSON.stringify(await memory.stageDurations(filter, NOW)));
      expect(await bucketDrift()).toEqual([]);
    }
  }, 60_000);

  it('has PostgreSQL inline duration_bucket (migration 18), which gives what it gave declared STRICT, null for null included', async () => {
    const s = readSide.schema;
    const values = `unnest(ARRAY[NULL, 'NaN', 0, '-0', 1e-9, 0.5, 1, 59.999, 60, 86400, 1e9, 1e300, -1e-9, -1, -86400, -1e300]::float8[]) AS v(seconds)`;
    // Inlined: the plan computes its CASE itself instead of calling the function.
    const plan = (await readSide.pool.query(`EXPLAIN (VERBOSE) SELECT ${s}.duration_bucket(seconds) FROM ${values}`)).rows.map((row) => row['QUERY PLAN'] as string).join('\n');
    expect(plan).toContain('ln(');
    expect(plan).not.toContain('duration_bucket(');
    // The definition of migration 3 (STRICT), copied, against the function as migrated.
    const client = await readSide.pool.connect();
    try {
      const { rows: [definition] } = await client.query(`SELECT pg_get_functiondef('${s}.duration_bucket(double precision)'::regprocedure) AS sql`);
      expect(definition.sql).not.toContain('STRICT');
      await client.query(definition.sql.replace(`FUNCTION ${s}.duration_bucket(`, 'FUNCTION pg_temp.strict_bucket(').replace('LANGUAGE sql', 'LANGUAGE sql STRICT'));
      const { rows } = await client.query(`SELECT seconds, ${s}.duration_bucket(seconds) AS now, pg_temp.strict_bucket(seconds) AS strict FROM ${values}`);
      expect(rows).toHaveLength(16);
      expect(rows.find((row) => row.seconds === null)).toEqual({ seconds: null, now: null, strict: null });
      for (const row of rows) expect(row.now).toBe(row.strict);
      expect(new Set(rows.map((row) => row.now)).size).toBeGreaterThan(10);
    } finally {
      client.release();
    }
  });

  it("counts each stage's open deals and finds the oldest among those the team and owner keep, as in memory", async () => {
    // Stage a's oldest deal overall is t1's and ann's; each filter's oldest is another deal. A deal
    // that moved on, one that was reassigned, and one closed are in no open count of stage a.
    const events = [
      log.version(threeStages),
      log.opened('old', threeStages, 0, { teamId: 't1', ownerId: 'ann' }),
      log.opened('t2bob', threeStages, 1, { teamId: 't2', ownerId: 'bob' }),
      log.opened('t1bob', threeStages, 2, { teamId: 't1', ownerId: 'bob' }),
      log.opened('t2ann', threeStages, 3, { teamId: 't2', ownerId: 'ann' }),
      log.opened('moved', threeStages, 4, { teamId: 't2', ownerId: 'bob' }),
      log.opened('closed', threeStages, 5, { teamId: 't2', ownerId: 'bob' }),
      log.opened('newer', threeStages, 6, { teamId: 't2', ownerId: 'bob' }),
      log.moved('moved', 'a', 'b', 7),
      log.lost('closed', 'a', 'price', 8),
      log.details('t2bob', 9, { teamId: 't3', ownerId: 'cid' }),
    ];
    const postgres = await readSide.load(events, [3]);
    const memory = inMemoryReference(events);
    const ageOf = (minute: number) => (Date.parse(NOW) - Date.parse(at(minute))) / 1000;
    const stageA = async (filter: AnalyticsFilter) => (await postgres.stageDurations(filter, NOW)).processes[0]!.stages[0]!.open;
    expect(await stageA({})).toEqual({ count: 5, oldestAgeSeconds: ageOf(0) });
    expect(await stageA({ teamId: 't2' })).toEqual({ count: 2, oldestAgeSeconds: ageOf(3) });
    expect(await stageA({ ownerId: 'bob' })).toEqual({ count: 2, oldestAgeSeconds: ageOf(2) });
    expect(await stageA({ teamId: 't2', ownerId: 'bob' })).toEqual({ count: 1, oldestAgeSeconds: ageOf(6) });
    expect(await stageA({ teamId: 't3' })).toEqual({ count: 1, oldestAgeSeconds: ageOf(1) });
    expect(await stageA({ teamId: 't4' })).toEqual({ count: 0, oldestAgeSeconds: null });
    for (const filter of [{}, { teamId: 't2' }, { ownerId: 'bob' }, { teamId: 't2', ownerId: 'bob' }, { processId: 'three' }, { processId: 'none' }, { teamId: 't4' }, { from: at(1), to: at(8) }]) {
      expect(JSON.stringify(await postgres.stageDurations(filter, NOW))).toBe(JSON.stringify(await memory.stageDurations(filter, NOW)));
    }
  }, 60_000);

  it('keeps the counts per bucket, team and owner equal to the visits, across batches and reassignments, and answers as in memory', async () => {
    // Random filters (periods included), and each team and owner alone, which read the bucket counts.
    const filters = (h: Parameters<typeof filterArbitraryFor>[0]) =>
      fc.array(fc.oneof(filterArbitraryFor(h), fc.constantFrom<AnalyticsFilter>({}, ...TEAMS.map((teamId) => ({ teamId })), ...OWNERS.map((ownerId) => ({ ownerId })), { processId: 'p1', teamId: 't2' })), { minLength: 1, maxLength: 5 });
    await assertProperty(
      // Sometimes as a long first fold does: the counts per team, owner and month wait, then are counted once.
      fc.asyncProperty(historyWith(filters, { maxSteps: 250 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }), fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }), async ([history, asked], batchSizes, deferredUntil) => {
        const postgres = await readSide.load(history.events, batchSizes, deferredUntil === undefined ? {} : { deferredUntil });
        expect(await bucketDrift()).toEqual([]);
        const memory = inMemoryReference(history.events);
        for (const filter of asked) expect(JSON.stringify(await postgres.stageDurations(filter, NOW))).toBe(JSON.stringify(await memory.stageDurations(filter, NOW)));
      }),
      { numRuns: Number(process.env.READ_SIDE_RUNS ?? 40) },
    );
  }, 300_000);
});
