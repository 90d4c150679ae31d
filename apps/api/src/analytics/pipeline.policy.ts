import type { ClosedWindow } from '@stagecraft/projections';
import { FIRST_INSTANT_MS, parseInstant, parseLowerBound } from '@stagecraft/opportunity';

// What the pipeline endpoint takes when a query leaves it open, and the most it lists: policy of
// the screens that ask (the board shows the deals closed in the last 30 days), kept here, at the
// query layer, so the read model only ever answers exactly what it is asked.

/** The board's Won and Lost columns: the deals closed in this many days up to now. */
export const CLOSED_DEFAULT_DAYS = 30;
/** Closed cards listed per outcome and process unless asked otherwise. */
export const CLOSED_DEFAULT_LIMIT = 50;
export const CLOSED_MAX_LIMIT = 500;
/** The most cards a stage column lists in one answer. */
export const CARDS_PER_COLUMN_MAX = 1000;
/**
 * Cards a stage column lists when include=opportunities names no cardsPerColumn (the board's own
 * number): uncapped, one column of 40k deals made an answer of tens of megabytes on the event loop.
 * A capped column says how many it left out (opportunitiesOmitted), so a client sees the cut.
 */
export const CARDS_PER_COLUMN_DEFAULT = 100;

/** Rotting deals listed unless asked otherwise, and the most one answer lists. */
export const ROTTING_DEFAULT_LIMIT = 100;
export const ROTTING_MAX_LIMIT = 1000;

/** Deals GET /opportunities?q= lists unless asked otherwise, the most one answer lists, and the longest text it takes. */
export const SEARCH_DEFAULT_LIMIT = 20;
export const SEARCH_MAX_LIMIT = 100;
export const SEARCH_TEXT_MAX_LENGTH = 200;

/** The waterfall's drill-down: changes listed in one answer, at most and by default (then ?fromChange= for the rest). */
export const WATERFALL_CHANGES_MAX = 10_000;

const DAY_MS = 86_400_000;

/** The waterfall's period when a query leaves it open: the last 7 days up to now (the Monday question). */
export const WATERFALL_DEFAULT_DAYS = 7;

/**
 * The waterfall's instants: `to` defaults to now, `from` to WATERFALL_DEFAULT_DAYS days before `to`
 * but never before the first instant there is (as the closed window's): the answer echoes `from`,
 * and a `0000-12-27…` it wrote would be an instant no route takes back. Both ends are states at an
 * instant (changes in (from, to]), so both are the millisecond they fall in: the state at …00.0005Z
 * is the one at …00.000Z, and a change at …00.000Z is not after it (not parseLowerBound's rounding up).
 */
export function waterfallPeriodOf(asked: { readonly from?: string; readonly to?: string }, now: Date): { fromMs: number; toMs: number } {
  const toMs = asked.to === undefined ? now.getTime() : parseInstant(asked.to)!;
  return { fromMs: asked.from === undefined ? Math.max(FIRST_INSTANT_MS, toMs - WATERFALL_DEFAULT_DAYS * DAY_MS) : parseInstant(asked.from)!, toMs };
}

/**
 * The closed window a query stands for: `to` defaults to now, `from` to CLOSED_DEFAULT_DAYS days
 * before `to`, the limit to CLOSED_DEFAULT_LIMIT. Instants were validated by the DTO. Both ends are
 * inclusive, in whole milliseconds: `from` the first at or after the instant asked (…00.0005Z is
 * …00.001Z, not the …00.000Z it would be truncated to), `to` the one it falls in.
 */
export function closedWindowOf(asked: { readonly from?: string; readonly to?: string; readonly limit?: number }, now: Date): ClosedWindow {
  const toMs = asked.to === undefined ? now.getTime() : parseInstant(asked.to)!;
  // The default window starts 30 days before its end, but never before the first instant there is.
  const fromMs = asked.from === undefined ? Math.max(FIRST_INSTANT_MS, toMs - CLOSED_DEFAULT_DAYS * DAY_MS) : parseLowerBound(asked.from)!;
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), limit: asked.limit ?? CLOSED_DEFAULT_LIMIT };
}

/**
 * Forecast accuracy compares the forecast as it stood at each period's first instant (00:00 UTC)
 * with what was won in it. A period whose first instant is still ahead has no such forecast yet:
 * the read side, asked about an instant to come, answers with the deals as they stand now, which
 * the answer would have shown as "forecast on the 1st" (and nothing won) for next month, next
 * quarter, or a deal dated 9999. Those periods are left out until they begin.
 */
export function begunPeriods<Period extends { readonly from: string }>(periods: readonly Period[], now: Date): Period[] {
  return periods.filter((period) => Date.parse(`${period.from}T00:00:00Z`) <= now.getTime());
}
