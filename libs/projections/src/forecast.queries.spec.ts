import fc from 'fast-check';
import { foldOpportunity, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { queryForecast, queryForecastAccuracy, queryForecastAsOf, queryRotting, queryRottingAsOf } from './forecast.queries';
import type { AnalyticsFilter, ProjectedEvent } from './projection.types';
import { stageIntervalsProjection } from './stage-intervals.projection';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { EPOCH, filterArbitraryFor, historyArbitrary, historyWith, instantArbitraryFor, SPAN_MS, type GeneratedHistory } from './testing/history.arbitrary';
import { definitionOf, expectApproxEqual, readLog, type OracleLog } from './testing/history.oracle';
import { project } from './testing/project';

// Brute force for the forecast, its accuracy and rotting deals: fold each opportunity's events up
// to the instant (its as-of state) and add up what stood then, with plain date-string arithmetic.
// Seeds are fast-check's: a failure prints its seed and path, replayable with { seed, path }.

const DAY = 86_400_000;
type Kind = 'month' | 'quarter';

const stateAt = (events: readonly ProjectedEvent[], atMs: number): OpportunityState =>
  foldOpportunity(events.filter((e) => Date.parse(String(e.data.occurredAt)) <= atMs).map((e) => ({ type: e.type, data: e.data }) as OpportunityEvent));

/** The period of a YYYY-MM-DD date: key, first and last day. */
function periodOfDate(date: string, kind: Kind): { key: string; from: string; to: string } {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const first = kind === 'month' ? month : Math.floor((month - 1) / 3) * 3 + 1;
  const span = kind === 'month' ? 1 : 3;
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    key: kind === 'month' ? date.slice(0, 7) : `${date.slice(0, 4)}-Q${(first - 1) / 3 + 1}`,
    from: iso(Date.UTC(year, first - 1, 1)),
    to: iso(Date.UTC(year, first - 1 + span, 1) - DAY),
  };
}

const dayText = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString().slice(0, 10);
const inDays = (date: string, filter: AnalyticsFilter) =>
  (filter.from === undefined || date >= dayText(Date.parse(filter.from))) && (filter.to === undefined || date <= dayText(Date.parse(filter.to)));
const matches = (s: OpportunityState, filter: AnalyticsFilter) =>
  s.status !== 'none' && (filter.processId === undefined || s.processId === filter.processId) && (filter.teamId === undefined || s.teamId === filter.teamId) && (filter.ownerId === undefined || s.ownerId === filter.ownerId);

function money() {
  return { count: 0, amountsByCurrency: {} as Record<string, number>, weightedAmountsByCurrency: {} as Record<string, number> };
}
function add(into: ReturnType<typeof money>, amount: number | undefined, currency: string | undefined, probability?: number) {
  into.count++;
  if (amount === undefined) return;
  const key = currency ?? 'unspecified';
  into.amountsByCurrency[key] = (into.amountsByCurrency[key] ?? 0) + amount;
  if (probability !== undefined) into.weightedAmountsByCurrency[key] = (into.weightedAmountsByCurrency[key] ?? 0) + (amount * probability) / 100;
}
const probabilityOf = (log: OracleLog, s: OpportunityState & { status: 'open' }) => definitionOf(log, s.processId, s.processVersion).stages.find((stage) => stage.id === s.stage)!.probability;
const wonAmountOf = (events: readonly ProjectedEvent[], s: OpportunityState & { status: 'won' }) => {
  const win = events.filter((e) => e.type === 'OpportunityWon').at(-1)!;
  return typeof win.data.amount === 'number' ? win.data.amount : s.amount;
};

function forecastOracle(events: readonly ProjectedEvent[], atMs: number, filter: AnalyticsFilter, kind: Kind) {
  const log = readLog(events);
  const periods = new Map<string, { period: string; from: string; to: string; open: ReturnType<typeof money>; won: { count: number; amountsByCurrency: Record<string, number> } }>();
  const slot = (date: string) => {
    const p = periodOfDate(date, kind);
    if (!periods.has(p.key)) periods.set(p.key, { period: p.key, from: p.from, to: p.to, open: money(), won: { count: 0, amountsByCurrency: {} } });
    return periods.get(p.key)!;
  };
  const withoutDate = money();
  for (const o of log.opportunities) {
    const s = stateAt(o.events, atMs);
    if (!matches(s, filter)) continue;
    if (s.status === 'open') {
      if (s.expectedCloseDate === undefined) add(withoutDate, s.amount, s.currency, probabilityOf(log, s));
      else if (inDays(s.expectedCloseDate, filter)) add(slot(s.expectedCloseDate).open, s.amount, s.currency, probabilityOf(log, s));
    } else if (s.status === 'won') {
      const day = dayText(Date.parse(s.closedAt));
      if (inDays(day, filter)) {
        const won = slot(day).won;
        const amount = wonAmountOf(o.events.filter((e) => Date.parse(String(e.data.occurredAt)) <= atMs), s);
        won.count++;
        if (amount !== undefined) won.amountsByCurrency[s.currency ?? 'unspecified'] = (won.amountsByCurrency[s.currency ?? 'unspecified'] ?? 0) + amount;
      }
    }
  }
  return { periods: [...periods.values()].sort((a, b) => (a.from < b.from ? -1 : 1)), withoutDate };
}

function accuracyOracle(events: readonly ProjectedEvent[], filter: AnalyticsFilter, kind: Kind) {
  const log = readLog(events);
  const periods = new Map<string, { period: string; from: string; to: string; forecast: ReturnType<typeof money>; won: { count: number; amountsByCurrency: Record<string, number> }; ids: Set<string>; wonIds: Set<string> }>();
  const slot = (date: string) => {
    const p = periodOfDate(date, kind);
    if (!periods.has(p.key)) periods.set(p.key, { period: p.key, from: p.from, to: p.to, forecast: money(), won: { count: 0, amountsByCurrency: {} }, ids: new Set(), wonIds: new Set() });
    return periods.get(p.key)!;
  };
  for (const o of log.opportunities) {
    // Every period start any of its dates points to: what stood then, if it expected to close in that period.
    const starts = new Set(o.events.flatMap((e) => (e.type === 'ExpectedCloseDateChanged' && typeof e.data.to === 'string' ? [periodOfDate(e.data.to, kind).from] : [])));
    for (const start of starts) {
      const s = stateAt(o.events, Date.parse(`${start}T00:00:00Z`));
      if (s.status !== 'open' || !matches(s, filter) || s.expectedCloseDate === undefined) continue;
      if (periodOfDate(s.expectedCloseDate, kind).from !== start || !inDays(s.expectedCloseDate, filter)) continue;
      const p = slot(s.expectedCloseDate);
      add(p.forecast, s.amount, s.currency, probabilityOf(log, s));
      p.ids.add(o.id);
    }
    const now = stateAt(o.events, Infinity);
    if (now.status === 'won' && matches(now, filter)) {
      const day = dayText(Date.parse(now.closedAt));
      if (!inDays(day, filter)) continue;
      const p = slot(day);
      const amount = wonAmountOf(o.events, now);
      p.won.count++;
      if (amount !== undefined) p.won.amountsByCurrency[now.currency ?? 'unspecified'] = (p.won.amountsByCurrency[now.currency ?? 'unspecified'] ?? 0) + amount;
      p.wonIds.add(o.id);
    }
  }
  return [...periods.values()]
    .sort((a, b) => (a.from < b.from ? -1 : 1))
    .map(({ ids, wonIds, ...figures }) => ({ ...figures, forecastWon: [...ids].filter((id) => wonIds.has(id)).length }));
}

function rottingOracle(events: readonly ProjectedEvent[], atMs: number, stateMs: number, filter: AnalyticsFilter, limit: number) {
  const log = readLog(events);
  const rotAfter = (processId: string, stageId: string) =>
    log.versions.filter((v) => v.processId === processId).map((v) => v.definition.stages.find((s) => s.id === stageId)).filter((s) => s !== undefined).at(-1)?.rotAfterDays;
  const rotting = log.opportunities.flatMap((o) => {
    const s = stateAt(o.events, stateMs);
    if (s.status !== 'open' || !matches(s, filter)) return [];
    const days = rotAfter(s.processId, s.stage);
    const entered = Date.parse(s.stageEnteredAt);
    if (days === undefined || !(atMs - entered > days * DAY)) return [];
    return [{ id: s.id, title: s.title, processId: s.processId, stageId: s.stage, stageEnteredAt: new Date(entered).toISOString(), daysInStage: Math.floor((atMs - entered) / DAY), rotAfterDays: days, ownerId: s.ownerId ?? null, teamId: s.teamId ?? null, amount: s.amount ?? null, currency: s.currency ?? null, expectedCloseDate: s.expectedCloseDate ?? null }];
  });
  rotting.sort((a, b) => Date.parse(a.stageEnteredAt) - Date.parse(b.stageEnteredAt) || (a.id < b.id ? -1 : 1));
  return { at: new Date(atMs).toISOString(), count: rotting.length, opportunities: rotting.slice(0, limit) };
}

const instantArbitrary = fc.integer({ min: EPOCH - DAY, max: EPOCH + 2 * SPAN_MS });
const kindArbitrary = fc.constantFrom<Kind>('month', 'quarter');
// Instants on and beside the history's own events half the time, so every bound is met at its edge.
const instantFor = (history: GeneratedHistory) => fc.oneof(instantArbitraryFor(history), instantArbitrary);
const questionsFor = (history: GeneratedHistory) => fc.array(fc.tuple(instantFor(history), filterArbitraryFor(history), kindArbitrary), { minLength: 1, maxLength: 5 });
const filterAndKindFor = (history: GeneratedHistory) => fc.tuple(filterArbitraryFor(history), kindArbitrary);

describe('the forecast (stage-intervals model)', () => {
  it('as of an instant: open deals by period of their expected close date, wins standing then, and those without a date', () => {
    assertProperty(
      fc.property(historyWith(questionsFor), ([history, asked]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const [atMs, filter, kind] of asked) {
          const answer = queryForecastAsOf(model, atMs, { ...filter, period: kind });
          expect(answer.asOf).toBe(new Date(atMs).toISOString());
          expectApproxEqual({ periods: answer.periods, withoutDate: answer.withoutDate }, forecastOracle(history.clean, atMs, filter, kind));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('now: as of after every event', () => {
    assertProperty(
      fc.property(historyWith(filterAndKindFor), ([history, [filter, kind]]) => {
        const answer = queryForecast(project(stageIntervalsProjection, history.events), { ...filter, period: kind });
        expect(answer.asOf).toBeNull();
        expectApproxEqual({ periods: answer.periods, withoutDate: answer.withoutDate }, forecastOracle(history.clean, Infinity, filter, kind));
      }),
      { numRuns: 100 },
    );
  });

  it('accuracy: per period, what was forecast at its first instant against what was won in it', () => {
    assertProperty(
      fc.property(historyWith(filterAndKindFor), ([history, [filter, kind]]) => {
        const answer = queryForecastAccuracy(project(stageIntervalsProjection, history.events), { ...filter, period: kind });
        expectApproxEqual(answer.periods, accuracyOracle(history.clean, filter, kind));
      }),
      { numRuns: 150 },
    );
  });

  it('never adds amounts of different currencies: every sum is under its own currency', () => {
    assertProperty(
      fc.property(historyArbitrary(), kindArbitrary, (history, kind) => {
        const answer = queryForecast(project(stageIntervalsProjection, history.events), { period: kind });
        for (const figures of [answer.withoutDate, ...answer.periods.flatMap((p) => [p.open, p.won])]) {
          for (const key of Object.keys(figures.amountsByCurrency)) expect(['EUR', 'USD', 'unspecified']).toContain(key);
          expect(Object.keys(figures.amountsByCurrency)).toEqual([...Object.keys(figures.amountsByCurrency)].sort());
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('rotting deals (stage-intervals model)', () => {
  it('now and as of an instant: open deals longer in their stage than its rotAfterDays, longest first', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.tuple(fc.array(fc.tuple(instantFor(h), filterArbitraryFor(h), fc.integer({ min: 1, max: 8 })), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 40 }))), ([history, [asked, days]]) => {
        const model = project(stageIntervalsProjection, history.events);
        // Also exactly at a threshold and one millisecond past it, after stage entries of the log.
        const entries = history.clean.filter((e) => e.type === 'StageChanged' || e.type === 'OpportunityOpened').slice(-4).map((e) => Date.parse(String(e.data.occurredAt)));
        const edges = entries.flatMap((ms) => [ms + days * DAY, ms + days * DAY + 1]).map((ms): [number, AnalyticsFilter, number] => [ms, {}, 100]);
        for (const [atMs, { processId, teamId, ownerId }, limit] of [...asked, ...edges]) {
          const filter = { processId, teamId, ownerId };
          expectApproxEqual(queryRottingAsOf(model, atMs, { ...filter, limit }), rottingOracle(history.clean, atMs, atMs, filter, limit));
          const now = atMs + SPAN_MS;
          expectApproxEqual(queryRotting(model, now, { ...filter, limit }), rottingOracle(history.clean, now, Infinity, filter, limit));
        }
      }),
      { numRuns: 150 },
    );
  });
});
