import { rejections, type OpportunityCommand, type OpportunityState } from '@stagecraft/opportunity';
import { IdempotencyKeyReusedError, OpportunityRejectedError, TeamForbiddenError } from './command.errors';

// A caller limited to teams sees and changes only opportunities of those teams. For one of
// another team it is told what it would be told for an id that does not exist (404), so an id
// never confirms that a deal exists elsewhere. A team the caller itself names (opening a deal in
// it, moving a deal to it) is refused plainly (403): that says nothing about anyone's deals.

/** Refuses, as not found, an opportunity outside the caller's teams. */
export function assertOpportunityVisible(allowed: readonly string[] | undefined, opportunityId: string, team: string | undefined): void {
  if (allowed && (team === undefined || !allowed.includes(team))) throw new OpportunityRejectedError(rejections.notFound(opportunityId));
}

/** Refuses a team the caller named but may not use; a limited caller must name one when it opens. */
export function assertTeamsAllowed(allowed: readonly string[], teams: readonly (string | undefined)[]): void {
  for (const team of teams) {
    if (team === undefined || !allowed.includes(team)) throw new TeamForbiddenError(allowed, team);
  }
}

/**
 * Checks a command against the caller's teams: a team an opening names first (whether or not the
 * id is taken, so a refused team never tells whether a deal exists), then the opportunity's own
 * team, then any team the command names. `keyUsedHere`: the command id (Idempotency-Key) when
 * the stream already holds a command of it.
 */
export function assertCommandWithinTeams(allowed: readonly string[] | undefined, command: OpportunityCommand, state: OpportunityState, keyUsedHere?: string): void {
  if (!allowed) return;
  if (command.type === 'OpenOpportunity') assertTeamsAllowed(allowed, [command.teamId]);
  if (state.status === 'none') return;
  if (state.teamId === undefined || !allowed.includes(state.teamId)) {
    if (command.type === 'OpenOpportunity') {
      // Another caller's key: the id was derived from it (an open without an id), so the caller
      // did not know it and is not told it (keys are not namespaced per caller: the key is used).
      if (keyUsedHere !== undefined) throw new IdempotencyKeyReusedError(keyUsedHere);
      // An id the caller chose and that is taken: a conflict whoever's deal it is; nothing else is said about it.
      throw new OpportunityRejectedError(rejections.alreadyOpened(command.opportunityId));
    }
    throw new OpportunityRejectedError(rejections.notFound(command.opportunityId));
  }
  if (command.type === 'ChangeOpportunityDetails' && command.teamId !== undefined) assertTeamsAllowed(allowed, [command.teamId]);
}
