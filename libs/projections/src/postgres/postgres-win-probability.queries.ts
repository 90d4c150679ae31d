import type { WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import { escapeLiteral, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';
import { forecastDaysOf, periodOf } from '../forecast.figures';
import type { PipelineFilter } from '../pipeline.projection';
import { compareIds, type ProcessCatalog } from '../process-catalog';
import { dictionary, NO_CURRENCY, parseFilter } from '../projection.helpers';
import type { AnalyticsFilter } from '../projection.types';
import {
  AGE_BUCKET_DAYS,
  CalibrationTally,
  compareEntries,
  estimateFromCounts,
  PSEUDO_DEALS,
  WinProbabilityEstimator,
  type CardWinProbability,
  type CellCounts,
  type LearnedForecastFigures,
  type LearnedPipelineFigures,
} from '../win-probability.model';
import { rangeOf, type LearnedForecastQuery, type LearnedPipelineQuery } from '../win-probability.queries';
import { boolArray, instantParameter, ms, numberArray, textArray } from './read-side.encoding';
import { queryAll, withoutSorting, WITHOUT_SORTING_LENGTH, WITHOUT_SORTING_RESULT, type Statement } from './read-side.batch';
import { bucketReached, dailyCountsSql, finite, LEARNED_NOTE, labelRowsSql } from './read-side.learned';
import { standingSegments } from './read-side.standing';

// The learned win probability (win-probability.model.ts) answered from the PostgreSQL read side
// without holding anything that grows with the log: SQL counts the labelled visits (view
// win_probability_visits) per stage, time-in-stage bucket reached, flag and outcome, and only those
// counts cross to the API, where the estimator of the in-memory models makes its estimates from
// them (whole counts: the same estimator, whatever order they are added in). The open deals and,
// for the calibration, the scored stage entries are read through a cursor, a page at a time, in the
// order the in-memory models add their floats.

/** Rows fetched at a time from a cursor: what an API instance holds of a long answer. */
export const LEARNED_PAGE_ROWS = 2_000;

const DAY_MS = 86_400_000;

export { bucketReached };

/** What a statement learns from: the estimator, and whether win_probability_labels can be read (LearnedCounts.labelsKept). */
interface Learned {
  readonly estimator: WinProbabilityEstimator;
  readonly labelsKept: boolean;
}

/** Which estimator: every closed life (`undefined`), or those closed strictly before an instant. */
type LearnedBefore = number | undefined;

let cursors = 0;

/**
 * Each page of a query's rows, through a cursor of the transaction the client is in; `firstPageRows`
 * (default `pageRows`) for the first, for a reader that often stops early.
 */
export async function* pagesOf(client: PoolClient, sql: string, values: unknown[], pageRows: number, firstPageRows = pageRows): AsyncGenerator<QueryResultRow[]> {
  const name = `learned_${++cursors}`;
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, values);
  try {
    for (let page = 0; ; page++) {
      const rowsAsked = page === 0 ? firstPageRows : pageRows;
      const { rows } = await client.query(`FETCH ${rowsAsked} FROM ${name}`);
      if (rows.length > 0) yield rows;
      if (rows.length < rowsAsked) return;
    }
  } finally {
    await client.query(`CLOSE ${name}`).catch(() => undefined); // the transaction may have failed
  }
}

const dayOf = (atMs: number) => Math.floor(atMs / DAY_MS);

interface StatementCell extends CellCounts {
  /** The stage's key in the catalog the statement was made with; null: a stage it lacks. */
  readonly stageKey: number | null;
}

/**
 * The estimator's cells, each with its stage's catalog key, and cells of no visits (every bucket
 * and flag) for each stage of the catalog the estimator learned nothing of: a deal there then
 * finds a cell, and its stage key, as every other. Such a cell estimates what a missing one does
 * (estimateFromCounts with no stage visits: the configured probability).
 */
function cellsOfEveryStage(estimator: WinProbabilityEstimator, catalog: ProcessCatalog): StatementCell[] {
  const keyOf = (processId: string, stageId: string) => catalog.processes.get(processId)?.keyByStageId.get(stageId) ?? null;
  const cells: StatementCell[] = [];
  // By name: one stage never gets two cells of a bucket and flag (the join would count its deals twice).
  const learned = new Set<string>();
  for (const cell of estimator.cellCounts()) {
    learned.add(`${cell.processId}\u0000${cell.stageId}`);
    cells.push({ ...cell, stageKey: keyOf(cell.processId, cell.stageId) });
  }
  for (const { key, processId, stageId } of catalog.stages) {
    if (learned.has(`${processId}\u0000${stageId}`)) continue;
    for (let bucket = 0; bucket < AGE_BUCKET_DAYS.length; bucket++) {
      for (const flagged of [false, true]) cells.push({ processId, stageId, bucket, flagged, stageVisits: 0, stageWon: 0, cellVisits: 0, cellWon: 0, stageKey: key });
    }
  }
  return cells;
}

/** Counts of one cell (stage, bucket reached, flag, outcome) per day its visits' lives closed, in day order. */
interface DailyCounts {
  readonly processId: string;
  readonly stageId: string;
  readonly reached: number;
  readonly flagged: boolean;
  readonly won: boolean;
  readonly days: Float64Array;
  /** Visits closed on or before each day: running sums. */
  readonly upTo: Float64Array;
}

/** A cell's counts from (day, visits) pairs in any order (a day may come more than once). */
function dailyCounts(cell: Omit<DailyCounts, 'days' | 'upTo'>, pairs: [number, number][]): DailyCounts {
  pairs.sort((a, b) => a[0] - b[0]);
  const days = new Float64Array(pairs.length);
  const upTo = new Float64Array(pairs.length);
  let sum = 0;
  for (let i = 0; i < pairs.length; i++) {
    days[i] = pairs[i]![0];
    upTo[i] = sum += pairs[i]![1];
  }
  return { processId: cell.processId, stageId: cell.stageId, reached: cell.reached, flagged: cell.flagged, won: cell.won, days, upTo };
}

/**
 * The labelled visits counted per cell and day of closing: a few numbers per stage and day of
 * history, however many events made them. An estimator as of T adds the days before T's day and
 * asks SQL for the few visits closed on T's day before T.
 */
class LearnedCounts {
  constructor(
    private readonly cells: readonly DailyCounts[] = [],
    /** Whether win_probability_labels held every label when these were counted (no catch-up deferring it). */
    readonly labelsKept = false,
  ) {}

  /** These counts, saying whether the labels are kept. */
  withLabels(labelsKept: boolean): LearnedCounts {
    return new LearnedCounts(this.cells, labelsKept);
  }

  /** These counts and those of `rows` (process_id, stage_id, reached, flagged, won, day, visits), as new counts. */
  plus(rows: readonly QueryResultRow[]): LearnedCounts {
    const keyOf = (cell: { processId: string; stageId: string; reached: number; flagged: boolean; won: boolean }) => JSON.stringify([cell.processId, cell.stageId, cell.reached, cell.flagged, cell.won]);
    const added = new Map<string, { cell: Omit<DailyCounts, 'days' | 'upTo'>; days: [number, number][] }>();
    for (const row of rows) {
      const cell = { processId: row.process_id, stageId: row.stage_id, reached: row.reached, flagged: row.flagged, won: row.won };
      const key = keyOf(cell);
      let entry = added.get(key);
      if (!entry) added.set(key, (entry = { cell, days: [] }));
      entry.days.push([row.day, row.visits]);
    }
    const cells = this.cells.map((cell) => {
      const entry = added.get(keyOf(cell));
      if (!entry) return cell;
      added.delete(keyOf(cell));
      return dailyCounts(cell, [...Array.from(cell.days, (day, i) => [day, cell.upTo[i]! - (i === 0 ? 0 : cell.upTo[i - 1]!)] as [number, number]), ...entry.days]);
    });
    for (const { cell, days } of added.values()) cells.push(dailyCounts(cell, days));
    return new LearnedCounts(cells, this.labelsKept);
  }

  /** Adds to the estimator every visit closed on a day before `day` (Infinity: all). */
  learnBefore(estimator: WinProbabilityEstimator, day: number): void {
    for (const cell of this.cells) {
      // The number of days before `day`, by binary search.
      let low = 0;
      let high = cell.days.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (cell.days[middle]! < day) low = middle + 1;
        else high = middle;
      }
      if (low > 0) {
        const visits = cell.upTo[low - 1]!;
        estimator.learnCounts(cell.processId, cell.stageId, cell.reached, cell.flagged, visits, cell.won ? visits : 0);
      }
    }
  }
}

/** Daily counts as of a checkpoint position of a log. */
interface KeptCounts {
  readonly logId: string;
  readonly position: number;
  readonly counts: Promise<LearnedCounts>;
}

// The learned weighted amounts add each group's rows in board order (`pos`), as the in-memory
// models add them, with no sort per sum and group: the rows are sorted by `pos + 0` alone (a sort
// on one whole number that no index can do, so every plan pays for it once) and a hash aggregate
// adds each group's rows in the order they arrive (the API's transactions allow no parallel
// workers, which would split a sum). withoutSorting (read-side.batch.ts) keeps the planner from
// grouping by a second sort, so the join to the cells is a hash join, below the sort. The same
// technique as the board as of an instant (postgres-analytics.queries.ts, standingTotals).

/** What the estimates as of an instant read of each standing segment: all of it in both indexes of standing segments (migrations 15 and 16). */
const STANDING_COLUMNS = 'opportunity_id, process_id, stage_id, started_position, amount, currency, probability, stage_entered_at, expected_close_date, set_back';

export class PostgresWinProbabilityQueries {
  // The daily counts of the checkpoint position they were counted at (requests that arrive while
  // they are counted wait for that count), and estimators made from them: now and a few instants.
  private counts?: KeptCounts;
  private earlierCounts?: KeptCounts;
  private estimators = new WeakMap<LearnedCounts, Map<number, WinProbabilityEstimator>>();
  private static readonly KEPT_ESTIMATORS = 16;
  private calibrations = new Map<string, Promise<WinProbabilityCalibrationResult>>();
  /** The read side the kept calibrations were computed on: its state revision and checkpoint position. */
  private calibrationsOf = '';
  private static readonly KEPT_CALIBRATIONS = 16;

  constructor(
    private readonly schema: string,
    /** Rows a cursor fetches at a time (tests make pages small). */
    private readonly pageRows = LEARNED_PAGE_ROWS,
  ) {}

  /**
   * `catalog`: the process catalog of the same snapshot, whose stage keys stand for the stages in
   * the statement's sort and groups (see below); without it, their texts do.
   */
  async learnedPipeline(client: PoolClient, position: number, query: LearnedPipelineQuery, catalog?: ProcessCatalog): Promise<LearnedPipelineFigures> {
    const { atMs, asOf } = query;
    // Per stage and currency: where its first deal (and first deal with an amount) stands on the
    // board, and the learned weighted amounts added in board order (withoutSorting). Given the
    // catalog, the rows go through the sort and the groups with their stage as its key (stage_key,
    // from the cells: scoredDeals) instead of process_id and stage_id: ~12 % of the statement at
    // the heaviest instant of the 1M bench. A deal of a stage the catalog lacks (it cannot: the
    // catalog is of the same snapshot as the tables) would have no key and group under null with
    // any other such: its row says so, and the answer is made again with the texts. A deal without
    // an amount has a null weighted amount, which sum() skips as a FILTER would.
    const stage = catalog ? 'stage_key' : 'process_id, stage_id';
    const statements = (learned: Learned): (Statement | string)[] => {
      const scored = this.scoredDeals(learned, atMs, asOf, query.filter, undefined, catalog);
      const groups = withoutSorting({
        sql: `${scored.sql}
         SELECT ${stage}, currency_key, min(pos) AS first_pos, min(pos) FILTER (WHERE weighted IS NOT NULL) AS first_priced, sum(weighted) AS weighted
         FROM (SELECT ${stage}, currency_key, pos, (amount * p) / 100::float8 AS weighted FROM scored ORDER BY pos + 0) s
         GROUP BY ${stage}, currency_key`,
        values: scored.values,
      });
      if (query.cardIds.length === 0) return groups;
      // The cards asked, each found by its id.
      const only = this.scoredDeals(learned, atMs, asOf, query.filter, query.cardIds);
      return [...groups, { sql: `${only.sql} SELECT opportunity_id, pos, p, probability FROM scored ORDER BY pos`, values: only.values }];
    };
    const results = await this.answer(client, position, asOf ? atMs : undefined, statements);
    const [groups, cards] = [results[WITHOUT_SORTING_RESULT], results[WITHOUT_SORTING_LENGTH]];
    if (catalog && groups!.rows.some((row) => row.stage_key === null)) return this.learnedPipeline(client, position, query);
    const firstOf = new Map<string, number>();
    const rows = catalog
      ? groups!.rows.map((row) => {
          const { processId, stageId } = catalog.stages[row.stage_key as number]!;
          return { ...row, process_id: processId, stage_id: stageId };
        })
      : groups!.rows;
    for (const row of rows) {
      const key = `${row.process_id}\u0000${row.stage_id}`;
      firstOf.set(key, Math.min(firstOf.get(key) ?? Infinity, Number(row.first_pos)));
    }
    const stageKeys = [...firstOf.keys()].sort((a, b) => firstOf.get(a)! - firstOf.get(b)!);
    const stages = stageKeys.map((key) => {
      const [processId, stageId] = key.split('\u0000') as [string, string];
      const weightedAmountsLearnedByCurrency = dictionary<number>();
      const priced = rows.filter((row) => row.process_id === processId && row.stage_id === stageId && row.first_priced !== null).sort((a, b) => Number(a.first_priced) - Number(b.first_priced));
      for (const row of priced) weightedAmountsLearnedByCurrency[row.currency_key] = row.weighted;
      return { processId, stageId, weightedAmountsLearnedByCurrency };
    });
    const cardsFound = dictionary<CardWinProbability>();
    for (const row of cards?.rows ?? []) {
      cardsFound[row.opportunity_id] = { winProbability: row.p, configuredProbability: row.probability };
    }
    return { cards: cardsFound, stages };
  }

  async learnedForecast(client: PoolClient, position: number, { atMs, asOf, forecast }: LearnedForecastQuery): Promise<LearnedForecastFigures> {
    const range = forecastDaysOf(forecast);
    // Per period of the expected close date (null: none) and currency, in board order; a period
    // whose deals in range have no amount is listed empty, as the in-memory tally lists it.
    const results = await this.answer(client, position, asOf ? atMs : undefined, (learned) => {
      const scored = this.scoredDeals(learned, atMs, asOf, forecast);
      const from = scored.values.push(range.fromDay);
      const to = scored.values.push(range.toDay);
      return withoutSorting({
        sql: `${scored.sql}
         SELECT period_day, currency_key, sum(weighted) FILTER (WHERE amount IS NOT NULL) AS weighted
         FROM (SELECT (date_trunc('${forecast.period}', expected)::date - DATE '1970-01-01') AS period_day, currency_key, amount, (amount * p) / 100::float8 AS weighted
               FROM scored WHERE expected IS NULL OR ((expected - DATE '1970-01-01')::float8 >= $${from}::float8 AND (expected - DATE '1970-01-01')::float8 <= $${to}::float8)
               ORDER BY pos + 0) s
         GROUP BY 1, 2`,
        values: scored.values,
      });
    });
    const answered = results[WITHOUT_SORTING_RESULT];
    const periods = dictionary<Record<string, number>>();
    const withoutDate = dictionary<number>();
    for (const row of answered!.rows) {
      const sums = row.period_day === null ? withoutDate : (periods[periodOf(Number(row.period_day), forecast.period).key] ??= dictionary<number>());
      if (row.weighted !== null) sums[row.currency_key] = row.weighted;
    }
    const sorted = (sums: Record<string, number>) => {
      const result = dictionary<number>();
      for (const key of Object.keys(sums).sort(compareIds)) result[key] = sums[key]!;
      return result;
    };
    const result = dictionary<Record<string, number>>();
    for (const key of Object.keys(periods).sort(compareIds)) result[key] = sorted(periods[key]!);
    return { periods: result, withoutDate: sorted(withoutDate) };
  }

  /**
   * The statements of an answer, made from the estimator of the labelled visits closed before the
   * day of `before` (or of all of them: undefined), sent in one round trip. Counts kept at this
   * position are used at once, with a check of the log they were counted from in the same round
   * trip (a reset to another log at the same position, the only way they can be stale, makes them again).
   */
  private async answer(client: PoolClient, position: number, before: LearnedBefore, statements: (learned: Learned) => (Statement | string)[]): Promise<QueryResult[]> {
    const kept = [this.counts, this.earlierCounts].find((counts) => counts?.position === position);
    if (kept) {
      const made = statements(this.learnedAt(await kept.counts, before));
      const results = await queryAll(client, [...made, `SELECT log_id FROM ${this.schema}.checkpoint`]);
      if (String(results.at(-1)!.rows[0]?.log_id ?? '') === kept.logId) return results.slice(0, -1);
    }
    const counts = await this.countsAt(client, position);
    return queryAll(client, statements(this.learnedAt(await counts.counts, before)));
  }

  /**
   * The open deals standing now or at an instant, each with its learned probability, as the CTE
   * `scored` (opportunity_id, process_id, stage_id, stage_key: the stage's key in `catalog` when given
   * and holding it, pos: its place on the board, amount, currency_key, probability, expected, p).
   * The estimator's counts go to SQL as arrays; SQL makes
   * each estimate with estimateFromCounts' own operations in float8 (IEEE doubles, as JavaScript's),
   * so a request reads a few aggregated rows instead of every open deal. Now: the opportunities on
   * the board (a covering index in board order), with every closed life learned from. As of t: the
   * board segments standing then (the two walks of standingSegments, read-side.standing.ts), the estimator
   * of the lives closed on the days before t's day (`estimator`, from the kept daily counts), and
   * the visits closed on t's day before t counted here and added to it (whole counts, so the sums
   * are exact), in the same statement.
   */
  private scoredDeals(
    { estimator, labelsKept }: Learned,
    atMs: number,
    asOf: boolean,
    filter: PipelineFilter,
    cardIds?: readonly string[],
    /** Given: every stage of it gets cells (of no visits where none were learned), each with its key as stage_key. */
    catalog?: ProcessCatalog,
  ): { sql: string; values: unknown[] } {
    const cells = catalog ? cellsOfEveryStage(estimator, catalog) : [...estimator.cellCounts()].map((cell) => ({ ...cell, stageKey: null }));
    const values: unknown[] = [
      textArray(cells.map((c) => c.processId)),
      textArray(cells.map((c) => c.stageId)),
      numberArray(cells.map((c) => c.bucket)),
      boolArray(cells.map((c) => c.flagged)),
      numberArray(cells.map((c) => c.stageVisits)),
      numberArray(cells.map((c) => c.stageWon)),
      numberArray(cells.map((c) => c.cellVisits)),
      numberArray(cells.map((c) => c.cellWon)),
      numberArray(cells.map((c) => c.stageKey)),
    ];
    const param = (value: unknown) => `$${values.push(value)}`;
    // ageBucketOf(atMs - enteredMs) without a float per row: instants are whole milliseconds (as
    // timestamptz and as doubles), so "at - entered >= d" is "entered <= at - d", a comparison of
    // timestamps with the bucket's bound as of atMs.
    const bounds = AGE_BUCKET_DAYS.slice(1).map((days) => param(instantParameter(atMs - days * DAY_MS)));
    const bucket = (entered: string) =>
      `CASE ${bounds
        .map((bound, i) => ({ bound, bucket: i + 1 }))
        .reverse()
        .map(({ bound, bucket }) => `WHEN ${entered} <= ${bound}::timestamptz THEN ${bucket}`)
        .join(' ')} ELSE 0 END`;
    const s = this.schema;
    // As of t the conditions apply within each walk of standingSegments, to board_segments' own
    // columns (unqualified); now, to the opportunities (o).
    const alias = asOf ? '' : 'o.';
    const where = asOf ? [] : ['o.stage_id IS NOT NULL'];
    if (filter.processId !== undefined) where.push(`${alias}process_id = ${param(filter.processId)}`);
    if (filter.teamId !== undefined) where.push(`${alias}team_id = ${param(filter.teamId)}`);
    if (filter.ownerId !== undefined) where.push(`${alias}owner_id = ${param(filter.ownerId)}`);
    if (cardIds !== undefined) where.push(`${alias}opportunity_id = ANY(${param(textArray([...cardIds]))}::text[])`);
    // As of t, a deal counts as set back once its first setback's time is at or before t; now, once
    // it has one (opportunities.set_back). For a segment standing at t that is its set_back (written
    // when it began) while the log's times are in order (checkpoint.times_unordered, kept by the
    // fold's keepTimeOrder); otherwise the deal's first setback is looked up (an InitPlan read once
    // per statement picks the branch: the lookups run only for such a log).
    const at = asOf ? param(instantParameter(atMs)) : '';
    const deals = asOf
      ? `SELECT b.opportunity_id, b.process_id, b.stage_id, b.started_position AS pos, b.amount, b.currency, b.probability, ${bucket('b.stage_entered_at')} AS bucket, b.expected_close_date AS expected,
           CASE WHEN (SELECT times_unordered FROM ${s}.checkpoint) THEN EXISTS (SELECT 1 FROM ${s}.deal_setbacks d WHERE d.opportunity_id = b.opportunity_id AND d.first_at <= ${at}::timestamptz)
             ELSE b.set_back END AS flagged
         FROM (${standingSegments(s, STANDING_COLUMNS, atMs, where, param)}) b`
      : `SELECT o.opportunity_id, o.process_id, o.stage_id, o.segment_started_position AS pos, o.amount, o.currency, o.segment_probability AS probability, ${bucket('o.stage_entered_at')} AS bucket,
           o.expected_close_date AS expected, o.set_back AS flagged
         FROM ${s}.opportunities o WHERE ${where.join(' AND ')}`;
    const given = `SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bool[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::int[]) AS c(process_id, stage_id, bucket, flagged, stage_visits, stage_won, cell_visits, cell_won, stage_key)`;
    const k = `${PSEUDO_DEALS}::float8`;
    const sql = `WITH cells AS (${asOf ? this.withVisitsOfTheDay(given, atMs, param, labelsKept) : given}),
       deals AS (
         SELECT x.*, LEAST(1::float8, GREATEST(0::float8, x.probability / 100::float8)) AS prior, COALESCE(x.currency, ${escapeLiteral(NO_CURRENCY)}) AS currency_key
         FROM (${deals}) x),
       scored AS (
         SELECT d.opportunity_id, d.process_id, d.stage_id, c.stage_key, d.pos, d.amount, d.currency_key, d.probability, d.expected,
           CASE WHEN COALESCE(c.stage_visits, 0) = 0 THEN LEAST(100::float8, GREATEST(0::float8, d.probability::float8))
                ELSE ((c.cell_won + ${k} * ((c.stage_won + ${k} * d.prior) / (c.stage_visits + ${k}))) / (c.cell_visits + ${k})) * 100::float8 END AS p
         FROM deals d LEFT JOIN cells c ON c.process_id = d.process_id AND c.stage_id = d.stage_id AND c.bucket = d.bucket AND c.flagged = d.flagged)`;
    return { sql, values };
  }

  /**
   * The cells `given` (counts of the days before t's day) plus the labelled visits whose life
   * closed on t's day strictly before t, as WinProbabilityEstimator.learnCounts adds them: each
   * counts in its stage's totals (every bucket and flag) and in its own flag's cells of the buckets
   * up to the one its length reached. They are read from win_probability_labels (the labels the
   * projector kept, by day and closing time); while a catch-up defers those, the day's closings are
   * found through outcomes_closed_at from the day's start (a millisecond of margin: the exact
   * bounds are those of the estimator) and labelled here.
   */
  private withVisitsOfTheDay(given: string, atMs: number, param: (value: unknown) => string, labelsKept: boolean): string {
    const day = dayOf(atMs);
    if (!Number.isFinite(day)) return given;
    // The day's labels as the projector kept them (win_probability_labels, one run of its index), or,
    // while a catch-up defers them, the day's closings labelled here.
    // (The closings' bounds become parameters only when read: the statement carries none it does not use.)
    const closings = () => `o.closed_at >= ${param(instantParameter(day * DAY_MS - 1))}::timestamptz AND o.closed_at <= ${param(instantParameter(atMs))}::timestamptz`;
    const source = labelsKept ? `${this.schema}.win_probability_labels` : `(${labelRowsSql(this.schema, closings())})`;
    const labels = `SELECT process_id, stage_id, reached, flagged, won FROM ${source} l WHERE day = ${param(day)}::int AND closed_ms < ${param(atMs)}::float8`;
    return `
      SELECT process_id, stage_id, bucket, flagged, sum(stage_visits)::float8 AS stage_visits, sum(stage_won)::float8 AS stage_won, sum(cell_visits)::float8 AS cell_visits, sum(cell_won)::float8 AS cell_won, max(stage_key) AS stage_key
      FROM (${given}
        UNION ALL
        SELECT l.process_id, l.stage_id, b.bucket, f.flagged, l.visits, l.won_visits,
          CASE WHEN f.flagged = l.flagged AND b.bucket <= l.reached THEN l.visits ELSE 0 END, CASE WHEN f.flagged = l.flagged AND b.bucket <= l.reached THEN l.won_visits ELSE 0 END, NULL::int
        FROM (SELECT process_id, stage_id, reached, flagged, count(*)::float8 AS visits, (count(*) FILTER (WHERE won))::float8 AS won_visits
              FROM (${labels}) v
              GROUP BY 1, 2, 3, 4) l
        CROSS JOIN generate_series(0, ${AGE_BUCKET_DAYS.length - 1}) AS b(bucket) CROSS JOIN (VALUES (false), (true)) AS f(flagged)) c
      GROUP BY 1, 2, 3, 4`;
  }

  private learnedAt(counts: LearnedCounts, before: LearnedBefore): Learned {
    return { estimator: this.estimatorAt(counts, before), labelsKept: counts.labelsKept };
  }

  /** The estimator of the labelled visits closed on the days before that of `before` (or of all of them), made once per counts and day. */
  private estimatorAt(counts: LearnedCounts, before: LearnedBefore): WinProbabilityEstimator {
    const day = before === undefined ? Infinity : dayOf(before);
    let made = this.estimators.get(counts);
    if (!made) this.estimators.set(counts, (made = new Map()));
    let estimator = made.get(day);
    if (!estimator) {
      if (made.size >= PostgresWinProbabilityQueries.KEPT_ESTIMATORS) made.delete(made.keys().next().value!);
      made.set(day, (estimator = new WinProbabilityEstimator()));
      counts.learnBefore(estimator, day);
    }
    return estimator;
  }

  /**
   * The daily counts at the snapshot's position. A label never changes once its life closed (a
   * visit's closing is the first at or after its end; its flag, whether a setback came before it),
   * so counts at a later position of the same log are those of an earlier one plus the visits of
   * the closings written since: the first request after each checkpoint reads only those.
   */
  private async countsAt(client: PoolClient, position: number): Promise<KeptCounts> {
    const { rows } = await client.query(`SELECT log_id FROM ${this.schema}.checkpoint`);
    const logId = String(rows[0]?.log_id ?? '');
    for (const kept of [this.counts, this.earlierCounts]) if (kept?.logId === logId && kept.position === position) return kept;
    const base = this.counts?.logId === logId && this.counts.position < position ? this.counts : undefined;
    const counts = base ? this.countSince(client, base) : this.countDaily(client);
    const kept = { logId, position, counts };
    this.earlierCounts = this.counts;
    this.counts = kept;
    counts.catch(() => {
      if (this.counts === kept) this.counts = undefined; // the next request counts again
    });
    return kept;
  }

  private async countSince(client: PoolClient, base: KeptCounts): Promise<LearnedCounts> {
    const counts = (await base.counts).plus(await this.dailyRows(client, base.position));
    // Kept labels stay kept (only a reset to another log defers them again); a catch-up that
    // deferred them may have ended since.
    return counts.labelsKept ? counts : counts.withLabels(await this.learnedTablesKept(client));
  }

  private async learnedTablesKept(client: PoolClient): Promise<boolean> {
    const { rows } = await client.query(`SELECT NOT EXISTS (SELECT 1 FROM ${this.schema}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}') AS kept`);
    return rows[0]?.kept === true;
  }

  /** Every labelled visit counted per cell and day: the projector's daily counts, or (while a catch-up defers them) counted here. */
  private async countDaily(client: PoolClient): Promise<LearnedCounts> {
    const { rows } = await client.query(
      `SELECT process_id, stage_id, reached, flagged, won, day, visits::int AS visits FROM ${this.schema}.win_probability_daily
       WHERE NOT EXISTS (SELECT 1 FROM ${this.schema}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}')`,
    );
    if (rows.length > 0) return new LearnedCounts([], true).plus(rows);
    // No row: nothing labelled yet, or the counts (and labels) wait for a catch-up's end.
    return new LearnedCounts([], await this.learnedTablesKept(client)).plus(await this.dailyRows(client, undefined));
  }

  /** The labelled visits counted per cell and day of closing, in SQL: all, or those of the closings after a position. */
  private async dailyRows(client: PoolClient, after: number | undefined): Promise<QueryResultRow[]> {
    const { rows } = await client.query(dailyCountsSql(this.schema, after === undefined ? 'true' : 'o.closing_position > $1::bigint'), after === undefined ? [] : [after]);
    return rows;
  }

  /**
   * calibrationOf (win-probability.model.ts) with its learning done in SQL: each stage entry scored
   * comes with the counts of the stage it entered (entered_stage_id: a later migration may have
   * relabelled the visit, which is learned in the stage it ended in) and of its cell (bucket 0, its
   * flag) over the labelled visits closed strictly before it entered (a window over closings and entries in time order, entries
   * first at the same instant). The entries arrive in entry order, a page at a time; those entered
   * at the same millisecond are put in calibration's order here (ids as JavaScript compares them).
   */
  async calibration(client: PoolClient, at: { readonly revision: number; readonly position: number }, filter: AnalyticsFilter): Promise<WinProbabilityCalibrationResult> {
    // Each answer labels every closed visit in SQL (seconds at a million events): kept for the
    // checkpoint position it was computed at, for the last few filters asked. The position alone
    // does not name the tables: a reset to another log (or the same one folded again) or a
    // rebuild's swap comes back to it with other rows, and moves the state revision on.
    const readSide = `${at.revision}:${at.position}`;
    if (readSide !== this.calibrationsOf) {
      this.calibrations = new Map();
      this.calibrationsOf = readSide;
    }
    const parsed = parseFilter(filter);
    const key = JSON.stringify([parsed.processId, parsed.teamId, parsed.ownerId, parsed.fromMs, parsed.toMs, filter.from === undefined, filter.to === undefined]);
    const kept = this.calibrations.get(key);
    if (kept) return kept;
    const computed = this.calibrate(client, filter);
    const calibrations = this.calibrations;
    if (calibrations.size >= PostgresWinProbabilityQueries.KEPT_CALIBRATIONS) calibrations.delete(calibrations.keys().next().value!);
    calibrations.set(key, computed);
    computed.catch(() => {
      if (calibrations.get(key) === computed) calibrations.delete(key);
    });
    return computed;
  }

  private async calibrate(client: PoolClient, filter: AnalyticsFilter): Promise<WinProbabilityCalibrationResult> {
    const { fromMs, toMs, processId, teamId, ownerId } = parseFilter(filter);
    const values: unknown[] = [fromMs, toMs];
    const kept = [`${finite('v.entered_ms')}`, 'v.entered_ms >= $1::float8', 'v.entered_ms <= $2::float8'];
    if (processId !== undefined) kept.push(`v.process_id = $${values.push(processId)}`);
    if (teamId !== undefined) kept.push(`o.team_id = $${values.push(teamId)}`);
    if (ownerId !== undefined) kept.push(`o.owner_id = $${values.push(ownerId)}`);
    const people = teamId !== undefined || ownerId !== undefined ? `JOIN ${this.schema}.opportunities o ON o.opportunity_id = v.opportunity_id` : '';
    const sql = `WITH v AS MATERIALIZED (
         SELECT opportunity_id, visit_no, process_id, stage_id, flagged, won, entered_stage_id, entered_configured_probability,
           ${ms('entered_at')} AS entered_ms, ${ms('left_at')} AS left_ms, ${ms('closed_at')} AS closed_ms
         FROM ${this.schema}.win_probability_visits),
       marks AS (
         SELECT process_id, stage_id, closed_ms AS at_ms, 1 AS kind, flagged, won, NULL::text AS opportunity_id, NULL::int AS visit_no, NULL::float8 AS configured_probability
         FROM v WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')} AND closed_ms < $2::float8
         UNION ALL
         SELECT v.process_id, v.entered_stage_id, v.entered_ms, 0, v.flagged, v.won, v.opportunity_id, v.visit_no, v.entered_configured_probability
         FROM v ${people} WHERE ${kept.join(' AND ')}),
       counted AS (
         SELECT kind, at_ms, opportunity_id, visit_no, flagged, won, configured_probability,
           count(*) FILTER (WHERE kind = 1) OVER w AS stage_visits,
           count(*) FILTER (WHERE kind = 1 AND won) OVER w AS stage_won,
           count(*) FILTER (WHERE kind = 1 AND flagged) OVER w AS flagged_visits,
           count(*) FILTER (WHERE kind = 1 AND flagged AND won) OVER w AS flagged_won
         FROM marks WINDOW w AS (PARTITION BY process_id, stage_id ORDER BY at_ms, kind ROWS UNBOUNDED PRECEDING))
       SELECT at_ms AS entered_ms, opportunity_id, visit_no, won, configured_probability, stage_visits::int, stage_won::int,
         (CASE WHEN flagged THEN flagged_visits ELSE stage_visits - flagged_visits END)::int AS cell_visits,
         (CASE WHEN flagged THEN flagged_won ELSE stage_won - flagged_won END)::int AS cell_won
       FROM counted WHERE kind = 0 ORDER BY at_ms`;
    const tally = new CalibrationTally();
    type Entry = { enteredMs: number; opportunityId: string; visitNo: number; won: boolean; configuredProbability: number; p: number };
    let instant: Entry[] = [];
    const score = () => {
      for (const entry of instant.sort(compareEntries)) tally.add(entry.p, entry);
      instant = [];
    };
    for await (const rows of pagesOf(client, sql, values, this.pageRows)) {
      for (const row of rows) {
        if (instant.length > 0 && instant[0]!.enteredMs !== row.entered_ms) score();
        const p = estimateFromCounts(row.stage_visits, row.stage_won, row.cell_visits, row.cell_won, row.configured_probability);
        instant.push({ enteredMs: row.entered_ms, opportunityId: row.opportunity_id, visitNo: row.visit_no, won: row.won, configuredProbability: row.configured_probability, p });
      }
    }
    score();
    return tally.result(rangeOf(filter));
  }
}
