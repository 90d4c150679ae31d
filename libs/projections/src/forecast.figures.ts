import type { ForecastAccuracyPeriod, ForecastAccuracyResult, ForecastMoney, ForecastOpen, ForecastPeriod, ForecastPeriodKind, ForecastResult, RottingOpportunity, RottingResult } from '@stagecraft/contracts';
import { calendarDateOf, requireInstant } from '@stagecraft/opportunity';
import { ExactSum, unitsOf } from './exact-amounts';
import { compareIds } from './process-catalog';
import { dictionary, NO_CURRENCY } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';

// The figures of the forecast, its accuracy and the rotting list, added up from rows that a read
// side hands over in its own order: the in-memory segments (stage-intervals.projection.ts) or the
// PostgreSQL rows (board_segments, outcomes) in the order of the positions that made them. Both
// adapters feed the same rows in the same order to these accumulators, so they answer the same
// JSON to the last bit of every float (amounts add exactly, weighted amounts as floats in that order).
//
// Periods are of calendar days: an expected close date is a day; a win falls in the period of its
// UTC day. Money is never added across currencies: every sum is per currency (NO_CURRENCY for an
// amount without one), keys in code-unit order; a deal without an amount is counted, adds nothing.

export const DAY_MS = 86_400_000;

/** A period: its key (2026-06, 2026-Q2) and its first and last day numbers. */
export interface PeriodOf {
  readonly key: string;
  readonly fromDay: number;
  readonly toDay: number;
}

export function periodOf(day: number, kind: ForecastPeriodKind): PeriodOf {
  const date = new Date(day * DAY_MS);
  const year = date.getUTCFullYear();
  const firstMonth = kind === 'month' ? date.getUTCMonth() : Math.floor(date.getUTCMonth() / 3) * 3;
  const months = kind === 'month' ? 1 : 3;
  const start = new Date(0);
  start.setUTCFullYear(year, firstMonth, 1);
  const end = new Date(0);
  end.setUTCFullYear(year, firstMonth + months, 1);
  const yyyy = String(year).padStart(4, '0');
  return {
    key: kind === 'month' ? `${yyyy}-${String(firstMonth + 1).padStart(2, '0')}` : `${yyyy}-Q${firstMonth / 3 + 1}`,
    fromDay: Math.round(start.getTime() / DAY_MS),
    toDay: Math.round(end.getTime() / DAY_MS) - 1,
  };
}

/** The days a forecast covers: from/to instants (UTC days, inclusive); unbounded without them. */
export interface DayRange {
  readonly fromDay: number;
  readonly toDay: number;
}

/**
 * The UTC days from/to fall in. Not parseFilter's milliseconds: its `from` is the first whole
 * millisecond at or after the instant, and …-31T23:59:59.9995Z, which falls on the 31st, would
 * start the forecast on the 1st.
 */
export function forecastDaysOf(filter: Pick<AnalyticsFilter, 'from' | 'to'>): DayRange {
  return {
    fromDay: filter.from === undefined ? -Infinity : Math.floor(requireInstant(filter.from, 'from') / DAY_MS),
    toDay: filter.to === undefined ? Infinity : Math.floor(requireInstant(filter.to, 'to') / DAY_MS),
  };
}
const inRange = (range: DayRange, day: number) => day >= range.fromDay && day <= range.toDay;

/** A count and its money per currency: amounts summed exactly (exact-amounts.ts), weighted ones as floats in the order added. */
class Money {
  count = 0;
  readonly amounts = new Map<string, ExactSum>();
  readonly weighted = dictionary<number>();

  add(amount: number, currency: string | null, probability?: number): void {
    this.count++;
    if (Number.isNaN(amount)) return;
    const key = currency ?? NO_CURRENCY;
    let sum = this.amounts.get(key);
    if (!sum) this.amounts.set(key, (sum = new ExactSum()));
    sum.add(unitsOf(amount));
    if (probability !== undefined) this.weighted[key] = (this.weighted[key] ?? 0) + (amount * probability) / 100;
  }

  money(): ForecastMoney {
    return { count: this.count, amountsByCurrency: this.amountsByCurrency() };
  }

  open(): ForecastOpen {
    return { count: this.count, amountsByCurrency: this.amountsByCurrency(), weightedAmountsByCurrency: sorted(this.weighted) };
  }

  private amountsByCurrency(): Record<string, number> {
    const result = dictionary<number>();
    for (const key of [...this.amounts.keys()].sort(compareIds)) result[key] = this.amounts.get(key)!.value();
    return result;
  }
}

function sorted(sums: Record<string, number>): Record<string, number> {
  const result = dictionary<number>();
  for (const key of Object.keys(sums).sort(compareIds)) result[key] = sums[key]!;
  return result;
}

/**
 * The periods (month or quarter) figures fall in, made on first use and listed in time order; a day
 * outside the asked range has no slot. Shared by the forecast and its accuracy.
 */
class PeriodSlots<Slot> {
  private readonly slots = new Map<string, { period: PeriodOf; slot: Slot }>();

  constructor(
    readonly kind: ForecastPeriodKind,
    private readonly range: DayRange,
    private readonly emptySlot: () => Slot,
  ) {}

  /** The slot of the period `day` falls in, or undefined when the day is outside the range. */
  at(day: number): Slot | undefined {
    if (!inRange(this.range, day)) return undefined;
    const period = periodOf(day, this.kind);
    let entry = this.slots.get(period.key);
    if (!entry) this.slots.set(period.key, (entry = { period, slot: this.emptySlot() }));
    return entry.slot;
  }

  inOrder(): { period: PeriodOf; slot: Slot }[] {
    return [...this.slots.values()].sort((a, b) => a.period.fromDay - b.period.fromDay);
  }
}

/** Open deals by expected close day and wins by closing time, for GET /analytics/forecast. */
export class ForecastFigures {
  private readonly periods: PeriodSlots<{ open: Money; won: Money }>;
  private readonly withoutDate = new Money();

  constructor(kind: ForecastPeriodKind, range: DayRange) {
    this.periods = new PeriodSlots(kind, range, () => ({ open: new Money(), won: new Money() }));
  }

  /** An open deal; `expectedDay` undefined: none. `amount` NaN: none. */
  addOpen(expectedDay: number | undefined, amount: number, probability: number, currency: string | null): void {
    if (expectedDay === undefined) this.withoutDate.add(amount, currency, probability);
    else this.periods.at(expectedDay)?.open.add(amount, currency, probability);
  }

  addWon(closedMs: number, amount: number, currency: string | null): void {
    if (!Number.isFinite(closedMs)) return;
    this.periods.at(Math.floor(closedMs / DAY_MS))?.won.add(amount, currency);
  }

  result(asOf: string | null): ForecastResult {
    return {
      period: this.periods.kind,
      asOf,
      periods: this.periods.inOrder().map(({ period, slot: { open, won } }): ForecastPeriod => ({ period: period.key, from: calendarDateOf(period.fromDay), to: calendarDateOf(period.toDay), open: open.open(), won: won.money() })),
      withoutDate: this.withoutDate.open(),
    };
  }
}

/**
 * What was forecast at each period's start against what was won in it. The caller hands over,
 * per deal, the segment that stood at the start of the period its expected date falls in (see
 * `standsAtPeriodStart`), and every win that still stands.
 */
export class ForecastAccuracyFigures {
  private readonly periods: PeriodSlots<{ forecast: Money; won: Money; forecastIds: Set<string>; wonIds: Set<string> }>;

  constructor(kind: ForecastPeriodKind, range: DayRange) {
    this.periods = new PeriodSlots(kind, range, () => ({ forecast: new Money(), won: new Money(), forecastIds: new Set<string>(), wonIds: new Set<string>() }));
  }

  addForecast(opportunityId: string, expectedDay: number, amount: number, probability: number, currency: string | null): void {
    const slot = this.periods.at(expectedDay);
    if (!slot) return;
    slot.forecast.add(amount, currency, probability);
    slot.forecastIds.add(opportunityId);
  }

  addWon(opportunityId: string, closedMs: number, amount: number, currency: string | null): void {
    if (!Number.isFinite(closedMs)) return;
    const slot = this.periods.at(Math.floor(closedMs / DAY_MS));
    if (!slot) return;
    slot.won.add(amount, currency);
    slot.wonIds.add(opportunityId);
  }

  result(): ForecastAccuracyResult {
    return {
      period: this.periods.kind,
      periods: this.periods.inOrder().map(({ period, slot: { forecast, won, forecastIds, wonIds } }): ForecastAccuracyPeriod => {
        let forecastWon = 0;
        for (const id of forecastIds) if (wonIds.has(id)) forecastWon++;
        return { period: period.key, from: calendarDateOf(period.fromDay), to: calendarDateOf(period.toDay), forecast: forecast.open(), won: won.money(), forecastWon };
      }),
    };
  }
}

/** The first instant (ms, 00:00 UTC) of the period a day falls in. */
export const periodStartMs = (day: number, kind: ForecastPeriodKind): number => periodOf(day, kind).fromDay * DAY_MS;

/** Whether a segment [startMs, endMs) stood at the first instant of the period its expected day falls in. */
export function standsAtPeriodStart(startMs: number, endMs: number, expectedDay: number, kind: ForecastPeriodKind): boolean {
  const at = periodStartMs(expectedDay, kind);
  return startMs <= at && at < endMs;
}

/** A deal that may be rotting: everything its line shows. */
export interface RottingCandidate extends Omit<RottingOpportunity, 'daysInStage' | 'rotAfterDays' | 'stageEnteredAt'> {
  readonly enteredMs: number;
  /** The stage's rotAfterDays; null: it never rots. */
  readonly rotAfterDays: number | null | undefined;
}

/** Open deals longer in their stage than its rotAfterDays at `atMs`, longest first (ties by id). */
export class RottingList {
  private readonly rotting: RottingCandidate[] = [];

  constructor(private readonly atMs: number) {}

  add(candidate: RottingCandidate): void {
    const { rotAfterDays, enteredMs } = candidate;
    if (rotAfterDays === null || rotAfterDays === undefined || !Number.isFinite(enteredMs)) return;
    if (this.atMs - enteredMs > rotAfterDays * DAY_MS) this.rotting.push(candidate);
  }

  result(limit: number): RottingResult {
    const all = this.rotting.sort((a, b) => a.enteredMs - b.enteredMs || compareIds(a.id, b.id));
    return {
      at: new Date(this.atMs).toISOString(),
      count: all.length,
      opportunities: all.slice(0, limit).map(({ enteredMs, rotAfterDays, ...line }) => ({
        id: line.id,
        title: line.title,
        processId: line.processId,
        stageId: line.stageId,
        stageEnteredAt: new Date(enteredMs).toISOString(),
        daysInStage: Math.floor((this.atMs - enteredMs) / DAY_MS),
        rotAfterDays: rotAfterDays!,
        ownerId: line.ownerId,
        teamId: line.teamId,
        amount: line.amount,
        currency: line.currency,
        expectedCloseDate: line.expectedCloseDate,
      })),
    };
  }
}
