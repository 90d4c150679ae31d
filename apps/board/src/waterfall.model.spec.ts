import type { CohortsResult, VelocityResult, WaterfallResult } from '@stagecraft/contracts';
import { dayBoundary } from './format';
import { cohortLines, velocityLines, waterfallLines, waterfallPeriod, waterfallWindow } from './waterfall.model';

const money = (count: number, amounts: Record<string, number> = {}) => ({ count, amountsByCurrency: amounts, weightedAmountsByCurrency: {} });
const change = (bucket: string, count: number) => ({ bucket, count, amountsByCurrency: {}, steps: Math.abs(count) });

describe('the waterfall chart lines', () => {
  it('stacks each bucket on the running count, from the start count to the end count; memos have no bar', () => {
    const answer = {
      from: '',
      to: '',
      start: money(3, { EUR: 10 }),
      changes: [change('created', 2), change('won', -1), change('lost', -1)],
      memos: [change('pushedOut', 1)],
      end: money(3),
    } as unknown as WaterfallResult;
    expect(waterfallLines(answer).map((line) => [line.key, line.bar])).toEqual([
      ['start', [0, 3]],
      ['created', [3, 5]],
      ['won', [5, 4]],
      ['lost', [4, 3]],
      ['end', [0, 3]],
      ['pushedOut', null],
    ]);
  });

  // The API counts the changes in (from, to]: asked from the first instant of the first day, a deal
  // created (or won) at that very instant, 00:00:00.000 as a backfilled history writes a day, was
  // "open at start" (or no win of the period) instead of a change of the period's first day.
  it('asks for the period\'s whole days in the rep\'s zone: a change at the first instant of its first day is in (from, to], one just before it is not', () => {
    for (const timeZone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
      const window = waterfallWindow({ from: '2026-03-14', to: '2026-03-20' }, timeZone);
      const first = Date.parse(dayBoundary('2026-03-14', 'start', timeZone)!);
      const last = Date.parse(dayBoundary('2026-03-20', 'end', timeZone)!);
      const changeIn = (ms: number) => Date.parse(window.from!) < ms && ms <= Date.parse(window.to!);
      expect([timeZone, [first - 1, first, last, last + 1].map(changeIn)]).toEqual([timeZone, [false, true, true, false]]);
    }
    // The first instant the API takes has nothing before it to ask from.
    expect(waterfallWindow({ from: '0001-01-01', to: '0001-01-02' }, 'UTC')).toEqual({ from: '0001-01-01T00:00:00.000Z', to: '0001-01-02T23:59:59.999Z' });
  });

  it('keeps the period in the address, else the last 7 days', () => {
    const today = new Date('2026-03-20T15:00:00Z');
    expect(waterfallPeriod(new URLSearchParams(''), today)).toEqual({ from: '2026-03-14', to: '2026-03-20' });
    expect(waterfallPeriod(new URLSearchParams('waterfallFrom=2026-01-01&waterfallTo=2026-02-01'), today)).toEqual({ from: '2026-01-01', to: '2026-02-01' });
    expect(waterfallPeriod(new URLSearchParams('waterfallFrom=junk'), today)).toEqual({ from: '2026-03-14', to: '2026-03-20' });
    // "Today" is the rep's: late on the 20th in UTC it is already the 21st in Auckland.
    expect(waterfallPeriod(new URLSearchParams(''), new Date('2026-03-20T23:30:00Z'), 'Pacific/Auckland')).toEqual({ from: '2026-03-15', to: '2026-03-21' });
  });
});

describe('the velocity and cohort tables', () => {
  it('gives a team a line per currency it won in, or one line without money', () => {
    const levers = { opportunities: 4, won: 1, lost: 1, winRate: 0.5, averageCycleDays: 2 };
    const answer = { from: '', to: '', total: { ...levers, averageWonAmountsByCurrency: {}, velocityByCurrency: {} }, groups: [{ key: null, ...levers, averageWonAmountsByCurrency: {}, velocityByCurrency: {} }, { key: 'direct', ...levers, averageWonAmountsByCurrency: { EUR: 100, USD: 10 }, velocityByCurrency: { EUR: 100, USD: 10 } }] } as VelocityResult;
    expect(velocityLines(answer).map((line) => [line.key, line.team, line.currency, line.velocity])).toEqual([
      ['|', 'No team', null, null],
      ['direct|EUR', 'direct', 'EUR', 100],
      ['direct|USD', 'direct', 'USD', 10],
    ]);
  });

  it('lines the cohorts up on the chosen process\'s stages, 0 where a cohort never reached one', () => {
    const stage = (stageId: string, reached: number) => ({ stageId, reached, conversionToNext: null });
    const answer = {
      by: 'month',
      cohorts: [
        { cohort: '2026-01', opened: 3, won: 1, medianDaysToWin: 4, processes: [{ processId: 'p', stages: [stage('a', 3), stage('b', 1)], won: 1, conversionLastToWon: 1 }] },
        { cohort: '2026-02', opened: 1, won: 0, medianDaysToWin: null, processes: [] },
      ],
    } as CohortsResult;
    expect(cohortLines(answer, 'p')).toEqual({
      stages: ['a', 'b'],
      lines: [
        { cohort: '2026-01', opened: 3, reached: [3, 1], won: 1, medianDaysToWin: 4 },
        { cohort: '2026-02', opened: 1, reached: [0, 0], won: 0, medianDaysToWin: null },
      ],
    });
  });
});
