// GET /pipeline: the board, as the API answers it (JSON). Answered by libs/projections
// (pipeline.projection.ts, stage-intervals.projection.ts); read by the board.

export type ClosedOutcome = 'won' | 'lost';

/** The window a ClosedQuery asked for, as answered (instants normalised to UTC). */
export interface ClosedWindow {
  readonly from: string;
  readonly to: string;
  readonly limit: number;
}

/** What every card shows, open or closed. */
export interface OpportunityCard {
  readonly id: string;
  readonly title: string;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
}

export interface ClosedOpportunity extends OpportunityCard {
  /** occurredAt of the latest closing, as written. */
  readonly closedAt: string;
  /** The stage it closed in (won from / lost in): where a reopening starts from. Null only in a log that closed it twice. */
  readonly closedInStage: string | null;
  /** Only in `lost`. */
  readonly lostReason?: string | null;
  /** What happens next, as written on the win or the loss; null when nothing was written. */
  readonly nextSteps: string | null;
  /** The process version the deal runs on, whose rules decide a reopening (GET /processes/:id?version=); the live pipeline's cards only. */
  readonly processVersion?: string;
}

export interface ClosedSection {
  /** Every opportunity of this outcome closed in the window, not only the cards listed. */
  readonly count: number;
  /** The sum when every amount is in one currency (0 when none); null when in several: amountsByCurrency. */
  readonly amount: number | null;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** With a currencies file: the amounts converted to the reporting currency, with the rates used. */
  readonly converted?: ConvertedFigures;
  /** With includeOpportunities: at most `limit`, newest closing first (ties by id). */
  readonly opportunities?: readonly ClosedOpportunity[];
}

/** Exit criteria of a card's current stage (in its own process version): how many are met of how many. */
export interface CriteriaProgress {
  readonly met: number;
  readonly total: number;
}

export interface PipelineOpportunity extends OpportunityCard {
  readonly stageEnteredAt: string;
  /** YYYY-MM-DD, or null when none is set. */
  readonly expectedCloseDate: string | null;
  /** Whole days (business time) in the stage at the instant the board describes (now, or asOf); the API always sends it. */
  readonly daysInStage?: number;
  /** Longer in the stage than the stage's rotAfterDays (GET /analytics/rotting lists them); the API always sends it. */
  readonly rotting?: boolean;
  /** Learned P(win), 0–100 (README, "Learned win probability"); with include=opportunities. */
  readonly winProbability?: number;
  /** The stage's probability (0–100) in the deal's own process version, beside the learned one. */
  readonly configuredProbability?: number;
  /** The live pipeline's cards only (not `?asOf=`). */
  readonly criteria?: CriteriaProgress;
  /** The process version the deal runs on, whose rules decide its moves (GET /processes/:id?version=); the live pipeline's cards only. */
  readonly processVersion?: string;
}

export interface PipelineStage {
  readonly stageId: string;
  readonly name: string;
  /** Of the latest recorded version that has this stage. */
  readonly probability: number;
  readonly count: number;
  /** The sum when every amount is in one currency (0 when none); null when in several: amountsByCurrency. */
  readonly amount: number | null;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** Σ amount × probability / 100, each with the probability of its own process version; null when in several currencies. */
  readonly weightedAmount: number | null;
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
  /** rotAfterDays of the stage (latest version that has it); null: it never rots. */
  readonly rotAfterDays: number | null;
  /** Open deals of the column (all, not only the cards listed) rotting at the instant the board describes; the API always sends it. */
  readonly rotting?: number;
  /** With a currencies file: amount and weighted amount converted to the reporting currency, with the rates used. */
  readonly converted?: ConvertedFigures;
  /** Σ amount × learned win probability / 100 (README, "Learned win probability"); null when in several currencies. */
  readonly weightedAmountLearned?: number | null;
  readonly weightedAmountsLearnedByCurrency?: Readonly<Record<string, number>>;
  readonly opportunities?: readonly PipelineOpportunity[];
  /** With include=opportunities (whose cards are capped: cardsPerColumn, default 100): how many of `count` are not in `opportunities`. */
  readonly opportunitiesOmitted?: number;
}

export interface PipelineProcess {
  readonly processId: string;
  readonly stages: readonly PipelineStage[];
  readonly won?: ClosedSection;
  readonly lost?: ClosedSection;
}

/**
 * A total in the reporting currency of the currencies file (config/currencies.yaml): each
 * currency's sum times the rate in force on `rateDate` (the rate with the latest `from` not after
 * it). Only the API adds it; the read side never mixes currencies.
 */
export interface ConvertedAmount {
  readonly currency: string;
  /** null when a currency of the figure has no rate in force then (see `missingRates`), or is unspecified. */
  readonly amount: number | null;
  readonly rateDate: string;
  /** Every rate used: 1 unit of `currency` = `rate` units of the reporting currency, in force from `from`. */
  readonly rates: readonly { readonly currency: string; readonly rate: number; readonly from: string }[];
  /** Currencies of the figure without a rate in force on rateDate (`unspecified`: amounts without a currency). */
  readonly missingRates: readonly string[];
}

export interface ConvertedFigures {
  readonly amount: ConvertedAmount;
  readonly weightedAmount?: ConvertedAmount;
  /** With include=learned (the forecast) or the learned figures on the board: the learned weighted amounts, converted at the same rates. */
  readonly weightedAmountLearned?: ConvertedAmount;
}

export interface PipelineResult {
  readonly processes: readonly PipelineProcess[];
  /** The window of the won/lost sections, when asked for. */
  readonly closed?: ClosedWindow;
}
