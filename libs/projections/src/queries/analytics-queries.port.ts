import type { OpportunitySearchResult, CohortsResult, ForecastAccuracyResult, ForecastResult, FunnelResult, PipelineResult, RottingResult, StageDurationsResult, TransitionsResult, VelocityResult, WaterfallResult, WinLossGroupBy, WinLossResult, WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import type { ForecastQuery, RottingQuery } from '../forecast.queries';
import type { PipelineFilter, PipelineQueryOptions } from '../pipeline.projection';
import type { OpportunitySearchQuery } from '../opportunity-search';
import type { AnalyticsFilter } from '../projection.types';
import type { ProjectionStatus } from '../runner/read-models.port';
import type { LearnedForecastFigures, LearnedPipelineFigures } from '../win-probability.model';
import type { LearnedForecastQuery, LearnedPipelineQuery } from '../win-probability.queries';
import type { VelocityQuery } from '../velocity.queries';
import type { WaterfallQuery } from '../waterfall.queries';

/** DI token of the AnalyticsQueries the API asks. */
export const ANALYTICS_QUERIES = Symbol('ANALYTICS_QUERIES');

/**
 * What the analytics endpoints ask of the read side, whatever keeps it: the in-memory read models
 * (the embedded default) or PostgreSQL (READ_MODELS_URL). Both adapters answer the same JSON for
 * the same log, to the last bit of every float (the contract suite checks it: testing/).
 *
 * Errors: a read model that stopped on an event, or a read side that cannot answer now, throws
 * ReadModelUnavailableError; a bad argument from a library caller throws a RangeError.
 */
export interface AnalyticsQueries {
  /** Open opportunities per current stage (and, with options.closed, the recently closed ones). */
  pipeline(filter: PipelineFilter, options?: PipelineQueryOptions): Promise<PipelineResult>;
  /** Deals, open or closed, whose title, owner or id holds the words asked, newest first (opportunity-search.ts); a bad cursor throws SearchCursorError. */
  searchOpportunities(query: OpportunitySearchQuery): Promise<OpportunitySearchResult>;
  /** The board as it stood at an instant of business time (ms since the epoch); team/owner as they were then. */
  pipelineAsOf(atMs: number, filter: PipelineFilter, options?: PipelineQueryOptions): Promise<PipelineResult>;
  winLoss(filter: AnalyticsFilter, groupBy?: WinLossGroupBy): Promise<WinLossResult>;
  /** `now` (ISO 8601) measures the age of open visits. */
  stageDurations(filter: AnalyticsFilter, now: string): Promise<StageDurationsResult>;
  funnel(filter: AnalyticsFilter): Promise<FunnelResult>;
  transitions(filter: AnalyticsFilter): Promise<TransitionsResult>;
  /** Open deals by expected close period, won so far, and those without a date (forecast.figures.ts). */
  forecast(query: ForecastQuery): Promise<ForecastResult>;
  /** The forecast as it stood at an instant of business time (ms since the epoch). */
  forecastAsOf(atMs: number, query: ForecastQuery): Promise<ForecastResult>;
  /** Per period: what was forecast at its start against what was won in it. */
  forecastAccuracy(query: ForecastQuery): Promise<ForecastAccuracyResult>;
  /** Deals longer in their stage than its rotAfterDays, aged at `nowMs`. */
  rotting(nowMs: number, query: RottingQuery): Promise<RottingResult>;
  /** The rotting deals as they stood at an instant of business time. */
  rottingAsOf(atMs: number, query: RottingQuery): Promise<RottingResult>;
  /** Learned win probabilities of the board's open deals, now or as of an instant (win-probability.model.ts). */
  learnedPipeline(query: LearnedPipelineQuery): Promise<LearnedPipelineFigures>;
  /** Learned weighted amounts of the forecast's open deals, per period and currency. */
  learnedForecast(query: LearnedForecastQuery): Promise<LearnedForecastFigures>;
  /** Brier scores and reliability bins of the estimates made at each stage entry in the period. */
  winProbabilityCalibration(filter: AnalyticsFilter): Promise<WinProbabilityCalibrationResult>;
  /** The open pipeline at fromMs and at toMs and the changes between, in buckets (waterfall.figures.ts). */
  waterfall(query: WaterfallQuery): Promise<WaterfallResult>;
  /** Sales velocity and its levers over a window, in total and per group (velocity.figures.ts). */
  velocity(query: VelocityQuery): Promise<VelocityResult>;
  /** Opportunities by month of opening: each cohort's funnel, won, median days to the first win (cohorts.figures.ts). */
  cohorts(filter: AnalyticsFilter): Promise<CohortsResult>;
  /**
   * Makes an answer of several queries (the board and its learned figures, the forecast and its
   * learned amounts) from one state of the read side: every query `work` asks of the `queries` it
   * is given reads the log up to the same position, whatever is folded in meanwhile. `sideBySide`:
   * one of them reads in parallel (the board's closed sections), on a second connection if any.
   */
  oneSnapshot<T>(work: (queries: AnalyticsQueries) => Promise<T>, options?: { sideBySide?: boolean }): Promise<T>;
  /** The log position every working read model has folded in (as last seen). */
  position(): number;
  /** Resolves true once every working read model has folded in `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
  status(): ProjectionStatus[];
  /** How an operator rebuilds the read models `names` once stopped, as the words after "rebuild it" (runner/read-models.port.ts). */
  rebuildInstruction(names: readonly string[]): string;
}

/** A read model cannot answer: it stopped on an event (an operator must rebuild it), or its store cannot be reached. */
export class ReadModelUnavailableError extends Error {
  constructor(
    readonly code: 'PROJECTIONS.FAILED' | 'PROJECTIONS.UNAVAILABLE',
    message: string,
    readonly projection?: string,
  ) {
    super(message);
    this.name = 'ReadModelUnavailableError';
  }
}
