import type { CohortsResult, VelocityResult, WaterfallResult } from '@stagecraft/contracts';
import { dayBoundary, localDay } from './format';

// The waterfall chart as plain bars, from GET /analytics/waterfall: the open count at `from`, one
// floating bar per bucket from the running count to the running count plus its change, the open
// count at `to`. Pure (no DOM); the figures table under the chart reads the same lines.

export const WATERFALL_DEFAULT_DAYS = 7;

const LABELS: Readonly<Record<string, string>> = {
  start: 'Open at start',
  created: 'Created',
  reopened: 'Reopened',
  movedIn: 'Moved in',
  amountIncreased: 'Amount up',
  amountDecreased: 'Amount down',
  movedOut: 'Moved out',
  won: 'Won',
  lost: 'Lost',
  end: 'Open at end',
  pushedOut: 'Close date pushed out',
  pulledIn: 'Close date pulled in',
};

export interface WaterfallLine {
  readonly key: string;
  readonly label: string;
  /** The bar: from `low` to `high` (counts); memos have none. */
  readonly bar: readonly [number, number] | null;
  /** The signed change of the count (start and end: the count). */
  readonly count: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  readonly kind: 'total' | 'up' | 'down' | 'memo';
}

export function waterfallLines(answer: WaterfallResult): WaterfallLine[] {
  let running = answer.start.count;
  const lines: WaterfallLine[] = [{ key: 'start', label: LABELS.start!, bar: [0, running], count: running, amountsByCurrency: answer.start.amountsByCurrency, kind: 'total' }];
  for (const change of answer.changes) {
    const next = running + change.count;
    lines.push({ key: change.bucket, label: LABELS[change.bucket] ?? change.bucket, bar: [running, next], count: change.count, amountsByCurrency: change.amountsByCurrency, kind: change.count < 0 ? 'down' : 'up' });
    running = next;
  }
  lines.push({ key: 'end', label: LABELS.end!, bar: [0, answer.end.count], count: answer.end.count, amountsByCurrency: answer.end.amountsByCurrency, kind: 'total' });
  for (const memo of answer.memos) lines.push({ key: memo.bucket, label: LABELS[memo.bucket] ?? memo.bucket, bar: null, count: memo.count, amountsByCurrency: memo.amountsByCurrency, kind: 'memo' });
  return lines;
}

/**
 * The period in the address (?waterfallFrom=&waterfallTo=, calendar days), else the last 7 days:
 * `today` (the rep's day, format.ts) and the 6 before it, both ends included, as the API's default
 * is the 7 × 24 hours up to now (from `to` − 7 days, both ends counted, was 8 days).
 */
export function waterfallPeriod(search: URLSearchParams, today: Date, timeZone?: string): { from: string; to: string } {
  const day = (value: string | null) => (value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : undefined);
  const to = day(search.get('waterfallTo')) ?? localDay(today, timeZone);
  const from = day(search.get('waterfallFrom')) ?? new Date(Date.parse(`${to}T00:00:00.000Z`) - (WATERFALL_DEFAULT_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  return { from, to };
}

/** The first instant the API takes (year 0001): nothing happened before it. */
const FIRST_INSTANT_MS = Date.parse('0001-01-01T00:00:00.000Z');

/**
 * The instants the waterfall and the velocity levers are asked for, for the period's whole days in
 * the rep's time zone. The API counts the changes in (from, to] (the start is the pipeline as it
 * stood at `from`), so `from` is the instant just before the first day begins: a deal created or won
 * at its very first instant (00:00:00.000, as a backfilled history often writes a day) is a change of
 * that day, not "open at start". `to` is the last instant of the last day.
 */
export function waterfallWindow(period: { readonly from: string; readonly to: string }, timeZone?: string): { from?: string; to?: string } {
  const first = dayBoundary(period.from, 'start', timeZone);
  const from = first === undefined ? undefined : new Date(Math.max(FIRST_INSTANT_MS, Date.parse(first) - 1)).toISOString();
  return { from, to: dayBoundary(period.to, 'end', timeZone) };
}

/** A team's velocity levers, one currency per line (the first currency of its wins; none: the levers without money). */
export interface VelocityLine {
  readonly key: string;
  readonly team: string;
  readonly opportunities: number;
  readonly winRate: number | null;
  readonly averageCycleDays: number | null;
  readonly currency: string | null;
  readonly averageWonAmount: number | null;
  readonly velocity: number | null;
}

export function velocityLines(answer: VelocityResult): VelocityLine[] {
  return (answer.groups ?? []).flatMap((group): VelocityLine[] => {
    const team = group.key ?? 'No team';
    const base = { team, opportunities: group.opportunities, winRate: group.winRate, averageCycleDays: group.averageCycleDays };
    const currencies = Object.keys(group.averageWonAmountsByCurrency);
    if (currencies.length === 0) return [{ key: `${group.key ?? ''}|`, ...base, currency: null, averageWonAmount: null, velocity: null }];
    return currencies.map((currency) => ({ key: `${group.key ?? ''}|${currency}`, ...base, currency, averageWonAmount: group.averageWonAmountsByCurrency[currency]!, velocity: group.velocityByCurrency[currency] ?? null }));
  });
}

/** A cohort of the chosen process: opened, reached per stage (in the answer's order), won, median days to win. */
export interface CohortLine {
  readonly cohort: string;
  readonly opened: number;
  readonly reached: readonly number[];
  readonly won: number;
  readonly medianDaysToWin: number | null;
}

export function cohortLines(answer: CohortsResult, processId: string): { stages: string[]; lines: CohortLine[] } {
  const stages = answer.cohorts.flatMap((cohort) => cohort.processes.find((process) => process.processId === processId)?.stages.map((stage) => stage.stageId) ?? []);
  const order = [...new Set(stages)];
  const lines = answer.cohorts.map((cohort) => {
    const process = cohort.processes.find((candidate) => candidate.processId === processId);
    return {
      cohort: cohort.cohort,
      opened: cohort.opened,
      reached: order.map((stageId) => process?.stages.find((stage) => stage.stageId === stageId)?.reached ?? 0),
      won: process?.won ?? 0,
      medianDaysToWin: cohort.medianDaysToWin,
    };
  });
  return { stages: order, lines };
}
