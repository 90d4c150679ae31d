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

export function mayAccessTeam(principal: Principal, teamId: string | undefined): boolean {
  return principal.teams === undefined || (teamId !== undefined && principal.teams.includes(teamId));
}
