import type { ConvertedAmount, ConvertedFigures } from './pipeline.contract';

// GET /analytics/*: the figures, as the API answers them (JSON). Answered by libs/projections;
// read by the board's charts. The definitions behind each figure are at the top of its projection.

export interface FunnelStage {
  readonly stageId: string;
  readonly reached: number;
  readonly conversionToNext: number | null;
}

export interface FunnelProcess {
  readonly processId: string;
  readonly stages: readonly FunnelStage[];
  readonly won: number;
  readonly conversionLastToWon: number | null;
}

export interface FunnelResult {
  readonly processes: readonly FunnelProcess[];
}

export interface StageDurationStats {
  readonly stageId: string;
  readonly completed: {
    readonly count: number;
    readonly meanSeconds: number | null;
    readonly medianSeconds: number | null;
    readonly p90Seconds: number | null;
  };
  readonly open: { readonly count: number; readonly oldestAgeSeconds: number | null };
}

export interface StageDurationsResult {
  readonly processes: readonly { readonly processId: string; readonly stages: readonly StageDurationStats[] }[];
}

export type TransitionMatrix = Readonly<Record<string, Readonly<Record<string, number>>>>;

export interface TransitionsProcess {
  readonly processId: string;
  readonly stages: readonly string[];
  readonly matrix: TransitionMatrix;
}

export interface TransitionsResult {
  readonly processes: readonly TransitionsProcess[];
}

export type WinLossGroupBy = 'team' | 'owner' | 'reason' | 'month' | 'process';

export interface WinLossFigures {
  readonly won: number;
  readonly lost: number;
  readonly winRate: number | null;
  /** The sum when every win's amount is in one currency (0 when none); null when in several: amountWonByCurrency. */
  readonly amountWon: number | null;
  readonly amountWonByCurrency: Readonly<Record<string, number>>;
  /** The same for lost deals: each lost deal's amount when it was lost. */
  readonly amountLost: number | null;
  readonly amountLostByCurrency: Readonly<Record<string, number>>;
  /** Lost opportunities per lost reason. */
  readonly lostReasons: Readonly<Record<string, number>>;
  /** Won opportunities per won reason (processes that list wonReasons; a win without a reason is not listed), keys in code-unit order. */
  readonly wonReasons: Readonly<Record<string, number>>;
  /** With a currencies file: amount won and amount lost in the reporting currency, with the rates used. */
  readonly converted?: { readonly amountWon: ConvertedAmount; readonly amountLost: ConvertedAmount };
}

export interface WinLossGroup extends WinLossFigures {
  readonly key: string | null;
}

export interface WinLossResult {
  readonly total: WinLossFigures;
  readonly groups?: readonly WinLossGroup[];
}

// Forecast, forecast accuracy and rotting deals (issue 15). Money is never added across
// currencies: every amount is a map currency → sum ("unspecified" for amounts without one), keys
// in code-unit order. A deal without an amount is counted and adds nothing.

export type ForecastPeriodKind = 'month' | 'quarter';

export interface ForecastMoney {
  readonly count: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** With a currencies file: the amounts (and, for open deals, the weighted amounts) in the reporting currency at the rates of the forecast's day, with the rates used. */
  readonly converted?: ConvertedFigures;
}

export interface ForecastOpen extends ForecastMoney {
  /** Each amount × the probability (0–100) of its stage in the deal's own process version, / 100. */
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
  /** With include=learned: each amount × its learned win probability / 100 (README, "Learned win probability"). */
  readonly weightedAmountsLearnedByCurrency?: Readonly<Record<string, number>>;
}

export interface ForecastPeriod {
  /** 2026-06 for a month, 2026-Q2 for a quarter. */
  readonly period: string;
  /** First and last day of the period (YYYY-MM-DD). */
  readonly from: string;
  readonly to: string;
  /** Open deals expected to close in the period. */
  readonly open: ForecastOpen;
  /** Deals won in the period (by the UTC day of the win) that are still won. */
  readonly won: ForecastMoney;
}

export interface ForecastResult {
  readonly period: ForecastPeriodKind;
  /** The instant the forecast stood at (ISO 8601), or null for now. */
  readonly asOf: string | null;
  /** Periods with an open deal expected or a win, in order. */
  readonly periods: readonly ForecastPeriod[];
  /** Open deals with no expected close date (whatever from/to say). */
  readonly withoutDate: ForecastOpen;
}

export interface ForecastAccuracyPeriod {
  readonly period: string;
  readonly from: string;
  readonly to: string;
  /** The forecast as it stood at the period's first instant (00:00 UTC): open deals expected to close in it. */
  readonly forecast: ForecastOpen;
  /** Deals won in the period that are still won now. */
  readonly won: ForecastMoney;
  /** How many of the forecast deals are among those won. */
  readonly forecastWon: number;
}

export interface ForecastAccuracyResult {
  readonly period: ForecastPeriodKind;
  /** In order; the API answers only those that have begun (their first instant not after now). */
  readonly periods: readonly ForecastAccuracyPeriod[];
}

export interface RottingOpportunity {
  readonly id: string;
  readonly title: string;
  readonly processId: string;
  readonly stageId: string;
  readonly stageEnteredAt: string;
  /** Whole days (business time) in the stage at the instant asked. */
  readonly daysInStage: number;
  readonly rotAfterDays: number;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly expectedCloseDate: string | null;
}

export interface RottingResult {
  /** The instant the ages are measured at (ISO 8601). */
  readonly at: string;
  readonly count: number;
  /** Longest in their stage first (ties by id); at most `limit`. */
  readonly opportunities: readonly RottingOpportunity[];
}

/** One reliability bin: estimates whose predicted probability fell in it, and how often they were won. */
export interface ReliabilityBin {
  readonly count: number;
  /** Mean predicted probability (0–100) in the bin; null when empty. */
  readonly meanPredicted: number | null;
  /** Share (0–100) of the bin's estimates whose deal was won; null when empty. */
  readonly observedWinRate: number | null;
}

export interface CalibrationBin {
  /** Predicted probability range [from, to) in percent; the last bin includes 100. */
  readonly from: number;
  readonly to: number;
  readonly learned: ReliabilityBin;
  readonly configured: ReliabilityBin;
}

/** GET /analytics/win-probability/calibration. */
export interface WinProbabilityCalibrationResult {
  readonly from: string | null;
  readonly to: string | null;
  /** The prior's weight and the time-in-stage buckets the estimates used. */
  readonly pseudoDeals: number;
  readonly ageBucketsDays: readonly number[];
  /** Estimates scored: one per stage entry in the period whose deal has closed since. */
  readonly estimates: number;
  readonly won: number;
  /** Mean of (p − outcome)² with p in 0–1; null with no estimate. Lower is better. */
  readonly brierLearned: number | null;
  readonly brierConfigured: number | null;
  readonly bins: readonly CalibrationBin[];
}

// The pipeline waterfall (issue 17): the open pipeline at `from`, what changed it, and the open
// pipeline at `to`. start + Σ changes = end holds exactly for the count and every currency's
// amount (libs/projections/src/waterfall.figures.ts has the bucket rules; README, analyst).

/** The buckets of the identity, in the order they are answered. stageIn/stageOut only per stage (by=stage). */
export type WaterfallBucket = 'created' | 'reopened' | 'movedIn' | 'amountIncreased' | 'amountDecreased' | 'movedOut' | 'won' | 'lost' | 'stageIn' | 'stageOut';

/** Changes shown beside the identity (they move no count or amount): expected close dates moved later or earlier. */
export type WaterfallMemoBucket = 'pushedOut' | 'pulledIn';

export interface WaterfallOpen {
  readonly count: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
}

/** One deal's change in a bucket (drill-down). */
export interface WaterfallChangeOpportunity {
  readonly id: string;
  readonly title: string;
  /** The instant of the change (business time). */
  readonly at: string;
  /** -1, 0 or +1: what it did to the open count (memos: 1, one change). */
  readonly count: number;
  /** Signed change of the amount in `currency` (memos: the deal's amount then); null: the deal has no amount. */
  readonly amount: number | null;
  /** The deal's currency; null for a deal without one (the sums key its money `unspecified`). */
  readonly currency: string | null;
}

export interface WaterfallChange<Bucket extends string = WaterfallBucket> {
  readonly bucket: Bucket;
  /** Signed change of the open count (memos: how many changes). */
  readonly count: number;
  /** Signed change per currency (memos: the amounts of the deals whose date moved). */
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** How many changes fell in the bucket (a deal changed twice counts twice). */
  readonly steps: number;
  /** With include=opportunities: each change, in time order (ties by id). */
  readonly opportunities?: readonly WaterfallChangeOpportunity[];
}

export interface WaterfallFigures {
  readonly start: WaterfallOpen;
  readonly changes: readonly WaterfallChange[];
  readonly memos: readonly WaterfallChange<WaterfallMemoBucket>[];
  readonly end: WaterfallOpen;
}

export interface WaterfallStage extends WaterfallFigures {
  readonly stageId: string;
  readonly name: string;
}

export interface WaterfallProcess {
  readonly processId: string;
  readonly stages: readonly WaterfallStage[];
}

export interface WaterfallResult extends WaterfallFigures {
  readonly from: string;
  readonly to: string;
  /** With by=stage: the same figures per stage, processes and stages in process order (stageIn/stageOut added). */
  readonly processes?: readonly WaterfallProcess[];
  /**
   * With include=opportunities (the API always pages it): the cursor of the first change not listed
   * in this page, to pass back as ?fromChange=; null when this page lists the window's last change.
   */
  readonly nextFromChange?: string | null;
}

// Sales velocity (issue 17): per group, the levers of opportunities × win rate × average won
// amount ÷ cycle days, each shown; money per currency, never added across currencies.

export type VelocityGroupBy = 'team' | 'owner' | 'process';

export interface VelocityFigures {
  /** Deals open (and in the filter and group) at some instant of [from, to]: the deals worked. */
  readonly opportunities: number;
  /** Closings in (from, to] of those deals: won and lost (a deal closed twice counts twice). */
  readonly won: number;
  readonly lost: number;
  /** won / (won + lost); null without closings. */
  readonly winRate: number | null;
  /** Per currency, the mean amount of the deals won (their amount when won). */
  readonly averageWonAmountsByCurrency: Readonly<Record<string, number>>;
  /** Mean days (business time) from opening to the win, over the wins; null without wins. */
  readonly averageCycleDays: number | null;
  /** Per currency, opportunities × winRate × average won amount ÷ averageCycleDays: money per day. */
  readonly velocityByCurrency: Readonly<Record<string, number>>;
}

export interface VelocityGroup extends VelocityFigures {
  /** The team, owner (as they were: at each instant, at each closing) or process; null: none. */
  readonly key: string | null;
}

export interface VelocityResult {
  readonly from: string;
  readonly to: string;
  readonly total: VelocityFigures;
  /** With groupBy: by key (null first, then in code-unit order). */
  readonly groups?: readonly VelocityGroup[];
}

// Cohorts (issue 17): opportunities by the month they opened, how far each cohort got.

export interface Cohort {
  /** The UTC month of opening: 2026-03. */
  readonly cohort: string;
  readonly opened: number;
  /** Ever won (reopened ones included), as the funnel counts them. */
  readonly won: number;
  /** Median days (business time) from opening to the first win, over the cohort's won deals; null: none won. */
  readonly medianDaysToWin: number | null;
  /** The funnel of the cohort: per process, reached per stage (furthest stage reached, won ones passing all) and won. */
  readonly processes: readonly FunnelProcess[];
}

export interface CohortsResult {
  readonly by: 'month';
  /** Months with at least one opening, in order. */
  readonly cohorts: readonly Cohort[];
}
