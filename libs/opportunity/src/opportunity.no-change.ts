import type { CompiledProcess } from '@stagecraft/sales-process';
import type { OpportunityState } from './opportunity.state';

/** The fields (beyond the opportunity and its time) of a command that decide() accepts without an event. */
export type UnchangingCommand =
  | { readonly type: 'MeetExitCriterion'; readonly criterionId: string }
  | { readonly type: 'RevokeExitCriterion'; readonly criterionId: string }
  | { readonly type: 'ChangeOpportunityDetails' };

/**
 * A command of `commandType` that changes nothing on `state`, as the one a `NoChangeRecorded`
 * records did: a criterion met in this visit met again, one of the stage's criteria not met
 * revoked, details sent with none of them. Undefined when there is none here: the deal is not
 * open, no criterion of its stage is in that state, or every command of the type records an event
 * or is refused. Replaying a log (the CLI's import) sends it keyed, so that decide() records the
 * same `NoChangeRecorded` at the same revision and the events after it land where they were.
 */
export function unchangingCommand(commandType: string, state: OpportunityState, process: CompiledProcess): UnchangingCommand | undefined {
  if (state.status !== 'open') return undefined;
  switch (commandType) {
    case 'MeetExitCriterion': {
      const [met] = state.criteriaMet;
      return met === undefined ? undefined : { type: 'MeetExitCriterion', criterionId: met };
    }
    case 'RevokeExitCriterion': {
      const unmet = process.stage(state.stage)?.exitCriteria.find((criterion) => !state.criteriaMet.includes(criterion.id));
      return unmet === undefined ? undefined : { type: 'RevokeExitCriterion', criterionId: unmet.id };
    }
    case 'ChangeOpportunityDetails':
      return { type: 'ChangeOpportunityDetails' };
    default:
      return undefined;
  }
}
