import { ApiProblem } from '../http/problem';
import type { Role } from './roles';

/** Who is calling, established from credentials, never from what a request claims about itself. */
export interface Principal {
  readonly name: string;
  /** How the caller proved it: `api-key:<key id>`, `jwt`, or `auth-off` for local experiments. */
  readonly authenticatedBy: string;
  readonly roles: readonly Role[];
  /** Teams this caller may see and change; undefined means every team. */
  readonly teams?: readonly string[];
  /** A service that may name the person it acts for (X-Actor). */
  readonly mayActOnBehalf: boolean;
}

/** A caller as an audit line names it: its name (quoted: a name is the caller's own text) and how it proved it. */
export function callerInLog(principal: Principal): string {
  return `${JSON.stringify(principal.name)} (${principal.authenticatedBy})`;
}

/** The most teams a key or a token may name. */
export const TEAMS_MAX = 1000;

/**
 * A caller's teams as a principal holds them: each once. A key or token may name one twice (a
 * keys file written by hand, an identity provider's mapping); counted as two, its one team was no
 * longer implied where a caller with one team need not name it (the board, the analytics).
 */
export function teamsOfPrincipal(teams: readonly string[]): readonly string[] {
  return [...new Set(teams)];
}

/**
 * A caller's roles as a principal holds them: each once, in the order first named. An identity
 * provider may map two groups to one role, a keys file be written by hand: GET /me listed it twice.
 */
export function rolesOfPrincipal(roles: readonly Role[]): readonly Role[] {
  return [...new Set(roles)];
}

export function mayAccessTeam(principal: Principal, teamId: string | undefined): boolean {
  return principal.teams === undefined || (teamId !== undefined && principal.teams.includes(teamId));
}

/**
 * Refuses a caller limited to teams an operation that reaches every team (making keys, rebuilding
 * the read models): `what` says which, in the answer.
 */
export function assertUnlimited(caller: Principal, what: string): void {
  if (caller.teams !== undefined) throw new ApiProblem('AUTH.TEAM_FORBIDDEN', `${what} needs an admin without a team limit.`, { allowedTeams: caller.teams });
}
