import type { WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import type { PoolClient, QueryResultRow } from 'pg';
import { dayRangeOf } from '../forecast.figures';
import type { PipelineFilter } from '../pipeline.projection';
import { parseFilter } from '../projection.helpers';
import type { AnalyticsFilter } from '../projection.types';
import {
  AGE_BUCKET_DAYS,
  CalibrationTally,
  compareEntries,
  estimateFromCounts,
  LearnedForecastTally,
  LearnedPipelineTally,
  WinProbabilityEstimator,
  type LearnedForecastFigures,
  type LearnedPipelineFigures,
  type OpenDeal,
} from '../win-probability.model';
import { rangeOf, type LearnedForecastQuery, type LearnedPipelineQuery } from '../win-probability.queries';
import { instantParameter, ms } from './read-side.encoding';

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
const finite = (expression: string) => `(${expression} > '-Infinity'::float8 AND ${expression} < 'Infinity'::float8)`;

/** ageBucketOf (win-probability.model.ts) in SQL: the highest bucket whose lower bound the length reached. */
export const bucketReached = (lengthMs: string) =>
  `CASE ${AGE_BUCKET_DAYS.map((days, bucket) => ({ days, bucket }))
    .slice(1)
    .reverse()
    .map(({ days, bucket }) => `WHEN ${lengthMs} >= ${days * DAY_MS}::float8 THEN ${bucket}`)
    .join(' ')} ELSE 0 END`;

/** Which estimator: every closed life (`undefined`), or those closed strictly before an instant. */
type LearnedBefore = number | undefined;

let cursors = 0;

/** Each page of a query's rows, through a cursor of the transaction the client is in. */
async function* pagesOf(client: PoolClient, sql: string, values: unknown[], pageRows: number): AsyncGenerator<QueryResultRow[]> {
  const name = `learned_${++cursors}`;
  await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, values);
  try {
    for (;;) {
      const { rows } = await client.query(`FETCH ${pageRows} FROM ${name}`);
      if (rows.length > 0) yield rows;
      if (rows.length < pageRows) return;
    }
  } finally {
    await client.query(`CLOSE ${name}`).catch(() => undefined); // the transaction may have failed
  }
}

/**
 * The labelled visits (what view win_probability_visits lists, with the same rules) of the closings
 * `closings` selects (a condition on outcomes o): each closing's own visits are those that ended
 * after the closing before it and at or before it. Driven by the closings, so a few closings read
 * only their own visits; the view, driven by the visits, cannot be narrowed by the closing's time.
 */
const labelledVisits = (s: string, closings: string) => `
  SELECT v.process_id, v.stage_id, o.outcome = 'won' AS won,
    ${ms('v.entered_at')} AS entered_ms, ${ms('v.left_at')} AS left_ms, ${ms('o.closed_at')} AS closed_ms,
    (d.first_position IS NOT NULL AND v.visit_no > (SELECT count(*) FROM ${s}.stage_visits p WHERE p.opportunity_id = v.opportunity_id AND p.ended_position <= d.first_position)) AS flagged
  FROM ${s}.outcomes o
  CROSS JOIN LATERAL (SELECT max(p.closing_position) AS before FROM ${s}.outcomes p WHERE p.opportunity_id = o.opportunity_id AND p.closing_position < o.closing_position) earlier
  JOIN ${s}.stage_visits v ON v.opportunity_id = o.opportunity_id AND v.ended_position <= o.closing_position AND (earlier.before IS NULL OR v.ended_position > earlier.before)
  LEFT JOIN LATERAL (SELECT min(t.position) AS first_position FROM ${s}.transitions t WHERE t.opportunity_id = o.opportunity_id AND t.kind IN ('backward', 'reopened')) d ON true
  WHERE ${closings}`;

/** The day a closing falls on (UTC days since 1970), the same division in SQL and here. */
const DAY_OF_CLOSING = `floor(closed_ms / ${DAY_MS}::float8)`;
const dayOf = (atMs: number) => Math.floor(atMs / DAY_MS);

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
  constructor(private readonly cells: readonly DailyCounts[] = []) {}

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
    return new LearnedCounts(cells);
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

export class PostgresWinProbabilityQueries {
  // The daily counts of the checkpoint position they were counted at (requests that arrive while
  // they are counted wait for that count), and estimators made from them: now and a few instants.
  private counts?: KeptCounts;
  private earlierCounts?: KeptCounts;
  private estimators = new Map<string, Promise<WinProbabilityEstimator>>();
  private estimatorsPosition = -1;
  private static readonly KEPT_ESTIMATORS = 16;
  private calibrations = new Map<string, Promise<WinProbabilityCalibrationResult>>();
  private calibrationsPosition = -1;
  private static readonly KEPT_CALIBRATIONS = 16;

  constructor(
    private readonly schema: string,
    /** Rows a cursor fetches at a time (tests make pages small). */
    private readonly pageRows = LEARNED_PAGE_ROWS,
  ) {}

  async learnedPipeline(client: PoolClient, position: number, query: LearnedPipelineQuery): Promise<LearnedPipelineFigures> {
    const { atMs, asOf } = query;
    // Now: every closed life (as the in-memory live estimator); as of t: those closed before t.
    const estimator = await this.estimatorAt(client, position, asOf ? atMs : undefined);
    const tally = new LearnedPipelineTally(estimator, atMs, new Set(query.cardIds));
    for await (const deals of this.openDeals(client, atMs, asOf, query.filter)) for (const deal of deals) tally.add(deal);
    return tally.figures();
  }

  async learnedForecast(client: PoolClient, position: number, { atMs, asOf, forecast }: LearnedForecastQuery): Promise<LearnedForecastFigures> {
    const { fromMs, toMs } = parseFilter(forecast);
    const estimator = await this.estimatorAt(client, position, asOf ? atMs : undefined);
    const tally = new LearnedForecastTally(estimator, atMs, forecast.period, dayRangeOf(fromMs, toMs));
    for await (const deals of this.openDeals(client, atMs, asOf, forecast)) for (const deal of deals) tally.add(deal);
    return tally.figures();
  }

  private estimatorAt(client: PoolClient, position: number, before: LearnedBefore): Promise<WinProbabilityEstimator> {
    if (position !== this.estimatorsPosition) {
      this.estimators = new Map();
      this.estimatorsPosition = position;
    }
    const key = before === undefined ? 'all' : String(before);
    const kept = this.estimators.get(key);
    if (kept) return kept;
    const made = this.estimatorOf(client, position, before);
    const estimators = this.estimators;
    if (estimators.size >= PostgresWinProbabilityQueries.KEPT_ESTIMATORS) estimators.delete(estimators.keys().next().value!);
    estimators.set(key, made);
    made.catch(() => {
      if (estimators.get(key) === made) estimators.delete(key); // the next request makes it again
    });
    return made;
  }

  /** The estimator of the labelled visits closed before an instant (or all), from their counts. */
  private async estimatorOf(client: PoolClient, position: number, before: LearnedBefore): Promise<WinProbabilityEstimator> {
    const counts = await this.countsAt(client, position);
    const estimator = new WinProbabilityEstimator();
    if (before === undefined) {
      counts.learnBefore(estimator, Infinity);
      return estimator;
    }
    const day = dayOf(before);
    counts.learnBefore(estimator, day);
    if (!Number.isFinite(day)) return estimator;
    // The visits closed on that day before the instant. Closings are first narrowed by their time
    // (a day of margin on both sides); the exact bounds are those of the counts above.
    const values: unknown[] = [instantParameter((day - 1) * DAY_MS), instantParameter(before + DAY_MS), day, before];
    const { rows } = await client.query(
      `SELECT process_id, stage_id, ${bucketReached('left_ms - entered_ms')} AS reached, flagged, won, count(*)::int AS visits
       FROM (${labelledVisits(this.schema, `o.closed_at >= $1::timestamptz AND o.closed_at < $2::timestamptz`)}) l
       WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')} AND ${DAY_OF_CLOSING} = $3::float8 AND closed_ms < $4::float8
       GROUP BY 1, 2, 3, 4, 5`,
      values,
    );
    for (const row of rows) estimator.learnCounts(row.process_id, row.stage_id, row.reached, row.flagged, row.visits, row.won ? row.visits : 0);
    return estimator;
  }

  /**
   * The daily counts at the snapshot's position. A label never changes once its life closed (a
   * visit's closing is the first at or after its end; its flag, whether a setback came before it),
   * so counts at a later position of the same log are those of an earlier one plus the visits of
   * the closings written since: the first request after each checkpoint reads only those.
   */
  private async countsAt(client: PoolClient, position: number): Promise<LearnedCounts> {
    const { rows } = await client.query(`SELECT log_id FROM ${this.schema}.checkpoint`);
    const logId = String(rows[0]?.log_id ?? '');
    for (const kept of [this.counts, this.earlierCounts]) if (kept?.logId === logId && kept.position === position) return kept.counts;
    const base = this.counts?.logId === logId && this.counts.position < position ? this.counts : undefined;
    const counts = base ? this.countSince(client, base) : this.countDaily(client, undefined);
    const kept = { logId, position, counts };
    this.earlierCounts = this.counts;
    this.counts = kept;
    counts.catch(() => {
      if (this.counts === kept) this.counts = undefined; // the next request counts again
    });
    return counts;
  }

  private async countSince(client: PoolClient, base: KeptCounts): Promise<LearnedCounts> {
    const counts = await base.counts;
    return counts.plus(await this.dailyRows(client, base.position));
  }

  private async countDaily(client: PoolClient, after: number | undefined): Promise<LearnedCounts> {
    return new LearnedCounts().plus(await this.dailyRows(client, after));
  }

  /** The labelled visits counted per cell and day of closing, in SQL: all, or those of the closings after a position. */
  private async dailyRows(client: PoolClient, after: number | undefined): Promise<QueryResultRow[]> {
    const { rows } = await client.query(
      `SELECT process_id, stage_id, reached, flagged, won, day, count(*)::int AS visits
       FROM (SELECT process_id, stage_id, flagged, won, ${bucketReached('left_ms - entered_ms')} AS reached, ${DAY_OF_CLOSING} AS day
             FROM (${labelledVisits(this.schema, after === undefined ? 'true' : 'o.closing_position > $1::bigint')}) l
             WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')}) c
       GROUP BY 1, 2, 3, 4, 5, 6`,
      after === undefined ? [] : [after],
    );
    return rows;
  }

  /** The open deals standing now or at an instant, a page at a time, in the order of the positions that began their segments (the in-memory order). */
  private async *openDeals(client: PoolClient, atMs: number, asOf: boolean, filter: PipelineFilter): AsyncGenerator<OpenDeal[]> {
    const values: unknown[] = [];
    const where = [asOf ? `tstzrange(b.valid_from, b.valid_to) @> $${values.push(instantParameter(atMs))}::timestamptz` : 'b.valid_to IS NULL'];
    if (filter.processId !== undefined) where.push(`b.process_id = $${values.push(filter.processId)}`);
    if (filter.teamId !== undefined) where.push(`b.team_id = $${values.push(filter.teamId)}`);
    if (filter.ownerId !== undefined) where.push(`b.owner_id = $${values.push(filter.ownerId)}`);
    const sql = `SELECT b.opportunity_id, b.process_id, b.stage_id, ${ms('b.stage_entered_at')} AS entered_ms, b.probability, b.amount, b.currency,
         (b.expected_close_date - DATE '1970-01-01') AS day, ${ms('d.first_at')} AS first_flag_ms, d.opportunity_id IS NOT NULL AS flagged
       FROM ${this.schema}.board_segments b LEFT JOIN ${this.schema}.deal_setbacks d ON d.opportunity_id = b.opportunity_id
       WHERE ${where.join(' AND ')} ORDER BY b.started_position`;
    for await (const rows of pagesOf(client, sql, values, this.pageRows)) {
      yield rows.map((row) => ({
        opportunityId: row.opportunity_id,
        processId: row.process_id,
        stageId: row.stage_id,
        enteredMs: row.entered_ms ?? NaN,
        flagged: asOf ? (row.first_flag_ms ?? NaN) <= atMs : row.flagged,
        configuredProbability: row.probability,
        amount: row.amount ?? NaN,
        currency: row.currency,
        ...(row.day === null ? {} : { expectedDay: Number(row.day) }),
      }));
    }
  }

  /**
   * calibrationOf (win-probability.model.ts) with its learning done in SQL: each stage entry scored
   * comes with the counts of its stage and of its cell (bucket 0, its flag) over the labelled visits
   * closed strictly before it entered (a window over closings and entries in time order, entries
   * first at the same instant). The entries arrive in entry order, a page at a time; those entered
   * at the same millisecond are put in calibration's order here (ids as JavaScript compares them).
   */
  async calibration(client: PoolClient, position: number, filter: AnalyticsFilter): Promise<WinProbabilityCalibrationResult> {
    // Each answer labels every closed visit in SQL (seconds at a million events): kept for the
    // checkpoint position it was computed at, for the last few filters asked.
    if (position !== this.calibrationsPosition) {
      this.calibrations = new Map();
      this.calibrationsPosition = position;
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
         SELECT opportunity_id, visit_no, process_id, stage_id, flagged, won, configured_probability,
           ${ms('entered_at')} AS entered_ms, ${ms('left_at')} AS left_ms, ${ms('closed_at')} AS closed_ms
         FROM ${this.schema}.win_probability_visits),
       marks AS (
         SELECT process_id, stage_id, closed_ms AS at_ms, 1 AS kind, flagged, won, NULL::text AS opportunity_id, NULL::int AS visit_no, NULL::float8 AS configured_probability
         FROM v WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')} AND closed_ms < $2::float8
         UNION ALL
         SELECT v.process_id, v.stage_id, v.entered_ms, 0, v.flagged, v.won, v.opportunity_id, v.visit_no, v.configured_probability
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
