import type { OpportunityDetails } from './opportunity.events';

// Commands are imperative. Time arrives with the command: `now` is the server's clock read at
// the edge, `occurredAt` the business time a backfilling client may supply (defaults to now).
interface CommandBase<Type extends string> {
  readonly type: Type;
  readonly opportunityId: string;
  readonly now: string;
  readonly occurredAt?: string;
}

export interface OpenOpportunity extends CommandBase<'OpenOpportunity'>, Partial<Omit<OpportunityDetails, 'title'>> {
  readonly processId: string;
  readonly title: string;
  /** YYYY-MM-DD; recorded as ExpectedCloseDateChanged right after the opening. */
  readonly expectedCloseDate?: string;
}
export interface MeetExitCriterion extends CommandBase<'MeetExitCriterion'> {
  readonly criterionId: string;
  readonly note?: string;
}
export interface RevokeExitCriterion extends CommandBase<'RevokeExitCriterion'> {
  readonly criterionId: string;
  readonly note?: string;
}
export interface MoveOpportunityToStage extends CommandBase<'MoveOpportunityToStage'> {
  readonly stage: string;
  readonly note?: string;
}
export interface WinOpportunity extends CommandBase<'WinOpportunity'> {
  /** One of the process's wonReasons: required when it lists them, refused when it does not. */
  readonly reason?: string;
  readonly note?: string;
  /** What happens after the win (the seed's last stage: "contract signed, next steps"); recorded as written. */
  readonly nextSteps?: string;
}
export interface LoseOpportunity extends CommandBase<'LoseOpportunity'> {
  readonly reason: string;
  readonly note?: string;
  /** What happens after the loss; recorded as written. */
  readonly nextSteps?: string;
}
export interface ReopenOpportunity extends CommandBase<'ReopenOpportunity'> {
  /** Stage to return to; the stage it was closed in when absent. */
  readonly stage?: string;
  readonly note?: string;
}
export interface ChangeOpportunityDetails extends CommandBase<'ChangeOpportunityDetails'>, Partial<OpportunityDetails> {
  /** YYYY-MM-DD, or null to clear it; absent leaves it as it is. */
  readonly expectedCloseDate?: string | null;
}

/**
 * Moves an open opportunity to a newer version of its process. `stageMapping` maps old stage ids
 * to new ones; the current stage must exist in the target version or be mapped.
 */
export interface MigrateOpportunity extends CommandBase<'MigrateOpportunity'> {
  readonly toVersion: string;
  readonly stageMapping?: Readonly<Record<string, string>>;
  readonly note?: string;
}

export type OpportunityCommand =
  | OpenOpportunity
  | MeetExitCriterion
  | RevokeExitCriterion
  | MoveOpportunityToStage
  | WinOpportunity
  | LoseOpportunity
  | ReopenOpportunity
  | ChangeOpportunityDetails
  | MigrateOpportunity;
