import fc from 'fast-check';
import { escapeLiteral } from 'pg';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { AnalyticsFilter, ProjectedEvent } from '../projection.types';
import { inMemoryReference } from '../queries/analytics-queries.contract';
import { filterArbitraryFor, historyWith, instantArbitraryFor } from '../testing/history.arbitrary';
import { at as minuteAt, log, ORDER_SENSITIVE_AMOUNTS, orderSensitiveLog, standardV1 } from '../testing/log.fixtures';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';
import { AGE_BUCKET_DAYS, ageBucketOf } from '../win-probability.model';
import { cardIdsOf, type LearnedForecastQuery, type LearnedPipelineQuery } from '../win-probability.queries';
import { createProcessCatalog, type ProcessCatalog } from '../process-catalog';
import { bucketReached, PostgresWinProbabilityQueries } from './postgres-win-probability.queries';
import { deserializeCatalog, type SerializedCatalog } from './catalog.serialization';
import { ms } from './read-side.encoding';
import { allDailyCountsSql, allLabelRowsSql, dailyCountsSql, labelRowsSql, LEARNED_NOTE, rebuildDailyCountsSql, rebuildLearnedSql } from './read-side.learned';
import { migrateReadSide, TIMES_UNORDERED } from './read-side.migrations';

// The learned win probability from PostgreSQL counts the labelled visits in SQL and pages through
// the open deals and the scored entries (postgres-win-probability.queries.ts); the in-memory models
// learn visit by visit from every one of them. For random histories (backward moves and
// reopenings among them), any instant, filter and page size, both give the same JSON text.

const DAY_MS = 86_400_000;

describeWithPostgres('learned win probability from PostgreSQL: counts in SQL, pages through a cursor', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  it('puts a visit in the bucket ageBucketOf gives, at each bound and a millisecond either side', async () => {
    const lengths = [-1, 0, 1, ...AGE_BUCKET_DAYS.flatMap((days) => [days * DAY_MS - 1, days * DAY_MS, days * DAY_MS + 1]), 10_000 * DAY_MS];
    const { rows } = await readSide.pool.query(`SELECT ${bucketReached('x')} AS bucket FROM unnest($1::float8[]) WITH ORDINALITY AS t(x, i) ORDER BY i`, [lengths]);
    expect(rows.map((row) => row.bucket)).toEqual(lengths.map(ageBucketOf));
  });

  it('answers as the in-memory estimator, for random histories, instants, filters and page sizes', async () => {
    // Seen across the runs, so the property is known to have met them.
    const seen = { flaggedVisits: 0, reopenedClosings: 0, pagedDeals: 0, setbackInstants: 0, closingInstants: 0, setBackSegments: 0, orderedLogs: 0 };
    await assertProperty(
      fc.asyncProperty(
        historyWith((h) =>
          fc.record({
            questions: fc.array(fc.record({ filter: filterArbitraryFor(h), at: instantArbitraryFor(h), period: fc.constantFrom<'month' | 'quarter'>('month', 'quarter') }), { minLength: 1, maxLength: 5 }),
            pageRows: fc.integer({ min: 1, max: 6 }),
            // Asked first at this share of the log, then at its end: counts carried over from one position to the next.
            firstShare: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
        ),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 3 }),
        async ([history, { questions, pageRows, firstShare }], batchSizes) => {
          const learned = new PostgresWinProbabilityQueries(readSide.schema, pageRows);
          const first = history.events.slice(0, Math.floor(firstShare * history.events.length));
          for (const events of [first, history.events]) await compare(learned, events, questions, batchSizes, pageRows);
        },
      ),
      { numRuns: Number(process.env.READ_SIDE_RUNS ?? 40), seed: 20261128 },
    );
    expect(seen.flaggedVisits).toBeGreaterThan(0);
    expect(seen.reopenedClosings).toBeGreaterThan(0);
    expect(seen.pagedDeals).toBeGreaterThan(0);
    expect(seen.setbackInstants).toBeGreaterThan(0);
    expect(seen.closingInstants).toBeGreaterThan(0);
    // The histories come from the API's commands (times in order per opportunity): the as-of
    // answers above read board_segments.set_back, not the fallback the test below covers.
    expect(seen.setBackSegments).toBeGreaterThan(0);
    expect(seen.orderedLogs).toBeGreaterThan(0);

    async function compare(learned: PostgresWinProbabilityQueries, events: readonly ProjectedEvent[], questions: readonly { filter: AnalyticsFilter; at: number; period: 'month' | 'quarter' }[], batchSizes: readonly number[], pageRows: number): Promise<void> {
      const position = events.at(-1)?.position ?? 0;
      await readSide.load(events, batchSizes);
      const reference = inMemoryReference(events);
      const everyCard = cardIdsOf(await reference.pipelineAsOf(Number.MAX_SAFE_INTEGER, {}, { includeOpportunities: true }));
      const client = await readSide.pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const counts = await client.query(
          `SELECT (SELECT count(*) FROM ${readSide.schema}.win_probability_visits WHERE flagged)::int AS flagged,
             (SELECT count(*) FROM ${readSide.schema}.outcomes WHERE reopened_at IS NOT NULL)::int AS reopened,
             (SELECT count(*) FROM ${readSide.schema}.board_segments WHERE valid_to IS NULL)::int AS open`,
        );
        // What the projector kept batch by batch (read-side.learned.ts) is what counting again from the tables gives.
        const s = readSide.schema;
        const kept = await client.query(
          `SELECT (SELECT count(*) FROM (SELECT process_id, stage_id, reached, flagged, won, day, visits::int FROM ${s}.win_probability_daily WHERE visits <> 0
               EXCEPT ALL SELECT process_id, stage_id, reached, flagged, won, day::int, visits FROM (${dailyCountsSql(s, 'true')}) a) x)::int AS daily_extra,
             (SELECT count(*) FROM (${dailyCountsSql(s, 'true')} EXCEPT ALL SELECT process_id, stage_id, reached, flagged, won, day, visits::int FROM ${s}.win_probability_daily) x)::int AS daily_missing,
             (SELECT count(*) FROM (SELECT opportunity_id, min(position), min(occurred_at) FROM ${s}.transitions WHERE kind IN ('backward', 'reopened') GROUP BY 1
               EXCEPT ALL SELECT opportunity_id, first_position, first_at FROM ${s}.deal_setbacks) x)::int
             + (SELECT count(*) FROM (SELECT opportunity_id, first_position, first_at FROM ${s}.deal_setbacks
               EXCEPT ALL SELECT opportunity_id, min(position), min(occurred_at) FROM ${s}.transitions WHERE kind IN ('backward', 'reopened') GROUP BY 1) x)::int
             + (SELECT count(*) FROM ${s}.opportunities o WHERE o.set_back <> EXISTS (SELECT 1 FROM ${s}.deal_setbacks d WHERE d.opportunity_id = o.opportunity_id))::int AS setbacks_differ,
             (SELECT count(*) FROM (${allDailyCountsSql(s)} EXCEPT ALL SELECT process_id, stage_id, reached, flagged, won, day, visits::int FROM ${s}.win_probability_daily) x)::int
             + (SELECT count(*) FROM (SELECT process_id, stage_id, reached, flagged, won, day, visits::int FROM ${s}.win_probability_daily EXCEPT ALL ${allDailyCountsSql(s)}) x)::int AS rebuild_differs,
             (SELECT count(*) FROM ${s}.board_segments b
               WHERE b.set_back <> EXISTS (SELECT 1 FROM ${s}.deal_setbacks d WHERE d.opportunity_id = b.opportunity_id AND d.first_position <= b.started_position))::int AS set_back_differs,
             (SELECT times_unordered FROM ${s}.checkpoint) = ${TIMES_UNORDERED(s)} AS order_as_migration_15,
             (SELECT count(*) FROM (SELECT * FROM ${s}.win_probability_labels EXCEPT ALL ${labelRowsSql(s, 'true')}) x)::int
             + (SELECT count(*) FROM (${labelRowsSql(s, 'true')} EXCEPT ALL SELECT * FROM ${s}.win_probability_labels) x)::int
             + (SELECT count(*) FROM (SELECT * FROM ${s}.win_probability_labels EXCEPT ALL ${allLabelRowsSql(s)}) x)::int
             + (SELECT count(*) FROM (${allLabelRowsSql(s)} EXCEPT ALL SELECT * FROM ${s}.win_probability_labels) x)::int AS labels_differ`,
        );
        // (The rebuild a catch-up ends with, and migration 10, count in one pass: the same rows. The
        // segments' set_back and the log's time order kept batch by batch are what migration 15 computes.)
        expect(kept.rows[0]).toEqual({ daily_extra: 0, daily_missing: 0, setbacks_differ: 0, rebuild_differs: 0, set_back_differs: 0, order_as_migration_15: true, labels_differ: 0 });
        const order = await client.query(`SELECT (SELECT times_unordered FROM ${s}.checkpoint) AS unordered, (SELECT count(*) FROM ${s}.board_segments WHERE set_back)::int AS set_back`);
        if (!order.rows[0].unordered) seen.orderedLogs += 1;
        seen.setBackSegments += order.rows[0].set_back;
        seen.flaggedVisits += counts.rows[0].flagged;
        seen.reopenedClosings += counts.rows[0].reopened;
        if (counts.rows[0].open > pageRows) seen.pagedDeals += 1;
        // The catalog of the same snapshot, as the API passes it; and two that lack stages: the first
        // process's only, and none. A deal of a stage the catalog lacks has the answer made again by
        // the stages' texts (learnedPipeline).
        const catalog = await catalogOf(client, s);
        // What the API keys its kept calibrations by: the state revision and the position.
        const readSideAt = { revision: Number((await client.query(`SELECT state_revision FROM ${s}.checkpoint`)).rows[0].state_revision), position };
        const catalogs: [string, ProcessCatalog][] = [
          ['', catalog],
          [', the first process in the catalog', { ...catalog, processes: new Map([...catalog.processes].slice(0, 1)) }],
          [', no catalog', createProcessCatalog()],
        ];
        for (const { filter, at, period } of questions) {
          const people = { processId: filter.processId, teamId: filter.teamId, ownerId: filter.ownerId };
          const pairs: [string, unknown, unknown][] = [];
          for (const [which, stages] of catalogs) {
            pairs.push(
              [`pipeline now${which}`, await learned.learnedPipeline(client, position, { atMs: at + 20 * DAY_MS, asOf: false, filter: people, cardIds: everyCard }, stages), await reference.learnedPipeline({ atMs: at + 20 * DAY_MS, asOf: false, filter: people, cardIds: everyCard })],
              [`pipeline as of${which}`, await learned.learnedPipeline(client, position, { atMs: at, asOf: true, filter: people, cardIds: everyCard }, stages), await reference.learnedPipeline({ atMs: at, asOf: true, filter: people, cardIds: everyCard })],
            );
          }
          pairs.push(
            ['forecast now', await learned.learnedForecast(client, position, { atMs: at, asOf: false, forecast: { ...filter, period } }), await reference.learnedForecast({ atMs: at, asOf: false, forecast: { ...filter, period } })],
            ['forecast as of', await learned.learnedForecast(client, position, { atMs: at, asOf: true, forecast: { ...filter, period } }), await reference.learnedForecast({ atMs: at, asOf: true, forecast: { ...filter, period } })],
            ['calibration', await learned.calibration(client, readSideAt, filter), await reference.winProbabilityCalibration(filter)],
            ['calibration up to the instant', await learned.calibration(client, readSideAt, { ...people, to: new Date(at).toISOString() }), await reference.winProbabilityCalibration({ ...people, to: new Date(at).toISOString() })],
          );
          for (const [label, actual, expected] of pairs) {
            if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${label} for ${JSON.stringify({ filter, at, period })}:\n${JSON.stringify(actual)}\n${JSON.stringify(expected)}`);
          }
        }
        // The board as of the very millisecond of a first setback: the deal counts as set back from
        // that instant on, a boundary random instants almost never hit.
        const setbacks = await client.query(`SELECT DISTINCT ${ms('first_at')} AS at FROM ${s}.deal_setbacks WHERE first_at IS NOT NULL ORDER BY 1 LIMIT 3`);
        for (const { at } of setbacks.rows as { at: number }[]) {
          const question = { atMs: at, asOf: true, filter: {}, cardIds: everyCard };
          const [actual, expected] = [await learned.learnedPipeline(client, position, question, catalog), await reference.learnedPipeline(question)];
          if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`pipeline as of the setback at ${at}:\n${JSON.stringify(actual)}\n${JSON.stringify(expected)}`);
          seen.setbackInstants += 1;
        }
        // As of the very millisecond of a closing, a millisecond after it, and either side of the
        // start of its UTC day: the kept daily counts end and the visits of the day counted in SQL
        // begin there, and a life counts only once closed strictly before the instant.
        const closings = await client.query(`SELECT DISTINCT ${ms('closed_at')} AS at FROM ${s}.outcomes WHERE closed_at IS NOT NULL ORDER BY 1 DESC LIMIT 2`);
        for (const { at } of closings.rows as { at: number }[]) {
          const dayStart = Math.floor(at / DAY_MS) * DAY_MS;
          for (const instant of [at, at + 1, dayStart, dayStart - 1]) {
            const question = { atMs: instant, asOf: true, filter: {}, cardIds: everyCard };
            const forecast = { atMs: instant, asOf: true, forecast: { period: 'month' as const } };
            for (const [label, actual, expected] of [
              ['pipeline', await learned.learnedPipeline(client, position, question, catalog), await reference.learnedPipeline(question)],
              ['forecast', await learned.learnedForecast(client, position, forecast), await reference.learnedForecast(forecast)],
            ] as const) {
              if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${label} as of ${instant} (closing at ${at}):\n${JSON.stringify(actual)}\n${JSON.stringify(expected)}`);
            }
          }
          seen.closingInstants += 1;
        }
      } finally {
        await client.query('COMMIT');
        client.release();
      }
    }
  }, 300_000);

  // The board as of t reads each standing segment's set_back (was the deal set back by the event
  // that began it) for "is its first setback at or before t". In a log whose times go forward per
  // opportunity (what the API writes), they agree; equal milliseconds included. Deals closed first
  // make the flagged and unflagged cells of stage 'new' learn apart (flagged: won; not: lost), so
  // a wrong flag changes the answer.
  const DEALS_LEARNED_FROM = (): ProjectedEvent[] => {
    const events = [log.version(standardV1)];
    for (let i = 0; i < 6; i++) {
      events.push(log.opened(`flagged-${i}`, standardV1, i), log.moved(`flagged-${i}`, 'new', 'legacy', 10 + i), backward(`flagged-${i}`, 'legacy', 'new', 20 + i), log.won(`flagged-${i}`, 'new', 30 + i, 100));
      events.push(log.opened(`plain-${i}`, standardV1, i), log.lost(`plain-${i}`, 'new', 'price', 30 + i));
    }
    return events;
  };
  const backward = (id: string, from: string, to: string, minute: number): ProjectedEvent => {
    const event = log.moved(id, from, to, minute);
    return { ...event, data: { ...event.data, direction: 'backward' } };
  };
  const minuteMs = (minute: number) => Date.parse(minuteAt(minute));
  const answersAsOf = async (events: readonly ProjectedEvent[], instants: readonly number[]) => {
    const reference = inMemoryReference(events);
    const adapter = await readSide.load(events, [3]);
    const ids = ['same-ms', 'same-ms-details', 'late-reopen', 'flagged-0', 'plain-0'];
    for (const atMs of instants) {
      for (const filter of [{}, { processId: 'standard' }]) {
        const question: LearnedPipelineQuery = { atMs, asOf: true, filter, cardIds: ids };
        const [actual, expected] = [await adapter.learnedPipeline(question), await reference.learnedPipeline(question)];
        if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`as of ${new Date(atMs).toISOString()}:\n${JSON.stringify(actual)}\n${JSON.stringify(expected)}`);
        const forecast: LearnedForecastQuery = { atMs, asOf: true, forecast: { ...filter, period: 'month' } };
        expect(JSON.stringify(await adapter.learnedForecast(forecast))).toBe(JSON.stringify(await reference.learnedForecast(forecast)));
      }
    }
    const { rows } = await readSide.pool.query(`SELECT times_unordered FROM ${readSide.schema}.checkpoint`);
    return { adapter, reference, unordered: rows[0].times_unordered as boolean };
  };

  it('reads set_back as of a setback at the very millisecond of the instant, of the segment before it and of the one it began', async () => {
    const events = DEALS_LEARNED_FROM();
    // A setback at the millisecond its stage was entered: the segment in 'legacy' ends where it
    // began (it stands at no instant), the one it begins in 'new' is set back from that instant on.
    events.push(log.opened('same-ms', standardV1, 100, { amount: 1000 }), log.moved('same-ms', 'new', 'legacy', 150), backward('same-ms', 'legacy', 'new', 150));
    // A new segment (a new amount) at the millisecond of the setback that follows it in the log.
    events.push(log.opened('same-ms-details', standardV1, 100, { amount: 10 }), log.moved('same-ms-details', 'new', 'legacy', 120), log.details('same-ms-details', 200, { amount: 20 }), backward('same-ms-details', 'legacy', 'new', 200));
    const instants = [149, 150, 151, 199, 200, 201].flatMap((minute) => [minuteMs(minute) - 1, minuteMs(minute), minuteMs(minute) + 1]);
    const { unordered, reference } = await answersAsOf(events, instants);
    expect(unordered).toBe(false);
    const { rows } = await readSide.pool.query(`SELECT opportunity_id, stage_id, ${ms('valid_from')} AS from_ms, set_back FROM ${readSide.schema}.board_segments WHERE opportunity_id LIKE 'same-ms%' ORDER BY started_position`);
    expect(rows).toEqual([
      { opportunity_id: 'same-ms', stage_id: 'new', from_ms: minuteMs(100), set_back: false },
      { opportunity_id: 'same-ms', stage_id: 'legacy', from_ms: minuteMs(150), set_back: false },
      { opportunity_id: 'same-ms', stage_id: 'new', from_ms: minuteMs(150), set_back: true },
      { opportunity_id: 'same-ms-details', stage_id: 'new', from_ms: minuteMs(100), set_back: false },
      { opportunity_id: 'same-ms-details', stage_id: 'legacy', from_ms: minuteMs(120), set_back: false },
      { opportunity_id: 'same-ms-details', stage_id: 'legacy', from_ms: minuteMs(200), set_back: false },
      { opportunity_id: 'same-ms-details', stage_id: 'new', from_ms: minuteMs(200), set_back: true },
    ]);
    // The flag matters here: set back or not, the learned probability differs.
    const before = await reference.learnedPipeline({ atMs: minuteMs(150) - 1, asOf: true, filter: {}, cardIds: ['same-ms'] });
    const after = await reference.learnedPipeline({ atMs: minuteMs(150), asOf: true, filter: {}, cardIds: ['same-ms'] });
    expect(after.cards['same-ms']!.winProbability).not.toBe(before.cards['same-ms']!.winProbability);
  }, 60_000);

  it('joins the first setbacks instead of set_back when a reopening is dated before the closing it undoes', async () => {
    // Lost at minute 300, reopened "at minute 200": a hand-written log (the API refuses an
    // occurredAt before the stream's last event) that the projector takes (no segment ends before
    // it begins). From 200 to 300 both of the deal's segments stand, and the deal counts as set
    // back in both; the first never had a setback by its own start.
    const events = DEALS_LEARNED_FROM();
    events.push(log.opened('late-reopen', standardV1, 100, { amount: 1000 }), log.lost('late-reopen', 'new', 'price', 300), log.reopened('late-reopen', 'new', 200));
    const instants = [100, 199, 200, 250, 299, 300, 301].flatMap((minute) => [minuteMs(minute) - 1, minuteMs(minute), minuteMs(minute) + 1]);
    const { unordered, adapter, reference } = await answersAsOf(events, instants);
    expect(unordered).toBe(true);
    // Without the fallback (set_back read as if the times were in order) the answer would differ.
    const question: LearnedPipelineQuery = { atMs: minuteMs(250), asOf: true, filter: {}, cardIds: ['late-reopen'] };
    await readSide.pool.query(`UPDATE ${readSide.schema}.checkpoint SET times_unordered = false`);
    expect(JSON.stringify(await adapter.learnedPipeline(question))).not.toBe(JSON.stringify(await reference.learnedPipeline(question)));
    await readSide.pool.query(`UPDATE ${readSide.schema}.checkpoint SET times_unordered = true`);
    expect(JSON.stringify(await adapter.learnedPipeline(question))).toBe(JSON.stringify(await reference.learnedPipeline(question)));
  }, 60_000);

  it('migration 15 fills set_back and times_unordered as the projector writes them, on a schema projected before it', async () => {
    const ordered = [...DEALS_LEARNED_FROM(), log.opened('same-ms', standardV1, 100), log.moved('same-ms', 'new', 'legacy', 150), backward('same-ms', 'legacy', 'new', 150), log.reopened('same-ms', 'new', 160)];
    const unordered = [...DEALS_LEARNED_FROM(), log.opened('late-reopen', standardV1, 100), log.lost('late-reopen', 'new', 'price', 300), log.reopened('late-reopen', 'new', 200)];
    const s = readSide.schema;
    const written = `SELECT json_agg(json_build_array(started_position, set_back) ORDER BY started_position)::text AS segments, (SELECT times_unordered FROM ${s}.checkpoint) AS unordered FROM ${s}.board_segments`;
    for (const [events, expectUnordered] of [[ordered, false], [unordered, true]] as const) {
      await readSide.load(events, [4]);
      const { rows: projected } = await readSide.pool.query(written);
      expect(projected[0].unordered).toBe(expectUnordered);
      expect(projected[0].segments).toContain('true');
      // As migration 14 left the schema, the projector's values in it forgotten (dropping the
      // column drops the indexes that cover it: migration 16 makes the second one again).
      await readSide.pool.query(`ALTER TABLE ${s}.board_segments DROP COLUMN set_back; ALTER TABLE ${s}.checkpoint DROP COLUMN times_unordered; DELETE FROM ${s}.schema_migrations WHERE version IN (15, 16)`);
      const client = await readSide.pool.connect();
      try {
        expect(await migrateReadSide(client, s)).toBe(2);
      } finally {
        client.release();
      }
      const { rows: migrated } = await readSide.pool.query(written);
      expect(migrated[0]).toEqual(projected[0]);
      const { rows: indexes } = await readSide.pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname IN ('board_segments_standing', 'board_segments_standing_ends')`, [s]);
      expect(indexes).toHaveLength(2);
      for (const { indexdef } of indexes) expect(indexdef).toContain('set_back');
    }
  }, 60_000);

  it('migration 16 has board_segments_standing_ends cover what the estimates as of an instant read: made at once, or noted while a catch-up defers it', async () => {
    const s = readSide.schema;
    const events = [...DEALS_LEARNED_FROM(), log.opened('same-ms', standardV1, 100), log.moved('same-ms', 'new', 'legacy', 150), backward('same-ms', 'legacy', 'new', 150)];
    const migrate16 = async (before: string) => {
      await readSide.load(events, [5]);
      await readSide.pool.query(`${before}; DELETE FROM ${s}.schema_migrations WHERE version = 16`);
      const client = await readSide.pool.connect();
      try {
        expect(await migrateReadSide(client, s)).toBe(1);
      } finally {
        client.release();
      }
      const { rows: index } = await readSide.pool.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'board_segments_standing_ends'`, [s]);
      const { rows: note } = await readSide.pool.query(`SELECT definition FROM ${s}.deferred_indexes WHERE index_name = 'board_segments_standing_ends'`);
      return { index: index[0]?.indexdef as string | undefined, note: note[0]?.definition as string | undefined };
    };
    // As migration 13 made it, on a schema that serves.
    const migration13 = `CREATE INDEX board_segments_standing_ends ON ${s}.board_segments (period_level, period_block, valid_to)
      INCLUDE (process_id, stage_id, currency, started_position, amount, probability, team_id, owner_id, stage_entered_at) WHERE period_level BETWEEN 1 AND 63`;
    const serving = await migrate16(`DROP INDEX IF EXISTS ${s}.board_segments_standing_ends; ${migration13}`);
    expect(serving.note).toBeUndefined();
    for (const column of ['opportunity_id', 'expected_close_date', 'set_back']) expect(serving.index).toContain(column);
    // Deferred by a catch-up: the note gets the new definition, and no index is made before its time.
    const deferred = await migrate16(`DROP INDEX IF EXISTS ${s}.board_segments_standing_ends; INSERT INTO ${s}.deferred_indexes (index_name, definition) VALUES ('board_segments_standing_ends', ${escapeLiteral(migration13)})`);
    expect(deferred.index).toBeUndefined();
    expect(deferred.note).toContain('set_back');
    await readSide.pool.query(`${deferred.note}; DELETE FROM ${s}.deferred_indexes WHERE index_name = 'board_segments_standing_ends'`);
    // The estimates as of an instant still answer as in memory on the index so made (answersAsOf throws where they differ).
    await answersAsOf(events, [149, 150, 151].map(minuteMs));
  }, 60_000);

  it('reads the visits closed on the instant\'s day from win_probability_labels, and labels them itself while a catch-up defers the labels', async () => {
    const s = readSide.schema;
    // Closings on one day (minutes 30 to 35 of the fixture's day): as of minute 40 the day's visits
    // are learned from, and only the labels' table says so once the daily counts of that day are left out.
    const events = DEALS_LEARNED_FROM();
    events.push(log.opened('open-deal', standardV1, 1, { amount: 1000 }));
    await readSide.load(events, [4]);
    const reference = inMemoryReference(events);
    const question: LearnedPipelineQuery = { atMs: minuteMs(40), asOf: true, filter: {}, cardIds: ['open-deal'] };
    const expected = JSON.stringify(await reference.learnedPipeline(question));
    const ask = async () => {
      // A new instance each time: what it keeps per position is counted again.
      const client = await readSide.pool.connect();
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const position = Number((await client.query(`SELECT position FROM ${s}.checkpoint`)).rows[0].position);
        return JSON.stringify(await new PostgresWinProbabilityQueries(s).learnedPipeline(client, position, question, await catalogOf(client, s)));
      } finally {
        await client.query('COMMIT');
        client.release();
      }
    };
    expect(await ask()).toBe(expected);
    // Not vacuous: without the day's labels the answer differs (the day's closings are then not learned from).
    await readSide.pool.query(`BEGIN; CREATE TEMP TABLE kept_labels AS SELECT * FROM ${s}.win_probability_labels; DELETE FROM ${s}.win_probability_labels; COMMIT`);
    expect(await ask()).not.toBe(expected);
    // A catch-up deferring the learned tables (its note): the day's closings are labelled in the query.
    await readSide.pool.query(`INSERT INTO ${s}.deferred_indexes (index_name, definition) VALUES ('${LEARNED_NOTE}', 'SELECT 1')`);
    expect(await ask()).toBe(expected);
    await readSide.pool.query(`DELETE FROM ${s}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}'; INSERT INTO ${s}.win_probability_labels SELECT * FROM kept_labels; DROP TABLE kept_labels`);
    expect(await ask()).toBe(expected);
  }, 60_000);

  it('migration 17 fills win_probability_labels on a schema projected before it, or gives a catch-up\'s note the definition that makes them', async () => {
    const s = readSide.schema;
    await readSide.load([...DEALS_LEARNED_FROM(), log.opened('same-ms', standardV1, 100), log.moved('same-ms', 'new', 'legacy', 150), backward('same-ms', 'legacy', 'new', 150), log.won('same-ms', 'new', 160, 10)], [5]);
    const labelsDiffer = `(SELECT count(*) FROM (SELECT * FROM ${s}.win_probability_labels EXCEPT ALL ${allLabelRowsSql(s)}) x)::int + (SELECT count(*) FROM (${allLabelRowsSql(s)} EXCEPT ALL SELECT * FROM ${s}.win_probability_labels) x)::int`;
    const migrate17 = async (before: string) => {
      await readSide.pool.query(`DROP TABLE ${s}.win_probability_labels; DELETE FROM ${s}.schema_migrations WHERE version = 17; ${before}`);
      const client = await readSide.pool.connect();
      try {
        expect(await migrateReadSide(client, s)).toBe(1);
      } finally {
        client.release();
      }
      const { rows } = await readSide.pool.query(`SELECT (SELECT count(*) FROM ${s}.win_probability_labels)::int AS labels, ${labelsDiffer} AS differ, (SELECT definition FROM ${s}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}') AS note`);
      return rows[0] as { labels: number; differ: number; note: string | null };
    };
    const serving = await migrate17('');
    expect(serving.labels).toBeGreaterThan(10);
    expect(serving).toEqual({ labels: serving.labels, differ: 0, note: null });
    // Under a catch-up (an older note that made only the daily counts): nothing labelled yet, and the note now makes the labels too.
    const deferred = await migrate17(`INSERT INTO ${s}.deferred_indexes (index_name, definition) VALUES ('${LEARNED_NOTE}', ${escapeLiteral(rebuildDailyCountsSql(s))})`);
    expect(deferred.labels).toBe(0);
    expect(deferred.note).toBe(rebuildLearnedSql(s));
    await readSide.pool.query(`BEGIN; ${deferred.note}; DELETE FROM ${s}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}'; COMMIT`);
    const { rows } = await readSide.pool.query(`SELECT ${labelsDiffer} AS differ, (SELECT count(*) FROM ${s}.win_probability_labels)::int AS labels`);
    expect(rows[0]).toEqual({ differ: 0, labels: serving.labels });
  }, 60_000);

  // Random histories hold too few deals per stage for the order of a float sum to change its last
  // bit. Here it does: in each currency many small amounts come first on the board (their deals
  // opened first in the log), then one large one that opened first in business time. Added in
  // board order (the in-memory order) the small weighted amounts survive; with the large one
  // first, each small one is rounded away. The two currencies' rows are interleaved (a sort by
  // currency, to group, that is not stable would reorder them), and the tables are laid out
  // unlike the board: their rows written again, the large deals' first (a scan in physical order,
  // or a hash aggregate fed in it, meets them first).
  it('adds the learned weighted amounts in board order, where another order would change the sums', async () => {
    const { small: smallAmount, large: largeAmount } = ORDER_SENSITIVE_AMOUNTS;
    const events = orderSensitiveLog();
    const ids = ['EUR', 'USD'].flatMap((currency) => [`large-${currency}`, ...Array.from({ length: 40 }, (_, i) => `small-${currency}-${i}`)]);
    const reference = inMemoryReference(events);
    const adapter = await readSide.load(events, [7]);
    for (const table of ['opportunities', 'board_segments']) {
      await readSide.pool.query(
        `BEGIN; CREATE TEMP TABLE laid_out AS SELECT * FROM ${readSide.schema}.${table}; TRUNCATE ${readSide.schema}.${table};
         INSERT INTO ${readSide.schema}.${table} SELECT * FROM laid_out ORDER BY opportunity_id NOT LIKE 'large-%', opportunity_id DESC; DROP TABLE laid_out; COMMIT`,
      );
      const { rows: scanned } = await readSide.pool.query(`SELECT opportunity_id FROM ${readSide.schema}.${table}`);
      expect(scanned.slice(0, 2).map((row) => row.opportunity_id)).toEqual(['large-USD', 'large-EUR']);
    }
    const questions = [
      { atMs: Date.parse(minuteAt(400)), asOf: false },
      { atMs: Date.parse(minuteAt(200)), asOf: true },
    ];
    for (const { atMs, asOf } of questions) {
      for (const filter of [{}, { teamId: 'team-0' }]) {
        const pipeline: LearnedPipelineQuery = { atMs, asOf, filter, cardIds: ids };
        const expected = await reference.learnedPipeline(pipeline);
        expect(JSON.stringify(await adapter.learnedPipeline(pipeline))).toBe(JSON.stringify(expected));
        const forecast: LearnedForecastQuery = { atMs, asOf, forecast: { ...filter, period: 'month' } };
        expect(JSON.stringify(await adapter.learnedForecast(forecast))).toBe(JSON.stringify(await reference.learnedForecast(forecast)));
        // The order matters: the large amount first gives another sum (every deal here has the same learned probability).
        const weighted = (amount: number) => (amount * expected.cards['large-EUR']!.winProbability) / 100;
        const largeFirst = (currency: string) => Object.keys(expected.cards).filter((id) => id.startsWith(`small-${currency}-`)).reduce((sum) => sum + weighted(smallAmount), weighted(largeAmount));
        const column = expected.stages[0]!.weightedAmountsLearnedByCurrency;
        expect(column.EUR).not.toBe(largeFirst('EUR'));
        expect(column.USD).toBe(column.EUR);
      }
    }
  }, 60_000);
});

/** The process catalog the checkpoint holds (what the API reads in the same snapshot). */
async function catalogOf(client: { query: (sql: string) => Promise<{ rows: { state: { catalog: SerializedCatalog } | null }[] }> }, schema: string): Promise<ProcessCatalog> {
  const { rows } = await client.query(`SELECT state FROM ${schema}.checkpoint`);
  const saved = rows[0]?.state;
  return saved ? deserializeCatalog(saved.catalog) : createProcessCatalog();
}
