import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { VelocityFigures, VelocityGroupBy, VelocityResult } from '@stagecraft/contracts';
import { foldOpportunity, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import type { ProjectedEvent } from './projection.types';
import { stageIntervalsProjection } from './stage-intervals.projection';
import { filterArbitraryFor, historyWith, instantArbitraryFor } from './testing/history.arbitrary';
import { expectApproxEqual, readLog } from './testing/history.oracle';
import { at, log, standardV1 } from './testing/log.fixtures';
import { project } from './testing/project';
import { queryVelocity, type VelocityQuery } from './velocity.queries';

// Brute force: each deal's as-of states at `from` and at every instant it has in (from, to]; the
// closings are the steps from counted (open, in the filter) to won or lost.

type Open = Extract<OpportunityState, { status: 'open' }>;
const occurred = (event: ProjectedEvent) => Date.parse(String(event.data.occurredAt));

function velocityOracle(events: readonly ProjectedEvent[], query: VelocityQuery): VelocityResult {
  const history = readLog(events);
  const groups = new Map<string | null, { worked: Set<string>; won: number; lost: number; cycleMs: number; amounts: Map<string, number[]> }>();
  const total = { worked: new Set<string>(), won: 0, lost: 0, cycleMs: 0, amounts: new Map<string, number[]>() };
  const keyOf = (s: Open) => (query.groupBy === 'team' ? (s.teamId ?? null) : query.groupBy === 'owner' ? (s.ownerId ?? null) : s.processId);
  const leversOf = (s: Open) => {
    if (query.groupBy === undefined) return [total];
    const key = keyOf(s);
    if (!groups.has(key)) groups.set(key, { worked: new Set(), won: 0, lost: 0, cycleMs: 0, amounts: new Map() });
    return [total, groups.get(key)!];
  };
  const counts = (s: OpportunityState): boolean =>
    s.status === 'open' && (query.processId === undefined || s.processId === query.processId) && (query.teamId === undefined || s.teamId === query.teamId) && (query.ownerId === undefined || s.ownerId === query.ownerId);
  for (const o of history.opportunities) {
    const stateAt = (ms: number) => foldOpportunity(o.events.filter((e) => occurred(e) <= ms).map((e) => ({ type: e.type, data: e.data }) as OpportunityEvent));
    let before = stateAt(query.fromMs);
    if (counts(before)) for (const levers of leversOf(before as Open)) levers.worked.add(o.id);
    for (const t of [...new Set(o.events.map(occurred))].filter((ms) => query.fromMs < ms && ms <= query.toMs).sort((a, b) => a - b)) {
      const after = stateAt(t);
      if (counts(after)) for (const levers of leversOf(after as Open)) levers.worked.add(o.id);
      if (counts(before) && (after.status === 'won' || after.status === 'lost')) {
        const closed = before as Open;
        for (const levers of leversOf(closed)) {
          if (after.status === 'lost') levers.lost++;
          else {
            levers.won++;
            levers.cycleMs += t - Date.parse(o.openedAt);
            if (closed.amount !== undefined) {
              const currency = closed.currency ?? 'unspecified';
              levers.amounts.set(currency, [...(levers.amounts.get(currency) ?? []), closed.amount]);
            }
          }
        }
      }
      before = after;
    }
  }
  const figures = (levers: typeof total): VelocityFigures => {
    const winRate = levers.won + levers.lost === 0 ? null : levers.won / (levers.won + levers.lost);
    const averageCycleDays = levers.won === 0 ? null : levers.cycleMs / levers.won / 86_400_000;
    const averages = Object.fromEntries([...levers.amounts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, amounts]) => [currency, amounts.reduce((x, y) => x + y, 0) / amounts.length]));
    const velocity = winRate === null || averageCycleDays === null || averageCycleDays === 0 ? {} : Object.fromEntries(Object.entries(averages).map(([currency, average]) => [currency, (levers.worked.size * winRate * average) / averageCycleDays]));
    return { opportunities: levers.worked.size, won: levers.won, lost: levers.lost, winRate, averageWonAmountsByCurrency: averages, averageCycleDays, velocityByCurrency: velocity };
  };
  const result = { from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), total: figures(total) };
  if (query.groupBy === undefined) return result;
  const keys = [...groups.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
  return { ...result, groups: keys.map((key) => ({ key, ...figures(groups.get(key)!) })) };
}

describe('sales velocity (from the stage-intervals read model)', () => {
  it('equals the brute-force levers from every deal\'s as-of states, for random histories, windows, filters and groupings', () => {
    assertProperty(
      fc.property(
        historyWith((h) => fc.array(fc.tuple(instantArbitraryFor(h), instantArbitraryFor(h), filterArbitraryFor(h), fc.constantFrom<VelocityGroupBy | undefined>(undefined, 'team', 'owner', 'process')), { minLength: 1, maxLength: 5 })),
        ([history, questions]) => {
          const model = project(stageIntervalsProjection, history.events);
          for (const [a, b, { processId, teamId, ownerId }, groupBy] of questions) {
            const query = { fromMs: Math.min(a, b), toMs: Math.max(a, b), processId, teamId, ownerId, groupBy };
            expectApproxEqual(queryVelocity(model, query), velocityOracle(history.clean, query));
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shows each lever: 2 deals worked, 1 won of 2 closed, 100 EUR won after 2 days: 2 × 0.5 × 100 ÷ 2 = 50 EUR a day', () => {
    const model = project(stageIntervalsProjection, [
      log.version(standardV1),
      log.opened('a', standardV1, 0, { amount: 100, currency: 'EUR', teamId: 'direct' }),
      log.opened('b', standardV1, 0, { amount: 300, currency: 'EUR', teamId: 'direct' }),
      log.moved('a', 'new', 'won-over', 60),
      log.won('a', 'won-over', 2 * 24 * 60),
      log.lost('b', 'new', 'price', 2 * 24 * 60),
    ]);
    const { total } = queryVelocity(model, { fromMs: Date.parse(at(1)), toMs: Date.parse(at(3 * 24 * 60)) });
    expect(total).toEqual({ opportunities: 2, won: 1, lost: 1, winRate: 0.5, averageWonAmountsByCurrency: { EUR: 100 }, averageCycleDays: 2, velocityByCurrency: { EUR: 50 } });
  });
});
