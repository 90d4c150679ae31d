import { TeamForbiddenError } from './command.errors';

/** A caller limited to teams may only see and change opportunities of those teams. */
export function assertTeamsAllowed(allowed: readonly string[], teams: readonly (string | undefined)[]): void {
  for (const team of teams) {
    if (team === undefined || !allowed.includes(team)) throw new TeamForbiddenError(allowed, team);
  }
}
