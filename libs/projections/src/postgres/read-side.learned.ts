import { AGE_BUCKET_DAYS } from '../win-probability.model';
import { ms } from './read-side.encoding';

// What the learned win probability (win-probability.model.ts) learns from, kept by the projector
// in the same transaction as each batch (migration 10), so that a request reads a few aggregated
// rows instead of labelling every closed visit of the log:
// - deal_setbacks: per opportunity that went backward or was reopened, the first such move. A
//   table (it was a view grouping every transition), upserted from each batch's transitions.
// - win_probability_daily: the labelled visits (view win_probability_visits, same rules) counted
//   per stage, time-in-stage bucket reached, flag, outcome and UTC day of the closing. A label never
//   changes once its life closed, so each batch adds the visits of its own closings.
// - win_probability_labels (migration 17): the labelled visits themselves, one row each with the
//   cell it counts in and its closing's time, added with the daily counts. The learned probability
//   as of T reads the visits closed on T's day before T here (a run of one index), where it
//   labelled that day's closings itself (joins per closing, ~5 ms and ~1.5 ms of planning at 1M events).
// While a catch-up from position 0 defers the query indexes, the daily counts and the labels wait
// too (the labelling of a batch's closings reads outcomes by opportunity): LEARNED_NOTE in
// deferred_indexes says so, and its definition makes them all once the indexes are back.

/** The note in deferred_indexes while win_probability_daily is not kept; the queries then label visits themselves. */
export const LEARNED_NOTE = '~learned';

/** Tables the writer keeps for the learned win probability (emptied with the others by a reset). */
export const LEARNED_TABLES = ['deal_setbacks', 'win_probability_daily', 'win_probability_labels'] as const;

const DAY_MS = 86_400_000;

export const finite = (expression: string) => `(${expression} > '-Infinity'::float8 AND ${expression} < 'Infinity'::float8)`;

/** ageBucketOf (win-probability.model.ts) in SQL: the highest bucket whose lower bound the length reached. */
export const bucketReached = (lengthMs: string) =>
  `CASE ${AGE_BUCKET_DAYS.map((days, bucket) => ({ days, bucket }))
    .slice(1)
    .reverse()
    .map(({ days, bucket }) => `WHEN ${lengthMs} >= ${days * DAY_MS}::float8 THEN ${bucket}`)
    .join(' ')} ELSE 0 END`;

/** The day a closing falls on (UTC days since 1970), the same division in SQL and in TypeScript. */
export const dayOfClosing = (closedMs: string) => `floor(${closedMs} / ${DAY_MS}::float8)`;

/**
 * The labelled visits (what view win_probability_visits lists, with the same rules) of the closings
 * `closings` selects (a condition on outcomes o): each closing's own visits are those that ended
 * after the closing before it and at or before it. Driven by the closings, so a few closings read
 * only their own visits; the view, driven by the visits, cannot be narrowed by the closing's time.
 */
export const labelledVisits = (s: string, closings: string) => `
  SELECT v.process_id, v.stage_id, o.outcome = 'won' AS won,
    ${ms('v.entered_at')} AS entered_ms, ${ms('v.left_at')} AS left_ms, ${ms('o.closed_at')} AS closed_ms,
    (d.first_position IS NOT NULL AND v.visit_no > (SELECT count(*) FROM ${s}.stage_visits p WHERE p.opportunity_id = v.opportunity_id AND p.ended_position <= d.first_position)) AS flagged
  FROM ${s}.outcomes o
  CROSS JOIN LATERAL (SELECT max(p.closing_position) AS before FROM ${s}.outcomes p WHERE p.opportunity_id = o.opportunity_id AND p.closing_position < o.closing_position) earlier
  JOIN ${s}.stage_visits v ON v.opportunity_id = o.opportunity_id AND v.ended_position <= o.closing_position AND (earlier.before IS NULL OR v.ended_position > earlier.before)
  LEFT JOIN ${s}.deal_setbacks d ON d.opportunity_id = o.opportunity_id
  WHERE ${closings}`;

/**
 * The labelled visits of the closings selected (times known) as win_probability_labels holds
 * them: each with its cell (stage, bucket reached, flag, outcome), its day of closing and its
 * closing's time in ms.
 */
export const labelRowsSql = (s: string, closings: string) => `
  SELECT process_id, stage_id, ${bucketReached('left_ms - entered_ms')} AS reached, flagged, won, ${dayOfClosing('closed_ms')}::int AS day, closed_ms
  FROM (${labelledVisits(s, closings)}) l
  WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')}`;

/** The labelled visits of the closings selected, counted per cell and day of closing. */
export const dailyCountsSql = (s: string, closings: string) => `
  SELECT process_id, stage_id, reached, flagged, won, day, count(*)::int AS visits
  FROM (${labelRowsSql(s, closings)}) c
  GROUP BY 1, 2, 3, 4, 5, 6`;

const kept = (s: string) => `NOT EXISTS (SELECT 1 FROM ${s}.deferred_indexes WHERE index_name = '${LEARNED_NOTE}')`;

/** The writer's statement for a batch's backward moves and reopenings ($1 ids, $2 positions, $3 times): the first one per deal stays. */
export const keepSetbacksSql = (s: string) => `
  INSERT INTO ${s}.deal_setbacks AS d (opportunity_id, first_position, first_at)
  SELECT opportunity_id, min(position), min(at) FROM unnest($1::text[], $2::bigint[], $3::timestamptz[]) AS t(opportunity_id, position, at) GROUP BY 1
  ON CONFLICT (opportunity_id) DO UPDATE SET first_position = LEAST(d.first_position, EXCLUDED.first_position), first_at = LEAST(d.first_at, EXCLUDED.first_at)`;


/**
 * The writer's statement for a batch's closings ($1 their positions), after the batch's visits,
 * outcomes and setbacks are written: their visits labelled once, kept as rows in
 * win_probability_labels and added to the daily counts.
 */
export const keepLearnedSql = (s: string) => `
  WITH labelled AS (${labelRowsSql(s, `o.closing_position = ANY($1::bigint[]) AND ${kept(s)}`)}),
    labels AS (INSERT INTO ${s}.win_probability_labels (process_id, stage_id, reached, flagged, won, day, closed_ms) SELECT * FROM labelled)
  INSERT INTO ${s}.win_probability_daily AS t (process_id, stage_id, reached, flagged, won, day, visits)
  SELECT process_id, stage_id, reached, flagged, won, day, count(*) FROM labelled GROUP BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (process_id, stage_id, reached, flagged, won, day) DO UPDATE SET visits = t.visits + EXCLUDED.visits`;

/**
 * Every labelled visit counted per cell and day, in one pass over the visits and closings sorted
 * by deal and position (what dailyCountsSql gives for all closings, without a lookup per closing,
 * whose plan depends on statistics a catch-up has not gathered yet): each ended visit is labelled
 * by the first closing at or after its end (a running minimum, backwards, closings before visits
 * at the same position), and flagged when its number is above the count of the deal's visits that
 * ended at or before its first setback.
 */
export const allDailyCountsSql = (s: string) => `
  SELECT process_id, stage_id, reached, flagged, won, day, count(*)::int AS visits
  FROM (${everyLabel(s)}) c
  GROUP BY 1, 2, 3, 4, 5, 6`;

/** Every labelled visit (with its cell, day and closing time), in the one pass of allDailyCountsSql. */
export const allLabelRowsSql = (s: string) => `
  SELECT process_id, stage_id, reached, flagged, won, day::int AS day, closed_ms FROM (${everyLabel(s)}) c`;

const everyLabel = (s: string) => `
  SELECT * FROM (SELECT l.process_id, l.stage_id, l.flagged, o.outcome = 'won' AS won, ${bucketReached('l.left_ms - l.entered_ms')} AS reached,
          ${dayOfClosing(ms('o.closed_at'))} AS day, l.entered_ms, l.left_ms, ${ms('o.closed_at')} AS closed_ms
        FROM (SELECT m.*,
                min(m.closing) OVER (PARTITION BY m.opportunity_id ORDER BY m.pos DESC, m.kind ROWS UNBOUNDED PRECEDING) AS labelled_by,
                (m.first_position IS NOT NULL AND m.visit_no > count(*) FILTER (WHERE m.kind = 1 AND m.pos <= m.first_position) OVER (PARTITION BY m.opportunity_id)) AS flagged
              FROM (SELECT v.opportunity_id, v.ended_position AS pos, 1 AS kind, v.visit_no, v.process_id, v.stage_id, ${ms('v.entered_at')} AS entered_ms, ${ms('v.left_at')} AS left_ms,
                      NULL::bigint AS closing, d.first_position
                    FROM ${s}.stage_visits v LEFT JOIN ${s}.deal_setbacks d ON d.opportunity_id = v.opportunity_id WHERE v.ended_position IS NOT NULL
                    UNION ALL
                    SELECT opportunity_id, closing_position, 0, NULL, NULL, NULL, NULL, NULL, closing_position, NULL FROM ${s}.outcomes) m) l
        JOIN ${s}.outcomes o ON o.closing_position = l.labelled_by
        WHERE l.kind = 1) c
  WHERE ${finite('entered_ms')} AND ${finite('left_ms')} AND ${finite('closed_ms')}`;

/** The daily counts computed again from the tables (migration 10, and at the end of a catch-up). */
export const rebuildDailyCountsSql = (s: string) => `
  SET LOCAL work_mem = '256MB';
  TRUNCATE ${s}.win_probability_daily;
  INSERT INTO ${s}.win_probability_daily (process_id, stage_id, reached, flagged, won, day, visits) ${allDailyCountsSql(s)};
  ANALYZE ${s}.win_probability_daily;`;

/**
 * The labels and the daily counts made again from the tables (at the end of a catch-up, and
 * migration 17 where one is under way): the labels in one pass, the counts from them.
 */
export const rebuildLearnedSql = (s: string) => `
  SET LOCAL work_mem = '256MB';
  TRUNCATE ${s}.win_probability_daily, ${s}.win_probability_labels;
  INSERT INTO ${s}.win_probability_labels (process_id, stage_id, reached, flagged, won, day, closed_ms) ${allLabelRowsSql(s)};
  INSERT INTO ${s}.win_probability_daily (process_id, stage_id, reached, flagged, won, day, visits)
    SELECT process_id, stage_id, reached, flagged, won, day, count(*) FROM ${s}.win_probability_labels GROUP BY 1, 2, 3, 4, 5, 6;
  ANALYZE ${s}.win_probability_daily;
  ANALYZE ${s}.win_probability_labels;`;

/** The first backward move or reopening of each deal, from the transitions (migration 10). */
export const rebuildSetbacksSql = (s: string) => `
  TRUNCATE ${s}.deal_setbacks;
  INSERT INTO ${s}.deal_setbacks (opportunity_id, first_position, first_at)
  SELECT opportunity_id, min(position), min(occurred_at) FROM ${s}.transitions WHERE kind IN ('backward', 'reopened') GROUP BY opportunity_id;`;
