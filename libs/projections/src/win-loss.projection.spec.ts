import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { AnalyticsFilter, ProjectedEvent } from './projection.types';
import { filterArbitraryFor, historyWith } from './testing/history.arbitrary';
import { expectApproxEqual, matchesOpportunity, readLog, withinFromTo } from './testing/history.oracle';
import { log, standardV1 } from './testing/log.fixtures';
import { project } from './testing/project';
import type { WinLossGroupBy } from '@stagecraft/contracts';
import { queryWinLoss, winLossProjection } from './win-loss.projection';

interface Closed {
  outcome: 'won' | 'lost';
  closedAt: string;
  amountWon: number | undefined;
  currencyWon: string | undefined;
  reason: string | undefined;
  wonReason: string | undefined;
  /** Lost: the amount and currency it had when lost. */
  amountLost: number | undefined;
  currencyLost: string | undefined;
  team: string | null;
  owner: string | null;
  process: string;
}

function figures(closed: readonly Closed[]) {
  const won = closed.filter((c) => c.outcome === 'won');
  const lost = closed.filter((c) => c.outcome === 'lost');
  const amountWonByCurrency: Record<string, number> = {};
  for (const c of won) {
    if (c.amountWon !== undefined) amountWonByCurrency[c.currencyWon ?? 'unspecified'] = (amountWonByCurrency[c.currencyWon ?? 'unspecified'] ?? 0) + c.amountWon;
  }
  const amountLostByCurrency: Record<string, number> = {};
  for (const c of lost) {
    if (c.amountLost !== undefined) amountLostByCurrency[c.currencyLost ?? 'unspecified'] = (amountLostByCurrency[c.currencyLost ?? 'unspecified'] ?? 0) + c.amountLost;
  }
  const lostReasons: Record<string, number> = {};
  for (const c of lost) lostReasons[c.reason!] = (lostReasons[c.reason!] ?? 0) + 1;
  const wonReasons: Record<string, number> = {};
  for (const c of won) if (c.wonReason !== undefined) wonReasons[c.wonReason] = (wonReasons[c.wonReason] ?? 0) + 1;
  // One total only when one currency is involved: a sum over EUR and USD is never an answer.
  const single = (byCurrency: Record<string, number>) => {
    const currencies = Object.keys(byCurrency);
    return currencies.length === 0 ? 0 : currencies.length === 1 ? byCurrency[currencies[0]!]! : null;
  };
  return {
    won: won.length,
    lost: lost.length,
    winRate: closed.length === 0 ? null : won.length / closed.length,
    amountWon: single(amountWonByCurrency),
    amountWonByCurrency,
    amountLost: single(amountLostByCurrency),
    amountLostByCurrency,
    lostReasons,
    wonReasons,
  };
}

function winLossOracle(events: readonly ProjectedEvent[], filter: AnalyticsFilter, groupBy: WinLossGroupBy | undefined) {
  const closed: Closed[] = [];
  for (const o of readLog(events).opportunities) {
    // Replay: the last Won/Lost/Reopened decides; amount and currency as they were at the win.
    let latest: Closed | undefined;
    let amount: number | undefined;
    let currency: string | undefined;
    for (const { type, data } of o.events) {
      if (type === 'OpportunityOpened' || type === 'OpportunityDetailsChanged') {
        if (data.amount !== undefined) amount = data.amount as number;
        if (data.currency !== undefined) currency = data.currency as string;
      }
      const base = { closedAt: data.occurredAt as string, team: o.teamId ?? null, owner: o.ownerId ?? null, process: o.processId };
      const none = { amountWon: undefined, currencyWon: undefined, reason: undefined, wonReason: undefined, amountLost: undefined, currencyLost: undefined };
      if (type === 'OpportunityWon') latest = { ...base, ...none, outcome: 'won', amountWon: (data.amount as number | undefined) ?? amount, currencyWon: currency, wonReason: data.reason as string | undefined };
      if (type === 'OpportunityLost') latest = { ...base, ...none, outcome: 'lost', reason: data.reason as string, amountLost: amount, currencyLost: currency };
      if (type === 'OpportunityReopened') latest = undefined;
    }
    if (latest && matchesOpportunity(o, filter) && withinFromTo(latest.closedAt, filter)) closed.push(latest);
  }
  const total = figures(closed);
  if (!groupBy) return { total };

  const keyOf = (c: Closed): string | null => {
    if (groupBy === 'team') return c.team;
    if (groupBy === 'owner') return c.owner;
    if (groupBy === 'process') return c.process;
    if (groupBy === 'reason') return c.reason!;
    return c.closedAt.slice(0, 7); // generated times are UTC ISO strings
  };
  const grouped = groupBy === 'reason' ? closed.filter((c) => c.outcome === 'lost') : closed;
  const keys = [...new Set(grouped.map(keyOf))].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : a > b ? 1 : 0));
  return { total, groups: keys.map((key) => ({ key, ...figures(grouped.filter((c) => keyOf(c) === key)) })) };
}

const groupByArbitrary = fc.constantFrom<WinLossGroupBy | undefined>(undefined, 'team', 'owner', 'reason', 'month', 'process');

describe('the win/loss read model', () => {
  it('answers what a brute-force recomputation from the raw log answers, for any filter and grouping', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(fc.tuple(filterArbitraryFor(h), groupByArbitrary), { minLength: 1, maxLength: 5 })), ([history, queries]) => {
        const model = project(winLossProjection, history.events);
        for (const [filter, groupBy] of queries) {
          expectApproxEqual(queryWinLoss(model, filter, groupBy), winLossOracle(history.clean, filter, groupBy));
        }
      }),
      { numRuns: 250 },
    );
  });

  it('counts a reopened opportunity by its latest outcome only, at the time of that closing', () => {
    const model = project(winLossProjection, [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 500, currency: 'EUR', teamId: 'north' }),
      log.lost('a', 'new', 'price', 10),
      log.reopened('a', 'won-over', 20),
      log.won('a', 'won-over', 60 * 24 * 40), // 40 days later: in April
      log.opened('b', standardV1, 1),
      log.lost('b', 'new', 'timing', 5),
      log.reopened('b', 'new', 6), // open again: not closed
      log.opened('c', standardV1, 2, { amount: 70 }),
      log.lost('c', 'new', 'price', 3),
    ]);
    expect(queryWinLoss(model, {}, 'month')).toEqual({
      total: { won: 1, lost: 1, winRate: 0.5, amountWon: 500, amountWonByCurrency: { EUR: 500 }, amountLost: 70, amountLostByCurrency: { unspecified: 70 }, lostReasons: { price: 1 }, wonReasons: {} },
      groups: [
        { key: '2026-03', won: 0, lost: 1, winRate: 0, amountWon: 0, amountWonByCurrency: {}, amountLost: 70, amountLostByCurrency: { unspecified: 70 }, lostReasons: { price: 1 }, wonReasons: {} },
        { key: '2026-04', won: 1, lost: 0, winRate: 1, amountWon: 500, amountWonByCurrency: { EUR: 500 }, amountLost: 0, amountLostByCurrency: {}, lostReasons: {}, wonReasons: {} },
      ],
    });
    expect(queryWinLoss(model, { to: '2026-03-31T23:59:59Z' }).total).toMatchObject({ won: 0, lost: 1 });
    expect(queryWinLoss(model, {}, 'team').groups!.map((g) => g.key)).toEqual(['north', null]);
    expect(queryWinLoss(model, { processId: 'elsewhere' }).total.winRate).toBeNull();
  });

  it('never adds EUR to USD: amount won and amount lost are totals only while one currency is involved', () => {
    const model = project(winLossProjection, [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 20_000, currency: 'EUR' }),
      log.won('a', 'won-over', 10),
      log.opened('b', standardV1, 1, { amount: 30_000, currency: 'USD' }),
      log.won('b', 'won-over', 11),
      log.opened('c', standardV1, 2, { amount: 5_000, currency: 'USD' }),
      log.lost('c', 'new', 'price', 12),
    ]);
    expect(queryWinLoss(model).total).toMatchObject({
      amountWon: null,
      amountWonByCurrency: { EUR: 20_000, USD: 30_000 },
      amountLost: 5_000,
      amountLostByCurrency: { USD: 5_000 },
    });
  });
});
