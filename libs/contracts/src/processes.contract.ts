import type { CriterionDescription } from './opportunities.contract';

// GET /processes and /processes/:id (JSON). Answered by apps/api (processes/*); read by the board.

export interface ProcessSummary {
  readonly id: string;
  readonly name: string;
  /** The current version: what new opportunities open with. */
  readonly version: string;
  readonly stages: readonly { readonly id: string; readonly name: string; readonly probability: number }[];
  readonly teams: readonly string[];
  /** The main process (`default: true` in its file, else the first file): what a board opens on. */
  readonly default: boolean;
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
    /** Days (business time) an open deal may sit in the stage before it counts as rotting; absent: it never rots. */
    readonly rotAfterDays?: number;
  }[];
  readonly rules: { readonly allowSkipping: boolean; readonly allowBackward: boolean; readonly winFrom: readonly string[] };
  readonly lostReasons: readonly string[];
  /** When present, a win names one of them (`reason`). */
  readonly wonReasons?: readonly string[];
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

/** A step an open opportunity may take from a stage, as the process's rules decide before any criteria are met. */
export interface MoveOptionAnswer {
  /** A stage id, or "won" / "lost". */
  readonly to: string;
  readonly allowed: boolean;
  /** Exit criteria of the stage left that must be met when the move is made. */
  readonly requiredCriteria: readonly string[];
  /** When not allowed: the rule that forbids it, with the code and message the API refuses it with. */
  readonly refusal?: { readonly rule: string; readonly code: string; readonly message: string };
}

export interface ProcessDetail extends ProcessSummary {
  readonly definition: ProcessDefinitionAnswer;
  /** Each recorded version once, in the order of its last recording (a version set back comes last again). */
  readonly versions: readonly ProcessVersionInfo[];
  /** Per stage of the current version (or the one asked for with `?version=`), in order: where an open opportunity there may go. */
  readonly moves: readonly { readonly from: string; readonly options: readonly MoveOptionAnswer[] }[];
}

/** GET /me: who the credentials say the caller is, so a client offers only what it may do. */
export interface CallerAnswer {
  readonly name: string;
  readonly roles: readonly string[];
  /** The teams this caller may see and change; null: every team. */
  readonly teams: readonly string[] | null;
}
