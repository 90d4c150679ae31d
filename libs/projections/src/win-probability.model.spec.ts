import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { ageBucketOf, AGE_BUCKET_DAYS, calibrationOf, estimateFromCounts, PSEUDO_DEALS, WinProbabilityEstimator, type LearningVisit } from './win-probability.model';

const DAY = 86_400_000;

const visit = (overrides: Partial<LearningVisit>): LearningVisit => ({
  opportunityId: 'o',
  visitNo: 1,
  processId: 'p',
  stageId: 's',
  enteredStageId: 's',
  enteredMs: 0,
  leftMs: DAY,
  flagged: false,
  enteredConfiguredProbability: 20,
  closedMs: DAY,
  won: true,
  ...overrides,
});

describe('learned win probability: buckets and prior', () => {
  it('cuts time in stage at 7, 30 and 90 days, a bound belonging to the bucket it opens', () => {
    expect(AGE_BUCKET_DAYS).toEqual([0, 7, 30, 90]);
    expect([0, 7 * DAY - 1, 7 * DAY, 30 * DAY - 1, 30 * DAY, 90 * DAY - 1, 90 * DAY, 400 * DAY].map(ageBucketOf)).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect([-DAY, NaN].map(ageBucketOf)).toEqual([0, 0]);
  });

  it('answers the configured probability when nothing was learned', () => {
    const estimator = new WinProbabilityEstimator();
    expect(estimator.estimate('p', 's', 3 * DAY, false, 35)).toBe(35);
    expect(estimator.estimate('p', 's', 100 * DAY, true, 0)).toBe(0);
  });

  // README: with no history the estimate IS the configured probability, so a fresh board shows the
  // same number twice. Divided by 100 and multiplied back, 29 came out as 28.999999999999996 (and
  // 7, 57, 12.34…): the card said 28.999999999999996 beside 29, calibration scored two numbers.
  it('answers exactly the configured probability, whatever it is, for a stage nothing was learned in', () => {
    assertProperty(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 100, noNaN: true })), fc.nat({ max: 400 }), fc.boolean(), (configured, days, flagged) => {
        const estimator = new WinProbabilityEstimator();
        estimator.learn(visit({ stageId: 'other' }));
        expect(estimator.estimate('p', 's', days * DAY, flagged, configured)).toBe(configured);
        expect(estimateFromCounts(0, 0, 0, 0, configured)).toBe(configured);
      }),
    );
  });

  it('shrinks the stage toward its configured probability, then the cell toward the stage, each by 10 pseudo-deals', () => {
    expect(PSEUDO_DEALS).toBe(10);
    const estimator = new WinProbabilityEstimator();
    // 10 visits of 1 day, all won: stage (10 + 10·0.2) / 20 = 0.6; cell (bucket 0, not flagged) (10 + 10·0.6) / 20 = 0.8.
    for (let i = 0; i < 10; i++) estimator.learn(visit({ opportunityId: `o${i}` }));
    expect(estimator.estimate('p', 's', 0, false, 20)).toBeCloseTo(80, 10);
    // No visit reached 7 days: that cell is the stage's rate alone.
    expect(estimator.estimate('p', 's', 8 * DAY, false, 20)).toBeCloseTo(60, 10);
    // Flagged deals are a cell of their own.
    expect(estimator.estimate('p', 's', 0, true, 20)).toBeCloseTo(60, 10);
    // Another process or stage learns nothing from these.
    expect(estimator.estimate('p', 'other', 0, false, 20)).toBe(20);
  });

  it('counts a visit in every bucket its length reached, and its flag apart', () => {
    const estimator = new WinProbabilityEstimator();
    // One lost visit of 40 days, flagged: stage (0 + 10·0.5) / 11; buckets 0–2 of the flagged cell hold it, bucket 3 not.
    estimator.learn(visit({ leftMs: 40 * DAY, closedMs: 40 * DAY, flagged: true, won: false }));
    const stage = 5 / 11;
    const withIt = (10 * stage) / 11;
    expect(estimator.estimate('p', 's', 0, true, 50)).toBeCloseTo(withIt * 100, 10);
    expect(estimator.estimate('p', 's', 31 * DAY, true, 50)).toBeCloseTo(withIt * 100, 10);
    expect(estimator.estimate('p', 's', 91 * DAY, true, 50)).toBeCloseTo(stage * 100, 10);
    expect(estimator.estimate('p', 's', 0, false, 50)).toBeCloseTo(stage * 100, 10);
  });

  it('ignores a visit whose times are unreadable', () => {
    const estimator = new WinProbabilityEstimator();
    estimator.learn(visit({ enteredMs: NaN }));
    estimator.learn(visit({ closedMs: NaN }));
    expect(estimator.estimate('p', 's', 0, false, 20)).toBe(20);
  });
});

describe('learned win probability: calibration', () => {
  it('scores each entry with what was learned strictly before it, and bins the predictions', () => {
    // Two deals: the first entered and won before the second entered; the second lost.
    const first = visit({ opportunityId: 'a', enteredMs: 0, leftMs: DAY, closedMs: DAY, won: true });
    const second = visit({ opportunityId: 'b', enteredMs: 2 * DAY, leftMs: 3 * DAY, closedMs: 3 * DAY, won: false });
    const result = calibrationOf([second, first], [second, first], { from: null, to: null });
    // First entry: nothing learned, 20%. Second: stage (1 + 2) / 11, cell (1 + 10·3/11) / 11.
    const learnedSecond = ((1 + (10 * 3) / 11) / 11) * 100;
    expect(result.estimates).toBe(2);
    expect(result.won).toBe(1);
    expect(result.brierConfigured).toBeCloseTo(((0.2 - 1) ** 2 + 0.2 ** 2) / 2, 12);
    expect(result.brierLearned).toBeCloseTo(((0.2 - 1) ** 2 + (learnedSecond / 100) ** 2) / 2, 12);
    expect(result.bins).toHaveLength(10);
    expect(result.bins[2]!.configured).toEqual({ count: 2, meanPredicted: 20, observedWinRate: 50 });
    const learnedBin = Math.floor(learnedSecond / 10);
    expect(result.bins[learnedBin]!.learned).toMatchObject({ count: 1, observedWinRate: 0 });
    expect(result.bins[2]!.learned).toMatchObject({ count: learnedBin === 2 ? 2 : 1 });
  });

  it('scores an entry in the stage and probability it was entered with, and learns the visit in the stage it ended in', () => {
    // a: entered s (20) and migrated to r (60) before its win; b entered s after a's win, migrated to r too, and lost.
    const first = visit({ opportunityId: 'a', stageId: 'r', enteredMs: 0, leftMs: DAY, closedMs: DAY, won: true });
    const second = visit({ opportunityId: 'b', stageId: 'r', enteredMs: 2 * DAY, leftMs: 3 * DAY, closedMs: 3 * DAY, won: false });
    const result = calibrationOf([first, second], [first, second], { from: null, to: null });
    // Both scored in s at 20: nothing was learned in s (a is learned in r), so the learned estimate is 20 too.
    expect(result.brierConfigured).toBeCloseTo(((0.2 - 1) ** 2 + 0.2 ** 2) / 2, 12);
    expect(result.brierLearned).toBeCloseTo(((0.2 - 1) ** 2 + 0.2 ** 2) / 2, 12);
    // Scored in r (where a was learned), the second entry would have been (1 + 10·(1 + 10·0.2)/11) / 11.
    const inR = calibrationOf([first, second], [first, { ...second, enteredStageId: 'r' }], { from: null, to: null });
    expect(inR.brierLearned).toBeCloseTo(((0.2 - 1) ** 2 + ((1 + (10 * 3) / 11) / 11) ** 2) / 2, 12);
  });

  it('says null with nothing to score', () => {
    const result = calibrationOf([], [], { from: '2026-01-01T00:00:00.000Z', to: null });
    expect(result).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: null, estimates: 0, won: 0, brierLearned: null, brierConfigured: null });
    expect(result.bins.every((bin) => bin.learned.count === 0 && bin.learned.meanPredicted === null && bin.configured.observedWinRate === null)).toBe(true);
  });
});
