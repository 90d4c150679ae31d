import { instantParameter } from './read-side.encoding';

// The board segments standing at an instant (GET /pipeline?asOf=), read through the index
// board_segments_standing (migration 11) instead of the GiST index of periods, which finds them
// but then reads a table page for nearly each one (~7,000 pages for ~15,000 segments at 1M events).
// Each segment is filed under a level and a block: the smallest aligned block of 2^level hours that
// holds its first and last hour (period_level, period_block, generated from valid_from and
// valid_to). A segment standing at t lies in the block of its level that holds t's hour, so the
// board at t reads one short run of the index per level, all of it from the index.

const HOUR_MS = 3_600_000;
/** Levels 0–63 are blocks of 2^level hours; 64 holds periods no such block holds (before and after 1970), 65 the open ones. */
export const PERIOD_LEVELS: readonly number[] = Array.from({ length: 66 }, (_, level) => level);

/** The block of each level that holds the hour of `atMs`: floor division by 2^level, what PostgreSQL's >> does to a bigint, negative hours included. */
export function blocksAt(atMs: number): number[] {
  const hour = Math.floor(atMs / HOUR_MS);
  return PERIOD_LEVELS.map((level) => (level >= 64 ? 0 : Math.floor(hour / 2 ** level)));
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
