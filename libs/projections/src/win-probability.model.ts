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
  /** The stage it is learned in: the one it ended in (a process migration relabels the open visit). */
  readonly stageId: string;
  /** The stage it was entered in (a migration may have mapped the visit to stageId since): the stage of the estimate calibration scores. */
  readonly enteredStageId: string;
  readonly enteredMs: number;
  /** When it ended (a move, a win or a loss). */
  readonly leftMs: number;
  /** The deal had gone backward or been reopened when it entered this visit. */
  readonly flagged: boolean;
  /** Probability (0–100) of the entered stage in the version the deal was on at the entry: what the board showed then. */
  readonly enteredConfiguredProbability: number;
  /** The closing that ended its life: when, and whether won. */
  readonly closedMs: number;
  readonly won: boolean;
}

/** Counts of closed visits per stage, bucket and flag: what an estimate is computed from. */
/** One cell of an estimator (stage, time-in-stage bucket, flag): the stage's counts and the cell's, as estimate() reads them. */
export interface CellCounts {
  readonly processId: string;
  readonly stageId: string;
  readonly bucket: number;
  readonly flagged: boolean;
  readonly stageVisits: number;
  readonly stageWon: number;
  readonly cellVisits: number;
  readonly cellWon: number;
}

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

  /**
   * As `visits` calls of learn() with closed visits of the stage that reached `reached` (the bucket
   * of their length) with that flag, `won` of them won: counts a read side summed for it.
   */
  learnCounts(processId: string, stageId: string, reached: number, flagged: boolean, visits: number, won: number): void {
    if (visits <= 0) return;
    const key = cellKey(processId, stageId);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = new Int32Array(CELL_WIDTH)));
    cell[0]! += visits;
    cell[1]! += won;
    const flag = flagged ? 1 : 0;
    for (let bucket = 0; bucket <= Math.min(reached, AGE_BUCKET_DAYS.length - 1); bucket++) {
      const at = 2 + (bucket * FLAGS + flag) * 2;
      cell[at]! += visits;
      cell[at + 1]! += won;
    }
  }

  /**
   * Each stage learned from, with what estimate() reads of it: per bucket and flag, the stage's
   * counts and the cell's (a read side that estimates in SQL takes these).
   */
  *cellCounts(): IterableIterator<CellCounts> {
    for (const [key, cell] of this.cells) {
      const [processId, stageId] = key.split('\u0000') as [string, string];
      for (let bucket = 0; bucket < AGE_BUCKET_DAYS.length; bucket++) {
        for (let flag = 0; flag < FLAGS; flag++) {
          const at = 2 + (bucket * FLAGS + flag) * 2;
          yield { processId, stageId, bucket, flagged: flag === 1, stageVisits: cell[0]!, stageWon: cell[1]!, cellVisits: cell[at]!, cellWon: cell[at + 1]! };
        }
      }
    }
  }

  /** P(win) in percent (0–100) of an open deal; `configuredProbability` (0–100) centres the prior. */
  estimate(processId: string, stageId: string, ageMs: number, flagged: boolean, configuredProbability: number): number {
    const cell = this.cells.get(cellKey(processId, stageId));
    if (!cell) return estimateFromCounts(0, 0, 0, 0, configuredProbability);
    const at = 2 + (ageBucketOf(ageMs) * FLAGS + (flagged ? 1 : 0)) * 2;
    return estimateFromCounts(cell[0]!, cell[1]!, cell[at]!, cell[at + 1]!, configuredProbability);
  }
}

/**
 * The estimate from the counts of its stage (closed visits, won) and of its cell (bucket × flag):
 * the one formula both the estimator and the read sides that count in SQL use. No visit learned
 * in the stage: the configured probability itself (not the prior passed through the shrinkage,
 * which may round differently).
 */
export function estimateFromCounts(stageVisits: number, stageWon: number, cellVisits: number, cellWon: number, configuredProbability: number): number {
  // The number itself: divided by 100 and multiplied back, 29 would come out as 28.999999999999996.
  if (stageVisits === 0) return Math.min(100, Math.max(0, configuredProbability));
  const prior = Math.min(1, Math.max(0, configuredProbability / 100));
  const stageRate = (stageWon + PSEUDO_DEALS * prior) / (stageVisits + PSEUDO_DEALS);
  return ((cellWon + PSEUDO_DEALS * stageRate) / (cellVisits + PSEUDO_DEALS)) * 100;
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
export function learnedPipelineFigures(estimator: WinProbabilityEstimator, deals: Iterable<OpenDeal>, atMs: number, cardIds: ReadonlySet<string>): LearnedPipelineFigures {
  const tally = new LearnedPipelineTally(estimator, atMs, cardIds);
  for (const deal of deals) tally.add(deal);
  return tally.figures();
}

/** learnedPipelineFigures one deal at a time (a read side that pages through the board's deals). */
export class LearnedPipelineTally {
  private readonly cards = dictionary<CardWinProbability>();
  private readonly stages: { processId: string; stageId: string; weightedAmountsLearnedByCurrency: Record<string, number> }[] = [];
  private readonly stageAt = new Map<string, number>();

  constructor(
    private readonly estimator: WinProbabilityEstimator,
    private readonly atMs: number,
    private readonly cardIds: ReadonlySet<string>,
  ) {}

  /** The next deal, in board order. */
  add(deal: OpenDeal): void {
    const winProbability = this.estimator.estimate(deal.processId, deal.stageId, this.atMs - deal.enteredMs, deal.flagged, deal.configuredProbability);
    if (this.cardIds.has(deal.opportunityId)) this.cards[deal.opportunityId] = { winProbability, configuredProbability: deal.configuredProbability };
    const key = cellKey(deal.processId, deal.stageId);
    let index = this.stageAt.get(key);
    if (index === undefined) {
      this.stageAt.set(key, (index = this.stages.length));
      this.stages.push({ processId: deal.processId, stageId: deal.stageId, weightedAmountsLearnedByCurrency: dictionary<number>() });
    }
    if (Number.isNaN(deal.amount)) return;
    const stage = this.stages[index]!;
    const share = (deal.amount * winProbability) / 100;
    const currency = deal.currency ?? NO_CURRENCY;
    stage.weightedAmountsLearnedByCurrency[currency] = (stage.weightedAmountsLearnedByCurrency[currency] ?? 0) + share;
  }

  figures(): LearnedPipelineFigures {
    return { cards: this.cards, stages: this.stages };
  }
}

/** Learned weighted amounts per forecast period (key as the forecast's) and for deals without a date, per currency. */
export interface LearnedForecastFigures {
  readonly periods: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly withoutDate: Readonly<Record<string, number>>;
}

/** As the forecast adds its weighted amounts (forecast.figures.ts), with the learned probability. */
export function learnedForecastFigures(estimator: WinProbabilityEstimator, deals: Iterable<OpenDeal>, atMs: number, kind: 'month' | 'quarter', range: DayRange): LearnedForecastFigures {
  const tally = new LearnedForecastTally(estimator, atMs, kind, range);
  for (const deal of deals) tally.add(deal);
  return tally.figures();
}

/** learnedForecastFigures one deal at a time, in board order. */
export class LearnedForecastTally {
  private readonly periods = dictionary<Record<string, number>>();
  private readonly withoutDate = dictionary<number>();

  constructor(
    private readonly estimator: WinProbabilityEstimator,
    private readonly atMs: number,
    private readonly kind: 'month' | 'quarter',
    private readonly range: DayRange,
  ) {}

  add(deal: OpenDeal): void {
    const day = deal.expectedDay;
    if (day !== undefined && !(day >= this.range.fromDay && day <= this.range.toDay)) return;
    const sums = day === undefined ? this.withoutDate : (this.periods[periodOf(day, this.kind).key] ??= dictionary<number>());
    if (Number.isNaN(deal.amount)) return;
    const p = this.estimator.estimate(deal.processId, deal.stageId, this.atMs - deal.enteredMs, deal.flagged, deal.configuredProbability);
    const currency = deal.currency ?? NO_CURRENCY;
    sums[currency] = (sums[currency] ?? 0) + (deal.amount * p) / 100;
  }

  figures(): LearnedForecastFigures {
    const sorted = (sums: Record<string, number>) => {
      const result = dictionary<number>();
      for (const key of Object.keys(sums).sort(compareIds)) result[key] = sums[key]!;
      return result;
    };
    const result = dictionary<Record<string, number>>();
    for (const key of Object.keys(this.periods).sort(compareIds)) result[key] = sorted(this.periods[key]!);
    return { periods: result, withoutDate: sorted(this.withoutDate) };
  }
}

export const CALIBRATION_BINS = 10;

/**
 * Scores the estimate made at each entry (age 0, the entry's flag, learned from lives closed
 * strictly before the entry) against the outcome of the entry's life: the estimate of the stage
 * entered, centred on its probability in the version of the entry, as the board as of the entry
 * showed it (a later migration that relabelled the visit does not reach back). `entries` are the
 * visits the question selects (period on enteredMs, filters); `visits`, every closed visit to learn
 * from (each in the stage it ended in).
 */
export function calibrationOf(visits: readonly LearningVisit[], entries: readonly LearningVisit[], range: { readonly from: string | null; readonly to: string | null }): WinProbabilityCalibrationResult {
  const learning = visits.filter((visit) => Number.isFinite(visit.closedMs)).sort((a, b) => a.closedMs - b.closedMs);
  const scored = entries.filter((entry) => Number.isFinite(entry.enteredMs)).sort(compareEntries);
  const estimator = new WinProbabilityEstimator();
  const tally = new CalibrationTally();
  let next = 0;
  for (const entry of scored) {
    while (next < learning.length && learning[next]!.closedMs < entry.enteredMs) estimator.learn(learning[next++]!);
    const configuredProbability = entry.enteredConfiguredProbability;
    tally.add(estimator.estimate(entry.processId, entry.enteredStageId, 0, entry.flagged, configuredProbability), { won: entry.won, configuredProbability });
  }
  return tally.result(range);
}

/** The order calibration scores its entries in (which fixes the order of its float sums). */
export function compareEntries(a: Pick<LearningVisit, 'enteredMs' | 'opportunityId' | 'visitNo'>, b: Pick<LearningVisit, 'enteredMs' | 'opportunityId' | 'visitNo'>): number {
  return a.enteredMs - b.enteredMs || compareIds(a.opportunityId, b.opportunityId) || a.visitNo - b.visitNo;
}

/** Calibration's sums, one scored entry at a time in entry order (compareEntries). */
export class CalibrationTally {
  private readonly learned = binsOf();
  private readonly configured = binsOf();
  private n = 0;
  private won = 0;
  private brierLearned = 0;
  private brierConfigured = 0;

  /** `p`: the learned estimate (percent) made at the entry; `configuredProbability`, the entered stage's in the version of the entry. */
  add(p: number, entry: { readonly won: boolean; readonly configuredProbability: number }): void {
    const outcome = entry.won ? 1 : 0;
    this.n += 1;
    this.won += outcome;
    const q = Math.min(100, Math.max(0, entry.configuredProbability));
    this.brierLearned += (p / 100 - outcome) ** 2;
    this.brierConfigured += (q / 100 - outcome) ** 2;
    this.learned.add(p, outcome);
    this.configured.add(q, outcome);
  }

  result(range: { readonly from: string | null; readonly to: string | null }): WinProbabilityCalibrationResult {
    const { n, learned, configured } = this;
    return {
      from: range.from,
      to: range.to,
      pseudoDeals: PSEUDO_DEALS,
      ageBucketsDays: AGE_BUCKET_DAYS,
      estimates: n,
      won: this.won,
      brierLearned: n === 0 ? null : this.brierLearned / n,
      brierConfigured: n === 0 ? null : this.brierConfigured / n,
      bins: Array.from({ length: CALIBRATION_BINS }, (_, bin) => ({ from: bin * 10, to: bin * 10 + 10, learned: learned.bin(bin), configured: configured.bin(bin) })),
    };
  }
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
