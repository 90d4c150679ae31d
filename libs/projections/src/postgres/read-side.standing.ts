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
