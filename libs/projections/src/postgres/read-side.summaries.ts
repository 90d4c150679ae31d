// Summary tables of the read side (migration 9, docs/read-models-postgres.md "Summary tables"):
// win/loss, funnel and transition counts per (filter keys, UTC day and month), kept by the writer in
// the same transaction as each batch and its checkpoint, so win-loss, funnel and transitions read a
// few hundred summary rows instead of scanning every closing, opportunity or move.
//
// The filters use an opportunity's CURRENT team and owner, so a batch takes away what the
// opportunities it changed contributed (with their old team, owner, outcome…) and adds what they
// contribute now: a reassigned deal moves its closings and all its moves. The fold keeps these
// deltas (read-side.summary-deltas.ts); this file computes the same counts from the tables.
// Amounts are added exactly (whole amounts as numeric); an amount that is not whole is only counted
// (`fractional`), and a query that meets one answers from the general query instead, which adds
// the amounts exactly in minor units (read-side.amounts.ts), as the in-memory models do.

import { utcMonthStart } from './read-side.month-cover';

/** The note in deferred_indexes while the summaries are not complete (a catch-up from position 0); queries then do not read them. */
export const SUMMARIES_NOTE = '~summaries';

/** 2^52: below it, whole amounts and all their partial sums are exact doubles. */
export const EXACT_BOUND = 2 ** 52;

/** Each row counted under its team and again under its owner (columns team_id and owner_id of `table`). */
export const dims = (table: string) => `CROSS JOIN LATERAL (VALUES ('team', ${table}.team_id), ('owner', ${table}.owner_id)) AS d(dim, dim_id)`;
/** Each row counted for its UTC day and again for its month; a rebuild counts days only (`dayOnly`) and adds the months up from them. */
export const periods = (column: string, dayOnly = false) =>
  dayOnly
    ? `CROSS JOIN LATERAL (VALUES ('day', (${column} AT TIME ZONE 'UTC')::date)) AS p(period, period_start)`
    : `CROSS JOIN LATERAL (VALUES ('day', (${column} AT TIME ZONE 'UTC')::date), ('month', date_trunc('month', ${column} AT TIME ZONE 'UTC')::date)) AS p(period, period_start)`;

/** Whether a closed deal's amount is added exactly (whole, below 2^52; NaN and infinities are not). */
export const wholeAmount = (amount: string) => `(${amount} = trunc(${amount}) AND abs(${amount}) < ${String(EXACT_BOUND)})`;
export const closedAmount = (o: string) => `CASE WHEN ${o}.status = 'won' THEN ${o}.won_amount ELSE ${o}.amount END`;
export const closedCurrency = (o: string) => `CASE WHEN ${o}.status = 'won' THEN ${o}.won_currency ELSE ${o}.currency END`;
export const closedReason = (o: string) => `CASE WHEN ${o}.status = 'won' THEN ${o}.won_reason ELSE ${o}.lost_reason END`;

interface Summary {
  readonly table: string;
  readonly keys: readonly string[];
  /** The keys in the order of the unique index (the filters' columns first: dim, period, team or owner, day). */
  readonly indexOrder: readonly string[];
  readonly measures: readonly string[];
  /** SELECT of the keys and measures (signed by `sign`) of the base rows `where` selects, grouped (day rows only: `dayOnly`). */
  contributions(s: string, where: string, sign: 1 | -1, dayOnly?: boolean): string;
}

const SUMMARIES: readonly Summary[] = [
  {
    table: 'win_loss_summary',
    keys: ['process_id', 'dim', 'dim_id', 'period', 'period_start', 'outcome', 'currency', 'reason'],
    indexOrder: ['dim', 'period', 'dim_id', 'period_start', 'process_id', 'outcome', 'currency', 'reason'],
    measures: ['closings', 'with_amount', 'whole_sum', 'abs_sum', 'fractional'],
    contributions: (s, where, sign, dayOnly) =>
      `SELECT o.process_id, d.dim, d.dim_id, p.period, p.period_start, o.status, ${closedCurrency('o')}, ${closedReason('o')},
         ${sign} * count(*), ${sign} * count(${closedAmount('o')}), ${sign} * COALESCE(sum(CASE WHEN ${wholeAmount(closedAmount('o'))} THEN ${closedAmount('o')}::bigint END), 0)::numeric,
         ${sign} * COALESCE(sum(CASE WHEN ${wholeAmount(closedAmount('o'))} THEN abs(${closedAmount('o')})::bigint END), 0)::numeric,
         ${sign} * count(*) FILTER (WHERE ${closedAmount('o')} IS NOT NULL AND NOT ${wholeAmount(closedAmount('o'))})
       FROM ${s}.opportunities o ${dims('o')} ${periods('o.closed_at', dayOnly)}
       WHERE o.status IN ('won', 'lost') AND ${where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
  },
  {
    table: 'funnel_summary',
    keys: ['process_id', 'process_version', 'dim', 'dim_id', 'period', 'period_start', 'furthest_rank', 'ever_won'],
    indexOrder: ['dim', 'period', 'dim_id', 'period_start', 'process_id', 'process_version', 'furthest_rank', 'ever_won'],
    measures: ['opportunities'],
    contributions: (s, where, sign, dayOnly) =>
      `SELECT o.process_id, o.process_version, d.dim, d.dim_id, p.period, p.period_start, o.furthest_rank, o.ever_won, ${sign} * count(*)
       FROM ${s}.opportunities o ${dims('o')} ${periods('o.opened_at', dayOnly)} WHERE ${where} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
  },
  {
    table: 'transition_summary',
    keys: ['pair_no', 'dim', 'dim_id', 'period', 'period_start'],
    indexOrder: ['dim', 'period', 'dim_id', 'period_start', 'pair_no'],
    measures: ['transitions'],
    contributions: (s, where, sign, dayOnly) =>
      `SELECT t.pair_no, d.dim, d.dim_id, p.period, p.period_start, ${sign} * count(*)
       FROM ${s}.transitions t JOIN ${s}.opportunities o ON o.opportunity_id = t.opportunity_id ${dims('o')} ${periods('t.occurred_at', dayOnly)} WHERE ${where} GROUP BY 1, 2, 3, 4, 5`,
  },
];

/** The unique index of a summary's keys (nulls equal: a null team is a key), which the writer's upserts find rows by. */
const keyIndexSql = (s: string, summary: Summary) => `CREATE UNIQUE INDEX ${summary.table}_key ON ${s}.${summary.table} (${summary.indexOrder.join(', ')}) NULLS NOT DISTINCT;`;

/** The unique indexes of every summary (migration 9). */
export const summaryIndexesSql = (s: string): string => SUMMARIES.map((summary) => keyIndexSql(s, summary)).join('\n');

/** A summary's day rows from the tables, then its month rows from the day rows (a pass over far fewer rows). */
function summaryRowsSql(s: string, summary: Summary): string {
  const keys = summary.keys.map((key) => (key === 'period' ? `'month'` : key === 'period_start' ? `date_trunc('month', period_start)::date` : key));
  const months = `SELECT ${keys.join(', ')}, ${summary.measures.map((m) => `sum(${m})`).join(', ')} FROM ${s}.${summary.table} WHERE period = 'day' GROUP BY ${keys.map((_, i) => i + 1).join(', ')}`;
  const insert = (select: string) => `INSERT INTO ${s}.${summary.table} (${[...summary.keys, ...summary.measures].join(', ')}) ${select};`;
  return [insert(summary.contributions(s, 'true', 1, true)), insert(months)].join('\n');
}

/**
 * One summary computed again from the tables: written without its unique index, made again after
 * (faster than checking every row), with room to hash the groups in memory for this transaction.
 */
const rebuildSummarySql = (s: string, summary: Summary) =>
  [`SET LOCAL work_mem = '256MB';`, `TRUNCATE ${s}.${summary.table};`, `DROP INDEX IF EXISTS ${s}.${summary.table}_key;`, summaryRowsSql(s, summary), keyIndexSql(s, summary)].join('\n');

/** Every summary computed again from the tables (migration 9), in one transaction. */
export function rebuildSummariesSql(s: string): string {
  return SUMMARIES.map((summary) => rebuildSummarySql(s, summary)).join('\n');
}

export const SUMMARY_TABLES = SUMMARIES.map((summary) => summary.table);

/** The stage-duration counts per team and owner, and per month (migration 12): what each table counts of the completed visits. */
const DURATION_COUNTS = [
  {
    table: 'stage_duration_dim_buckets',
    key: '(dim, dim_id, process_id, stage_id, bucket)',
    select: (s: string) => `SELECT d.dim, d.dim_id, v.process_id, v.stage_id, v.duration_bucket, count(*), sum(v.duration_ms)
  FROM ${s}.stage_visits v CROSS JOIN LATERAL (VALUES ('team', v.current_team_id), ('owner', v.current_owner_id)) AS d(dim, dim_id)
  WHERE v.left_at IS NOT NULL AND d.dim_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5`,
  },
  {
    table: 'stage_duration_month_buckets',
    key: '(dim, dim_id, process_id, stage_id, month, bucket) INCLUDE (visits, ms_sum)',
    select: (s: string) => `SELECT d.dim, d.dim_id, v.process_id, v.stage_id, date_trunc('month', v.left_at AT TIME ZONE 'UTC')::date, v.duration_bucket, count(*), sum(v.duration_ms)
  FROM ${s}.stage_visits v CROSS JOIN LATERAL (VALUES ('all', ''), ('team', v.current_team_id), ('owner', v.current_owner_id)) AS d(dim, dim_id)
  WHERE v.left_at IS NOT NULL AND d.dim_id IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6`,
  },
] as const;

/**
 * The stage-duration counts computed again from the visits (migration 12): they wait with the
 * summaries during a long first fold (each batch would upsert six rows a completed visit) and are
 * counted once at its end, with them.
 */
export function rebuildDurationBucketsSql(s: string): string {
  return [`TRUNCATE ${DURATION_COUNTS.map(({ table }) => `${s}.${table}`).join(', ')};`, ...DURATION_COUNTS.map(({ table, select }) => `INSERT INTO ${s}.${table}\n  ${select(s)};`)].join('\n');
}

/** Work that ends a long first fold's wait for the summaries: each piece one transaction, any two at once on separate connections. */
export interface SummaryPiece {
  readonly name: string;
  readonly sql: string;
}

/**
 * The summaries and the stage-duration counts computed again from the tables, in pieces that the
 * end of a long first fold runs two at once (read-side.indexes.ts), where one transaction for all
 * of them kept one core busy for most of that step. Each piece empties and fills its own table, so
 * a piece run again after a kill gives the same rows; the note that keeps the queries off the
 * summaries is removed only once every piece has committed. The duration counts' primary keys are
 * made after their rows instead of kept while they go in: on the 1M bench's visits (245k month
 * rows, 57k per team or owner) 3.5–3.9 s against 4.8–5.1 s with the keys kept (three interleaved
 * rounds; TRUNCATE already locks the table against readers).
 */
export function summaryPieces(s: string): SummaryPiece[] {
  return [
    ...SUMMARIES.map((summary) => ({ name: summary.table, sql: rebuildSummarySql(s, summary) })),
    ...DURATION_COUNTS.map(({ table, key, select }) => ({
      name: table,
      sql: [
        `SET LOCAL work_mem = '256MB';`,
        `ALTER TABLE ${s}.${table} DROP CONSTRAINT ${table}_pkey;`,
        `TRUNCATE ${s}.${table};`,
        `INSERT INTO ${s}.${table}\n  ${select(s)};`,
        `ALTER TABLE ${s}.${table} ADD CONSTRAINT ${table}_pkey PRIMARY KEY ${key};`,
      ].join('\n'),
    })),
  ];
}

/** A half-open range of dates 'YYYY-MM-DD' (null: unbounded on that side). */
export type DateRange = readonly [string | null, string | null];

/** Base rows at instants from `from` (included) to `to` (excluded), whole milliseconds, added (1) or taken away (-1). */
export type Edge = readonly [from: number, to: number, sign: 1 | -1];

/**
 * How a time filter [fromMs, toMs] (inclusive, whole milliseconds: the tables hold whole
 * milliseconds) is covered: whole UTC months from the month rows, whole UTC days from the day rows,
 * and the pieces of days at either end from the base rows (`edges`) — either the piece itself, or,
 * when the rest of its day is shorter, the day row less the base rows of that rest (a filter to
 * 23:59:59 reads the last second of the day, not the whole day). `all`: no time filter (every month
 * row, those of unknown time included).
 */
export interface PeriodCover {
  readonly all: boolean;
  readonly months: DateRange | null;
  readonly days: readonly DateRange[];
  readonly edges: readonly Edge[];
}

const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const ceilDay = (ms: number) => Math.ceil(ms / DAY) * DAY;
const floorDay = (ms: number) => Math.floor(ms / DAY) * DAY;
const monthStart = (ms: number) => utcMonthStart(ms);
const ceilMonth = (ms: number) => (monthStart(ms) === ms ? ms : utcMonthStart(ms, 1));
/** Instants a timestamptz holds and a Date prints (as instantParameter in the queries), a day to spare. */
const inRange = (ms: number) => ms >= -62135596800000 + DAY && ms <= 253402300799999 - DAY;

/** The cover of [fromMs, toMs] (±Infinity: unbounded); undefined when a bound is beyond what a date column says (then the general query answers). */
export function periodCover(fromMs: number, toMs: number, bounded: boolean): PeriodCover | undefined {
  if (!bounded) return { all: true, months: null, days: [], edges: [] };
  if (Number.isNaN(fromMs) || Number.isNaN(toMs) || (Number.isFinite(fromMs) && !inRange(fromMs)) || (Number.isFinite(toMs) && !inRange(toMs))) return undefined;
  if (fromMs > toMs) return { all: false, months: null, days: [], edges: [] };
  const date = (ms: number) => (Number.isFinite(ms) ? dateOf(ms) : null);
  const days: DateRange[] = [];
  const edges: Edge[] = [];
  /** [from, to) within one day that starts at `day`: itself, or the day less the rest, whichever reads less. */
  const piece = (from: number, to: number, day: number) => {
    if (to - from <= DAY - (to - from)) edges.push([from, to, 1]);
    else {
      days.push([date(day), date(day + DAY)]);
      if (day < from) edges.push([day, from, -1]);
      if (to < day + DAY) edges.push([to, day + DAY, -1]);
    }
  };
  const dayA = Number.isFinite(fromMs) ? ceilDay(fromMs) : -Infinity;
  const dayB = Number.isFinite(toMs) ? floorDay(toMs + 1) : Infinity;
  if (dayA > dayB) {
    // From and to within one day, which the range does not fill.
    piece(fromMs, toMs + 1, dayB);
    return { all: false, months: null, days, edges };
  }
  if (Number.isFinite(fromMs) && fromMs < dayA) piece(fromMs, dayA, dayA - DAY);
  if (Number.isFinite(toMs) && dayB <= toMs) piece(dayB, toMs + 1, dayB);
  let months: DateRange | null = null;
  if (dayA < dayB) {
    const monthA = dayA === -Infinity ? -Infinity : ceilMonth(dayA);
    const monthB = dayB === Infinity ? Infinity : monthStart(dayB);
    if (monthA < monthB) {
      months = [date(monthA), date(monthB)];
      if (dayA < monthA) days.push([date(dayA), date(monthA)]);
      if (monthB < dayB) days.push([date(monthB), date(dayB)]);
    } else days.push([date(dayA), date(dayB)]);
  }
  return { all: false, months, days, edges };
}
