// How a period [fromMs, toMs] (inclusive, whole milliseconds) of stage visits' ends is covered by
// the month rows of stage_duration_month_buckets (UTC calendar months) and the visits themselves
// at either end: whole months inside the period from their rows; the piece of a month at either
// end from the visits of that piece, or, when the rest of that month is shorter, from the month's
// row less the visits of the rest (a period to 23:59:59 on the last day of a month reads that last
// second, not the whole month). So the visits read are at most half a month's at each end, and
// none for a period of whole months.

/** Month starts 'YYYY-MM-DD' of a month row counted (+1); edges [from, to) ms of visits added (+1) or taken away (-1). */
export interface MonthCover {
  /** Half-open ranges of month starts [from, to) (null: unbounded on that side). */
  readonly months: readonly (readonly [string | null, string | null])[];
  readonly edges: readonly (readonly [from: number, to: number, sign: 1 | -1])[];
}

const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/**
 * The first millisecond of the UTC month `months` after the one holding `ms`. Not Date.UTC, which
 * reads years 0–99 as 1900–1999: a business time in year 0026 (accepted from year 0001) would have
 * its month start in 1926.
 */
export function utcMonthStart(ms: number, months = 0): number {
  const d = new Date(ms);
  const start = new Date(0);
  start.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  return start.getTime();
}
const monthStart = (ms: number) => utcMonthStart(ms);
const nextMonth = (start: number) => utcMonthStart(start, 1);
/** Instants a timestamptz holds and toISOString prints as YYYY (years 1 to 9999), a month to spare. */
const inRange = (ms: number) => ms >= -62135596800000 + 31 * 86_400_000 && ms <= 253402300799999 - 31 * 86_400_000;

/** The cover of [fromMs, toMs] (±Infinity: unbounded); undefined when a bound is not a whole millisecond a month row can say (then the visits answer). */
export function monthCover(fromMs: number, toMs: number): MonthCover | undefined {
  for (const bound of [fromMs, toMs]) if (Number.isNaN(bound) || (Number.isFinite(bound) && (!Number.isInteger(bound) || !inRange(bound)))) return undefined;
  if (fromMs > toMs || toMs === -Infinity || fromMs === Infinity) return { months: [], edges: [] };
  const months: [string | null, string | null][] = [];
  const edges: [number, number, 1 | -1][] = [];
  const end = toMs + 1; // exclusive
  /** [from, to) within the month that starts at `start`: the piece itself, or the month less the rest, whichever reads less. */
  const piece = (from: number, to: number, start: number) => {
    const after = nextMonth(start);
    if (to - from <= after - start - (to - from)) edges.push([from, to, 1]);
    else {
      months.push([dateOf(start), dateOf(after)]);
      if (start < from) edges.push([start, from, -1]);
      if (to < after) edges.push([to, after, -1]);
    }
  };
  // Whole months [a, b): from the first month start at or after fromMs to the start of the month holding `end`.
  const a = Number.isFinite(fromMs) ? (monthStart(fromMs) === fromMs ? fromMs : nextMonth(monthStart(fromMs))) : -Infinity;
  const b = Number.isFinite(toMs) ? monthStart(end) : Infinity;
  if (a > b) {
    // From and to within one month, which the period does not fill.
    piece(fromMs, end, b);
    return { months, edges };
  }
  if (Number.isFinite(fromMs) && fromMs < a) piece(fromMs, a, monthStart(fromMs));
  if (Number.isFinite(toMs) && b < end) piece(b, end, b);
  if (a < b) months.push([Number.isFinite(a) ? dateOf(a) : null, Number.isFinite(b) ? dateOf(b) : null]);
  return { months: joined(months), edges };
}

/** Ranges of months that meet made one (one range of the index instead of two); they never overlap. */
function joined(ranges: [string | null, string | null][]): [string | null, string | null][] {
  const sorted = [...ranges].sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const out: [string | null, string | null][] = [];
  for (const range of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] !== null && last[1] === range[0]) last[1] = range[1];
    else out.push([range[0], range[1]]);
  }
  return out;
}
