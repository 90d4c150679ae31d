// The process definition of DESIGN.md §3, as it is after validation: defaults applied,
// every reference checked. Stage and criterion ids are immutable identities; names may change.

export interface ExitCriterionDefinition {
  readonly id: string;
  readonly description: string;
}

export interface StageDefinition {
  readonly id: string;
  readonly name: string;
  /** What the stage is for, in the sales team's words. */
  readonly description?: string;
  /** Chance of winning from this stage, 0–100; weights the pipeline amount. */
  readonly probability: number;
  readonly exitCriteria: readonly ExitCriterionDefinition[];
  /**
   * Days (business time) an open deal may sit in this stage before it counts as rotting; absent:
   * it never rots here. Left out of the definition when not given, so existing versions keep their hash.
   */
  readonly rotAfterDays?: number;
}

export interface ProcessRules {
  /** Forward moves may jump over stages (otherwise only to the next stage). */
  readonly allowSkipping: boolean;
  /** Moves back to any earlier stage are allowed. */
  readonly allowBackward: boolean;
  /** Stages from which an opportunity may be won; that stage's exit criteria still apply. */
  readonly winFrom: readonly string[];
}

export interface ProcessDefinition {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly stages: readonly StageDefinition[];
  readonly rules: ProcessRules;
  readonly lostReasons: readonly string[];
  /**
   * Why deals are won. When given, a win must name one of them; absent, a win takes no reason.
   * Left out when not given, so existing versions keep their hash.
   */
  readonly wonReasons?: readonly string[];
  /** Teams that run this process; empty means any team. */
  readonly teams: readonly string[];
}
