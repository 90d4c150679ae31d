import { StreamDeletedError, StreamTruncatedError, UnreadableEventError } from '@stagecraft/event-store';
import { rejections, UnexpectedEventError, UnknownEventTypeError, type OpportunityCommand, type OpportunityState } from '@stagecraft/opportunity';
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

/**
 * The errors that say an opportunity's stored events can no longer be read or replayed (altered
 * outside Stagecraft, truncated or deleted in the store): such a stream names no team.
 */
export function isUnreadableStream(error: unknown): boolean {
  return (
    error instanceof UnexpectedEventError ||
    error instanceof UnknownEventTypeError ||
    error instanceof UnreadableEventError ||
    error instanceof StreamTruncatedError ||
    error instanceof StreamDeletedError
  );
}

/**
 * Reads an opportunity's stream for a caller. One whose events no longer read or replay has no
 * team a caller limited to teams may rely on: it is told what it is told of another team's deal
 * (`hidden`; not found by default), never that this id holds a damaged or deleted record, which
 * would confirm the id exists. A caller without a team limit is told what went wrong.
 */
export async function readWithinTeams<T>(
  allowed: readonly string[] | undefined,
  opportunityId: string,
  read: () => Promise<T>,
  hidden: () => Error = () => new OpportunityRejectedError(rejections.notFound(opportunityId)),
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (allowed && isUnreadableStream(error)) throw hidden();
    throw error;
  }
}

/** What a command of a caller limited to teams is answered on a stream that names no team: what another team's deal answers (assertCommandWithinTeams). */
export function hiddenFromCommand(allowed: readonly string[], command: OpportunityCommand): Error {
  if (command.type !== 'OpenOpportunity') return new OpportunityRejectedError(rejections.notFound(command.opportunityId));
  // The team the opening names is checked first, as on any id; then the id is in use, whoever's it is.
  assertTeamsAllowed(allowed, [command.teamId]);
  return new OpportunityRejectedError(rejections.alreadyOpened(command.opportunityId));
}
