import { instantParameter } from './read-side.encoding';

// The board segments standing at an instant (GET /pipeline?asOf=), read through the index
// board_segments_standing (migration 11) instead of the GiST index of periods, which finds them
// but then reads a table page for nearly each one (~7,000 pages for ~15,000 segments at 1M events).
// Each segment is filed under a level and a block: the smallest aligned block of 2^level hours that
// holds its first and last hour (period_level, period_block, written by the writer with valid_from and
// valid_to). A segment standing at t lies in the block of its level that holds t's hour, so the
// board at t reads one short run of the index per level, all of it from the index.

const HOUR_MS = 3_600_000;
/** Levels 0–63 are blocks of 2^level hours; 64 holds periods no such block holds (before and after 1970), 65 the open ones. */
export const PERIOD_LEVELS: readonly number[] = Array.from({ length: 66 }, (_, level) => level);

/** Whole hours since 1970 of an instant in whole milliseconds, rounded down (negative before 1970), without the rounding a division of large numbers may do. */
const hourOf = (ms: number): number => {
  const into = ((ms % HOUR_MS) + HOUR_MS) % HOUR_MS;
  return (ms - into) / HOUR_MS;
};

/** The block of each level that holds the hour of `atMs`: floor division by 2^level, what PostgreSQL's >> does to a bigint, negative hours included. */
export function blocksAt(atMs: number): number[] {
  const hour = hourOf(atMs);
  return PERIOD_LEVELS.map((level) => (level >= 64 ? 0 : Math.floor(hour / 2 ** level)));
}

export interface PeriodFiling {
  readonly level: number | null;
  readonly block: number | null;
}

const NOWHERE: PeriodFiling = { level: null, block: null };
const OPEN: PeriodFiling = { level: 65, block: 0 };

/**
 * Where board_segments_standing files the period [fromMs, toMs) (whole milliseconds, as the writer
 * stores them; null or not finite: none): the writer stores it in period_level and period_block
 * instead of PostgreSQL computing it for every row written (as generated columns it cost ~10 µs of
 * server CPU a row). The same as the SQL functions period_level and period_block (migration 11):
 * its first hour is that of fromMs, its last the hour of its last microsecond (toMs - 0.001 ms,
 * the same hour as toMs - 1 ms at whole milliseconds); the level is the bit length of their XOR as
 * bigints, 64 when they differ in sign (one before 1970, one after); the block is the first hour
 * shifted right by the level. No start: nowhere (a segment without a start stands nowhere); open:
 * level 65; ending at or before its start: level 0, the block of its start.
 */
export function periodFiling(fromMs: number | null, toMs: number | null): PeriodFiling {
  if (fromMs === null || !Number.isFinite(fromMs)) return NOWHERE;
  if (toMs === null || !Number.isFinite(toMs)) return OPEN;
  // What is stored: toISOString drops a fraction of a millisecond (towards 1970).
  fromMs = Math.trunc(fromMs);
  toMs = Math.trunc(toMs);
  const first = hourOf(fromMs);
  if (toMs <= fromMs) return { level: 0, block: first };
  const last = hourOf(toMs - 1);
  if (first < 0 !== last < 0) return { level: 64, block: 0 };
  // Same sign: the bits above the level agree exactly when both shift right to the same block.
  let level = 0;
  let block = first;
  for (let scale = 1; block !== Math.floor(last / scale); ) {
    level += 1;
    scale *= 2;
    block = Math.floor(first / scale);
  }
  return { level, block };
}

/**
 * The condition (on board_segments' own columns) that keeps the segments standing at `atMs`:
 * valid_from <= t < valid_to (valid_to null: still so), as `tstzrange(valid_from, valid_to) @> t`
 * says, except that a segment without a start stands nowhere, as in memory (its start is NaN there).
 * `param` numbers each value as a parameter of the statement.
 */
export function standingAt(atMs: number, param: (value: unknown) => string): string {
  const at = param(instantParameter(atMs));
  return [
    `(period_level, period_block) IN (SELECT * FROM unnest(${param(PERIOD_LEVELS)}::int[], ${param(blocksAt(atMs))}::bigint[]))`,
    `valid_from <= ${at}::timestamptz`,
    `(valid_to IS NULL OR valid_to > ${at}::timestamptz)`,
  ].join(' AND ');
}

/**
 * The (level, block) runs of the index that hold the segments standing at `atMs`, split by which
 * bound still has to be compared. A segment filed at a level L of 1 to 63 straddles the middle of
 * its block: its first hour lies before the hour M = block × 2^L + 2^(L-1), its last hour at or
 * after it (they differ first in bit L - 1). So when t's hour lies before M, every segment of t's
 * block at that level ends after t, and those standing are those that started by t (the run of
 * board_segments_standing, by valid_from); when t's hour is M or later, every one started before
 * t, and those standing are those that end after t (the run of board_segments_standing_ends, by
 * valid_to, migration 13). Either way the walk reads only segments that stand at t, where one index
 * by valid_from read as many again that had ended (~20,000 of ~35,000 at 1M events). Levels 0
 * (one hour), 64 (across 1970) and 65 (open) compare both bounds, by valid_from.
 */
export function standingRuns(atMs: number): { starts: { levels: number[]; blocks: number[] }; ends: { levels: number[]; blocks: number[] } } {
  const blocks = blocksAt(atMs);
  const hour = hourOf(atMs);
  const starts = { levels: [] as number[], blocks: [] as number[] };
  const ends = { levels: [] as number[], blocks: [] as number[] };
  for (const level of PERIOD_LEVELS) {
    const block = blocks[level]!;
    // The middle hour of t's block at this level; 2^62 and 2^63 hours are beyond any stored instant (t's block there is 0 or -1).
    const laterHalf = level >= 1 && level <= 63 && hour - block * 2 ** level >= 2 ** (level - 1);
    const runs = laterHalf ? ends : starts;
    runs.levels.push(level);
    runs.blocks.push(block);
  }
  return { starts, ends };
}

/**
 * The segments standing at `atMs` (as standingAt keeps them) that also meet `filters` (conditions on
 * board_segments' columns, already numbered), as a union of the two walks of standingRuns: the
 * `columns` of each, for a FROM clause. `param` numbers each value as a parameter of the statement.
 */
export function standingSegments(schema: string, columns: string, atMs: number, filters: readonly string[], param: (value: unknown) => string): string {
  const at = param(instantParameter(atMs));
  const { starts, ends } = standingRuns(atMs);
  const runs = ({ levels, blocks }: { levels: number[]; blocks: number[] }) =>
    `(period_level, period_block) IN (SELECT * FROM unnest(${param(levels)}::int[], ${param(blocks)}::bigint[]))`;
  const byStart = [...filters, runs(starts), `valid_from <= ${at}::timestamptz`, `(valid_to IS NULL OR valid_to > ${at}::timestamptz)`];
  // period_level between 1 and 63 says so to the planner: board_segments_standing_ends holds only those levels.
  const byEnd = [...filters, runs(ends), 'period_level BETWEEN 1 AND 63', `valid_to > ${at}::timestamptz`];
  return `SELECT ${columns} FROM ${schema}.board_segments WHERE ${byStart.join(' AND ')}
    UNION ALL SELECT ${columns} FROM ${schema}.board_segments WHERE ${byEnd.join(' AND ')}`;
}
