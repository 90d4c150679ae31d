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
}

export interface ClosedSection {
  /** Every opportunity of this outcome closed in the window, not only the cards listed. */
  readonly count: number;
  readonly amount: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
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
  /** The live pipeline's cards only (not `?asOf=`). */
  readonly criteria?: CriteriaProgress;
}

export interface PipelineStage {
  readonly stageId: string;
  readonly name: string;
  /** Of the latest recorded version that has this stage. */
  readonly probability: number;
  readonly count: number;
  /** Plain sum over currencies: meaningful only when all amounts share one currency. */
  readonly amount: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** Σ amount × probability / 100, each with the probability of its own process version. */
  readonly weightedAmount: number;
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
  readonly opportunities?: readonly PipelineOpportunity[];
  /** With cardsPerColumn: how many of `count` are not in `opportunities`. */
  readonly opportunitiesOmitted?: number;
}

export interface PipelineProcess {
  readonly processId: string;
  readonly stages: readonly PipelineStage[];
  readonly won?: ClosedSection;
  readonly lost?: ClosedSection;
}

export interface PipelineResult {
  readonly processes: readonly PipelineProcess[];
  /** The window of the won/lost sections, when asked for. */
  readonly closed?: ClosedWindow;
}
