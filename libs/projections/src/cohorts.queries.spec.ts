import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { queryCohorts } from './cohorts.queries';
import { funnelProjection, queryFunnel } from './funnel.projection';
import { stageIntervalsProjection } from './stage-intervals.projection';
import { filterArbitraryFor, historyWith } from './testing/history.arbitrary';
import { expectApproxEqual, matchesOpportunity, readLog, withinFromTo } from './testing/history.oracle';
import { project } from './testing/project';

// Brute force per cohort: the deals opened in the month (filter on their current team and owner,
// as the funnel), counted and their first wins read from the raw events; the cohort's funnel is
// the funnel (itself checked against the raw events in funnel.projection.spec.ts) of that month.

const monthBounds = (month: string) => {
  const start = Date.parse(`${month}-01T00:00:00.000Z`);
  const next = new Date(start);
  next.setUTCMonth(next.getUTCMonth() + 1);
  return [start, next.getTime() - 1] as const;
};

describe('cohorts by month of opening', () => {
  it('per month: the deals opened, ever won, the median days to the first win, and the funnel of that month', () => {
    assertProperty(
      fc.property(historyWith((h) => fc.array(filterArbitraryFor(h), { minLength: 1, maxLength: 4 })), ([history, filters]) => {
        const funnel = project(funnelProjection, history.events);
        const intervals = project(stageIntervalsProjection, history.events);
        const { opportunities } = readLog(history.clean);
        for (const filter of filters) {
          const mine = opportunities.filter((o) => matchesOpportunity(o, filter) && withinFromTo(o.openedAt, filter));
          const months = [...new Set(mine.map((o) => o.openedAt.slice(0, 7)))].sort();
          const expected = months.map((cohort) => {
            const [from, to] = monthBounds(cohort);
            const opened = mine.filter((o) => o.openedAt.slice(0, 7) === cohort);
            const days = opened
              .flatMap((o) => {
                const firstWin = o.events.find((e) => e.type === 'OpportunityWon');
                return firstWin ? [(Date.parse(String(firstWin.data.occurredAt)) - Date.parse(o.openedAt)) / 86_400_000] : [];
              })
              .sort((a, b) => a - b);
            const n = days.length;
            const median = n === 0 ? null : n % 2 === 1 ? days[n >> 1]! : (days[(n >> 1) - 1]! + days[n >> 1]!) / 2;
            const { processes } = queryFunnel(funnel, {
              ...filter,
              from: new Date(Math.max(from, filter.from ? Date.parse(filter.from) : -Infinity)).toISOString(),
              to: new Date(Math.min(to, filter.to ? Date.parse(filter.to) : Infinity)).toISOString(),
            });
            return { cohort, opened: opened.length, won: n, medianDaysToWin: median, processes };
          });
          expectApproxEqual(queryCohorts(funnel, intervals, filter), { by: 'month', cohorts: expected });
        }
      }),
      { numRuns: 100 },
    );
  });
});
