// The JSON the board reads, as the API answers it (apps/api/src/**/*.controller.ts). Plain types
// with no import: this file is bundled for the browser. board.api-types.spec.ts checks at compile
// time that the API's own result types still fit these.

export interface ProblemBody {
  readonly status: number;
  readonly code: string;
  readonly title?: string;
  readonly detail?: string;
  /** OPPORTUNITY.EXIT_CRITERIA_UNMET: the stage being left and what is missing. */
  readonly stage?: string;
  readonly unmetCriteria?: readonly CriterionDescription[];
  readonly [detail: string]: unknown;
}

export interface CriterionDescription {
  readonly id: string;
  readonly description: string;
}

export interface ProcessSummary {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly stages: readonly { readonly id: string; readonly name: string; readonly probability: number }[];
  readonly teams: readonly string[];
}

export interface ProcessList {
  readonly processes: readonly ProcessSummary[];
}

export interface ProcessDetail extends ProcessSummary {
  readonly definition: {
    readonly id: string;
    readonly name: string;
    readonly stages: readonly {
      readonly id: string;
      readonly name: string;
      readonly probability: number;
      readonly exitCriteria: readonly CriterionDescription[];
    }[];
    readonly rules: { readonly allowSkipping: boolean; readonly allowBackward: boolean; readonly winFrom: readonly string[] };
    readonly lostReasons: readonly string[];
    readonly teams: readonly string[];
  };
}

export interface PipelineCard {
  readonly id: string;
  readonly title: string;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly stageEnteredAt: string;
}

export interface PipelineStageFigures {
  readonly stageId: string;
  readonly name: string;
  readonly probability: number;
  readonly count: number;
  readonly amount: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  readonly weightedAmount: number;
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
  readonly opportunities?: readonly PipelineCard[];
  /** With ?cardsPerColumn=: how many of `count` are not among `opportunities`. */
  readonly opportunitiesOmitted?: number;
}

/** A closed opportunity in GET /pipeline?closed=won,lost&include=opportunities. */
export interface ClosedCard {
  readonly id: string;
  readonly title: string;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly closedAt: string;
  readonly lostReason?: string | null;
}

export interface ClosedFigures {
  readonly count: number;
  readonly amount: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  readonly opportunities?: readonly ClosedCard[];
}

export interface PipelineAnswer {
  readonly processes: readonly { readonly processId: string; readonly stages: readonly PipelineStageFigures[]; readonly won?: ClosedFigures; readonly lost?: ClosedFigures }[];
  /** The period of `won` / `lost`, when asked for. */
  readonly closed?: { readonly from: string; readonly to: string; readonly limit: number };
}

export interface WinLossFigures {
  readonly won: number;
  readonly lost: number;
  readonly winRate: number | null;
  readonly amountWon: number;
  readonly amountWonByCurrency: Readonly<Record<string, number>>;
  readonly lostReasons: Readonly<Record<string, number>>;
}

export interface WinLossAnswer {
  readonly total: WinLossFigures;
  readonly groups?: readonly (WinLossFigures & { readonly key: string | null })[];
}

export interface FunnelAnswer {
  readonly processes: readonly {
    readonly processId: string;
    readonly stages: readonly { readonly stageId: string; readonly reached: number; readonly conversionToNext: number | null }[];
    readonly won: number;
    readonly conversionLastToWon: number | null;
  }[];
}

export interface StageDurationsAnswer {
  readonly processes: readonly {
    readonly processId: string;
    readonly stages: readonly {
      readonly stageId: string;
      readonly completed: { readonly count: number; readonly meanSeconds: number | null; readonly medianSeconds: number | null; readonly p90Seconds: number | null };
      readonly open: { readonly count: number; readonly oldestAgeSeconds: number | null };
    }[];
  }[];
}

/** What every command answers. */
export interface CommandAnswer {
  readonly id: string;
  readonly stage: string;
  readonly status: 'open' | 'won' | 'lost';
  readonly revision: number;
  readonly position: number;
}

export interface OpportunityAnswer {
  readonly id: string;
  readonly processId: string;
  readonly title: string;
  readonly teamId: string | null;
  readonly ownerId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly stage: string;
  readonly stageName: string | null;
  readonly status: 'open' | 'won' | 'lost';
  readonly exitCriteria: readonly (CriterionDescription & { readonly met: boolean })[];
  readonly lostReason: string | null;
  readonly revision: number;
  readonly position: number;
  readonly stageEnteredAt: string | null;
}

export interface HistoryAnswer {
  readonly events: readonly {
    readonly revision: number;
    readonly position: number;
    readonly type: string;
    readonly data: Readonly<Record<string, unknown>>;
    readonly metadata: Readonly<Record<string, unknown>>;
  }[];
}
