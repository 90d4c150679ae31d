import type { ReliabilityBin, WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import { periodOf, type DayRange } from './forecast.figures';
import { compareIds } from './process-catalog';
import { dictionary, NO_CURRENCY } from './projection.helpers';

// Win probability learned from the closed history of the same process (README, "For analysts").
//
// Inputs: the open deal's current stage, the time it has spent in it (an age bucket, lower bounds
// AGE_BUCKET_DAYS), and whether it ever went backward or was reopened (the "flag"). It learns from
// every stage visit of a closed life (a life ends at a win or a loss; a reopening starts another):
// the visit is labelled with that closing's outcome, and counts for each bucket whose lower bound
// its length reached (P(win | still in the stage at that age)).
//
// Prior: two Beta priors in a row, each worth PSEUDO_DEALS pseudo-deals. The stage's own rate is
// shrunk toward its configured probability, and the cell (stage × bucket × flag) toward that:
//   stageRate = (wonInStage + K·configured) / (visitsInStage + K)
//   estimate  = (wonInCell + K·stageRate) / (visitsInCell + K)
// so with no history the estimate IS the configured probability, and a few dozen closed deals
// already move it. No leakage: an estimate as of T learns only from lives closed strictly before T.

/** Weight of each prior, in deals. */
export const PSEUDO_DEALS = 10;
/** Lower bounds of the time-in-stage buckets, in days: [0, 7), [7, 30), [30, 90), [90, ∞). */
export const AGE_BUCKET_DAYS: readonly number[] = [0, 7, 30, 90];
const DAY_MS = 86_400_000;
const FLAGS = 2;
// Per stage: [visits, won], then [visits, won] per bucket × flag.
const CELL_WIDTH = 2 + AGE_BUCKET_DAYS.length * FLAGS * 2;

/** The bucket of a time spent in a stage (a negative or unreadable one counts as just entered). */
export function ageBucketOf(ageMs: number): number {
  let bucket = 0;
  for (let b = 1; b < AGE_BUCKET_DAYS.length; b++) if (ageMs >= AGE_BUCKET_DAYS[b]! * DAY_MS) bucket = b;
  return bucket;
}

/** One stage visit, as both read sides hand it over. */
export interface LearningVisit {
  readonly opportunityId: string;
  /** Its visits numbered from 1 in order (stage_visits.visit_no). */
  readonly visitNo: number;
  readonly processId: string;
  readonly stageId: string;
  readonly enteredMs: number;
  /** When it ended (a move, a win or a loss). */
  readonly leftMs: number;
  /** The deal had gone backward or been reopened when it entered this visit. */
  readonly flagged: boolean;
  /** Probability (0–100) of the stage in the version the visit ended on. */
  readonly configuredProbability: number;
  /** The closing that ended its life: when, and whether won. */
  readonly closedMs: number;
  readonly won: boolean;
}

/** Counts of closed visits per stage, bucket and flag: what an estimate is computed from. */
export class WinProbabilityEstimator {
  private readonly cells = new Map<string, Int32Array>();

  learn(visit: LearningVisit): void {
    const { enteredMs, leftMs, closedMs } = visit;
    if (!Number.isFinite(enteredMs) || !Number.isFinite(leftMs) || !Number.isFinite(closedMs)) return;
    const key = cellKey(visit.processId, visit.stageId);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new Int32Array(CELL_WIDTH)));
    const won = visit.won ? 1 : 0;
    cell[0]! += 1;
    cell[1]! += won;
    const reached = ageBucketOf(leftMs - enteredMs);
    const flag = visit.flagged ? 1 : 0;
    for (let bucket = 0; bucket <= reached; bucket++) {
      const at = 2 + (bucket * FLAGS + flag) * 2;
      cell[at]! += 1;
      cell[at + 1]! += won;
    }
  }

  /** P(win) in percent (0–100) of an open deal; `configuredProbability` (0–100) centres the prior. */
  estimate(processId: string, stageId: string, ageMs: number, flagged: boolean, configuredProbability: number): number {
    const prior = Math.min(1, Math.max(0, configuredProbability / 100));
    const cell = this.cells.get(cellKey(processId, stageId));
    if (!cell) return prior * 100;
    const stageRate = (cell[1]! + PSEUDO_DEALS * prior) / (cell[0]! + PSEUDO_DEALS);
    const at = 2 + (ageBucketOf(ageMs) * FLAGS + (flagged ? 1 : 0)) * 2;
    return ((cell[at + 1]! + PSEUDO_DEALS * stageRate) / (cell[at]! + PSEUDO_DEALS)) * 100;
  }
}

const cellKey = (processId: string, stageId: string) => `${processId}\u0000${stageId}`;

/** The estimator as of an instant: only lives closed strictly before it (Infinity: everything). */
export function estimatorAsOf(visits: readonly LearningVisit[], atMs: number): WinProbabilityEstimator {
  const estimator = new WinProbabilityEstimator();
  for (const visit of visits) if (visit.closedMs < atMs) estimator.learn(visit);
  return estimator;
}

/** An open deal as it stands at the instant asked (the board's segment). */
export interface OpenDeal {
  readonly opportunityId: string;
  readonly processId: string;
  readonly stageId: string;
  readonly enteredMs: number;
  readonly flagged: boolean;
  readonly configuredProbability: number;
  /** NaN: none. */
  readonly amount: number;
  readonly currency: string | null;
  /** Expected close date as a day number; undefined: none. */
  readonly expectedDay?: number;
}

export interface CardWinProbability {
  readonly winProbability: number;
  readonly configuredProbability: number;
}

export interface LearnedStageFigures {
  readonly processId: string;
  readonly stageId: string;
  readonly weightedAmountsLearnedByCurrency: Readonly<Record<string, number>>;
}

export interface LearnedPipelineFigures {
  /** By opportunity id, for the cards asked. */
  readonly cards: Readonly<Record<string, CardWinProbability>>;
  /** Per stage with an open deal, in order of its first deal on the board. */
  readonly stages: readonly LearnedStageFigures[];
}

/** Learned probabilities of the deals open at `atMs` (in board order, which fixes the sums' order). */
export function learnedPipelineFigures(estimator: WinProbabilityEstimator, deals: readonly OpenDeal[], atMs: number, cardIds: ReadonlySet<string>): LearnedPipelineFigures {
  const cards = dictionary<CardWinProbability>();
  const stages: { processId: string; stageId: string; weightedAmountsLearnedByCurrency: Record<string, number> }[] = [];
  const stageAt = new Map<string, number>();
  for (const deal of deals) {
    const winProbability = estimator.estimate(deal.processId, deal.stageId, atMs - deal.enteredMs, deal.flagged, deal.configuredProbability);
    if (cardIds.has(deal.opportunityId)) cards[deal.opportunityId] = { winProbability, configuredProbability: deal.configuredProbability };
    const key = cellKey(deal.processId, deal.stageId);
    let index = stageAt.get(key);
    if (index === undefined) {
      stageAt.set(key, (index = stages.length));
      stages.push({ processId: deal.processId, stageId: deal.stageId, weightedAmountsLearnedByCurrency: dictionary<number>() });
    }
    if (Number.isNaN(deal.amount)) continue;
    const stage = stages[index]!;
    const share = (deal.amount * winProbability) / 100;
    const currency = deal.currency ?? NO_CURRENCY;
    stage.weightedAmountsLearnedByCurrency[currency] = (stage.weightedAmountsLearnedByCurrency[currency] ?? 0) + share;
  }
  return { cards, stages };
}

/** Learned weighted amounts per forecast period (key as the forecast's) and for deals without a date, per currency. */
export interface LearnedForecastFigures {
  readonly periods: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly withoutDate: Readonly<Record<string, number>>;
}

/** As the forecast adds its weighted amounts (forecast.figures.ts), with the learned probability. */
export function learnedForecastFigures(estimator: WinProbabilityEstimator, deals: readonly OpenDeal[], atMs: number, kind: 'month' | 'quarter', range: DayRange): LearnedForecastFigures {
  const periods = dictionary<Record<string, number>>();
  const withoutDate = dictionary<number>();
  for (const deal of deals) {
    const day = deal.expectedDay;
    if (day !== undefined && !(day >= range.fromDay && day <= range.toDay)) continue;
    const sums = day === undefined ? withoutDate : (periods[periodOf(day, kind).key] ??= dictionary<number>());
    if (Number.isNaN(deal.amount)) continue;
    const p = estimator.estimate(deal.processId, deal.stageId, atMs - deal.enteredMs, deal.flagged, deal.configuredProbability);
    const currency = deal.currency ?? NO_CURRENCY;
    sums[currency] = (sums[currency] ?? 0) + (deal.amount * p) / 100;
  }
  const sorted = (sums: Record<string, number>) => {
    const result = dictionary<number>();
    for (const key of Object.keys(sums).sort(compareIds)) result[key] = sums[key]!;
    return result;
  };
  const result = dictionary<Record<string, number>>();
  for (const key of Object.keys(periods).sort(compareIds)) result[key] = sorted(periods[key]!);
  return { periods: result, withoutDate: sorted(withoutDate) };
}

export const CALIBRATION_BINS = 10;

/**
 * Scores the estimate made at each entry (age 0, the entry's flag, learned from lives closed
 * strictly before the entry) against the outcome of the entry's life. `entries` are the visits the
 * question selects (period on enteredMs, filters); `visits`, every closed visit to learn from.
 */
export function calibrationOf(visits: readonly LearningVisit[], entries: readonly LearningVisit[], range: { readonly from: string | null; readonly to: string | null }): WinProbabilityCalibrationResult {
  const learning = visits.filter((visit) => Number.isFinite(visit.closedMs)).sort((a, b) => a.closedMs - b.closedMs);
  const scored = entries.filter((entry) => Number.isFinite(entry.enteredMs)).sort((a, b) => a.enteredMs - b.enteredMs || compareIds(a.opportunityId, b.opportunityId) || a.visitNo - b.visitNo);
  const estimator = new WinProbabilityEstimator();
  const learned = binsOf();
  const configured = binsOf();
  let next = 0;
  let won = 0;
  let brierLearned = 0;
  let brierConfigured = 0;
  for (const entry of scored) {
    while (next < learning.length && learning[next]!.closedMs < entry.enteredMs) estimator.learn(learning[next++]!);
    const outcome = entry.won ? 1 : 0;
    won += outcome;
    const p = estimator.estimate(entry.processId, entry.stageId, 0, entry.flagged, entry.configuredProbability);
    const q = Math.min(100, Math.max(0, entry.configuredProbability));
    brierLearned += (p / 100 - outcome) ** 2;
    brierConfigured += (q / 100 - outcome) ** 2;
    learned.add(p, outcome);
    configured.add(q, outcome);
  }
  const n = scored.length;
  return {
    from: range.from,
    to: range.to,
    pseudoDeals: PSEUDO_DEALS,
    ageBucketsDays: AGE_BUCKET_DAYS,
    estimates: n,
    won,
    brierLearned: n === 0 ? null : brierLearned / n,
    brierConfigured: n === 0 ? null : brierConfigured / n,
    bins: Array.from({ length: CALIBRATION_BINS }, (_, bin) => ({ from: bin * 10, to: bin * 10 + 10, learned: learned.bin(bin), configured: configured.bin(bin) })),
  };
}

function binsOf() {
  const counts = new Array<number>(CALIBRATION_BINS).fill(0);
  const predicted = new Array<number>(CALIBRATION_BINS).fill(0);
  const won = new Array<number>(CALIBRATION_BINS).fill(0);
  return {
    add(p: number, outcome: number) {
      const bin = Math.min(CALIBRATION_BINS - 1, Math.max(0, Math.floor(p / (100 / CALIBRATION_BINS))));
      counts[bin]! += 1;
      predicted[bin]! += p;
      won[bin]! += outcome;
    },
    bin: (bin: number): ReliabilityBin => ({
      count: counts[bin]!,
      meanPredicted: counts[bin] === 0 ? null : predicted[bin]! / counts[bin]!,
      observedWinRate: counts[bin] === 0 ? null : (won[bin]! / counts[bin]!) * 100,
    }),
  };
}
