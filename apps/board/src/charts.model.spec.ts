import type { ProcessDetail } from '@stagecraft/contracts';
import { amountsWonAndLost, funnelSteps, lostReasons, periodOutOfOrder, reliabilityPoints, stageDurationRows, winLossByTeam, wonReasons } from './charts.model';

const definition = {
  id: 'standard',
  name: 'Standard',
  stages: [
    { id: 'new', name: 'New', probability: 10, exitCriteria: [] },
    { id: 'qualification', name: 'Qualification', probability: 20, exitCriteria: [] },
  ],
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['qualification'] },
  lostReasons: ['price'],
  teams: [],
} satisfies ProcessDetail['definition'];

describe('the chart series', () => {
  it('funnel: each stage reached with its conversion to the next; the last stage converts to Won', () => {
    const steps = funnelSteps(
      {
        processes: [
          { processId: 'other', stages: [], won: 9, conversionLastToWon: null },
          {
            processId: 'standard',
            stages: [
              { stageId: 'new', reached: 10, conversionToNext: 0.5 },
              { stageId: 'qualification', reached: 5, conversionToNext: null },
            ],
            won: 2,
            conversionLastToWon: 0.4,
          },
        ],
      },
      definition,
    );
    expect(steps).toEqual([
      { key: 'new', name: 'New', reached: 10, conversionToNext: 0.5 },
      { key: 'qualification', name: 'Qualification', reached: 5, conversionToNext: 0.4 },
      { key: 'won', name: 'Won', reached: 2, conversionToNext: null },
    ]);
  });

  it('stage durations in days, keeping the seconds the API gave', () => {
    const rows = stageDurationRows(
      {
        processes: [
          {
            processId: 'standard',
            stages: [{ stageId: 'new', completed: { count: 3, meanSeconds: 1, medianSeconds: 129_600, p90Seconds: 864_000 }, open: { count: 1, oldestAgeSeconds: 5 } }],
          },
        ],
      },
      definition,
    );
    expect(rows).toEqual([{ key: 'new', name: 'New', visits: 3, medianSeconds: 129_600, p90Seconds: 864_000, medianDays: 1.5, p90Days: 10, openNow: 1 }]);
  });

  it('win/loss by team and lost reasons (only reasons that lost something)', () => {
    const figures = { winRate: 0.5, amountWon: null, amountWonByCurrency: { EUR: 10, USD: 5 }, amountLost: 7, amountLostByCurrency: { EUR: 7 }, lostReasons: {}, wonReasons: {} };
    expect(winLossByTeam({ total: { ...figures, won: 1, lost: 1 }, groups: [{ ...figures, key: null, won: 1, lost: 1 }] })).toEqual([
      { key: 'no team', won: 1, lost: 1, winRate: 0.5, amountWon: '€10 · $5', amountLost: '€7' },
    ]);
    expect(
      lostReasons({
        total: { ...figures, won: 0, lost: 3 },
        groups: [
          { ...figures, key: 'price', won: 0, lost: 3 },
          { ...figures, key: 'timing', won: 0, lost: 0 },
        ],
      }),
    ).toEqual([{ reason: 'price', lost: 3 }]);
  });

  it('amount won beside amount lost per currency, and won reasons', () => {
    const total = {
      won: 3,
      lost: 2,
      winRate: 0.6,
      amountWon: null,
      amountWonByCurrency: { EUR: 100, USD: 50 },
      amountLost: 20,
      amountLostByCurrency: { unspecified: 20 },
      lostReasons: { price: 2 },
      wonReasons: { price: 1, relationship: 2 },
    };
    expect(amountsWonAndLost({ total })).toEqual([
      { currency: 'EUR', won: 100, lost: 0 },
      { currency: 'USD', won: 50, lost: 0 },
      { currency: 'no currency', won: 0, lost: 20 },
    ]);
    expect(wonReasons({ total })).toEqual([
      { reason: 'price', won: 1 },
      { reason: 'relationship', won: 2 },
    ]);
  });

  it('reliability: per bin, learned and configured, mean predicted against observed (null where a bin is empty)', () => {
    const empty = { count: 0, meanPredicted: null, observedWinRate: null };
    const points = reliabilityPoints({
      from: null,
      to: null,
      pseudoDeals: 10,
      ageBucketsDays: [0, 7, 30, 90],
      estimates: 3,
      won: 1,
      brierLearned: 0.2,
      brierConfigured: 0.3,
      bins: [
        { from: 0, to: 10, learned: { count: 2, meanPredicted: 5, observedWinRate: 0 }, configured: empty },
        { from: 10, to: 20, learned: { count: 1, meanPredicted: 15, observedWinRate: 100 }, configured: { count: 3, meanPredicted: 10, observedWinRate: 33.3 } },
      ],
    });
    expect(points).toEqual([
      { bin: '0–10%', learnedCount: 2, learnedPredicted: 5, learnedObserved: 0, configuredCount: 0, configuredPredicted: null, configuredObserved: null },
      { bin: '10–20%', learnedCount: 1, learnedPredicted: 15, learnedObserved: 100, configuredCount: 3, configuredPredicted: 10, configuredObserved: 33.3 },
    ]);
  });
  it('refuses a period whose From is after its To in the rep\'s days; one in order, of one day, or open at an end passes', () => {
    expect(periodOutOfOrder('2026-03-20', '2026-03-10')).toBe('From (20 Mar 2026) is after To (10 Mar 2026): choose a From on or before the To.');
    expect(periodOutOfOrder('2027-01-01', '2026-12-31', 'Waterfall')).toBe('Waterfall: From (1 Jan 2027) is after To (31 Dec 2026): choose a From on or before the To.');
    expect([periodOutOfOrder('2026-03-10', '2026-03-20'), periodOutOfOrder('2026-03-10', '2026-03-10'), periodOutOfOrder('2026-03-20', ''), periodOutOfOrder('', '2026-03-10')]).toEqual([null, null, null, null]);
  });
});
