import type { CriterionDescription } from './opportunities.contract';

// GET /processes and /processes/:id (JSON). Answered by apps/api (processes/*); read by the board.

export interface ProcessSummary {
  readonly id: string;
  readonly name: string;
  /** The current version: what new opportunities open with. */
  readonly version: string;
  readonly stages: readonly { readonly id: string; readonly name: string; readonly probability: number }[];
  readonly teams: readonly string[];
}

export interface ProcessList {
  readonly processes: readonly ProcessSummary[];
}

/** A process definition as validated (defaults applied), in the shape the YAML describes. */
export interface ProcessDefinitionAnswer {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly stages: readonly {
    readonly id: string;
    readonly name: string;
    readonly description?: string;
    readonly probability: number;
    readonly exitCriteria: readonly CriterionDescription[];
  }[];
  readonly rules: { readonly allowSkipping: boolean; readonly allowBackward: boolean; readonly winFrom: readonly string[] };
  readonly lostReasons: readonly string[];
  readonly teams: readonly string[];
}

/** A recorded version of a process, oldest first. */
export interface ProcessVersionInfo {
  readonly version: string;
  readonly recordedAt: string;
  /** The file it was loaded from. */
  readonly source: string;
  readonly current: boolean;
}

export interface ProcessDetail extends ProcessSummary {
  readonly definition: ProcessDefinitionAnswer;
  readonly versions: readonly ProcessVersionInfo[];
}
