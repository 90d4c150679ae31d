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
  readonly amountWon: number;
  readonly amountWonByCurrency: Readonly<Record<string, number>>;
  /** Lost opportunities per lost reason. */
  readonly lostReasons: Readonly<Record<string, number>>;
}

export interface WinLossGroup extends WinLossFigures {
  readonly key: string | null;
}

export interface WinLossResult {
  readonly total: WinLossFigures;
  readonly groups?: readonly WinLossGroup[];
}
