// Median and p90 over durations kept in ascending order (stage-durations keeps them sorted).
//
// Median: the middle value for odd n, the mean of the two middle values for even n.
// p90: nearest rank, the smallest value with at least 90 % of the values ≤ it, i.e.
// sorted[ceil(0.9·n) − 1], with ceil(0.9·n) computed exactly in integers as ⌊(9n + 9) / 10⌋
// (0.9·n in floating point is not exact).

/** 0-based index of the nearest-rank p90 among n ≥ 1 sorted values. */
export const p90Index = (n: number): number => Math.floor((9 * n + 9) / 10) - 1;

/** Median of sorted[0, n), n ≥ 1. */
export function medianOfSorted(sorted: Float64Array, n: number): number {
  const middle = n >> 1;
  return n % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
