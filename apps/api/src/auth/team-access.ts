import { ApiProblem } from '../http/problem';

/** A caller limited to teams may only see and change opportunities of those teams. */
export function assertTeamsAllowed(allowed: readonly string[], teams: readonly (string | undefined)[]): void {
  for (const team of teams) {
    if (team === undefined || !allowed.includes(team)) {
      throw new ApiProblem(
        403,
        'AUTH.TEAM_FORBIDDEN',
        team === undefined
          ? `This caller is limited to the teams ${allowed.join(', ')}; the opportunity must belong to one of them (give teamId).`
          : `This caller is limited to the teams ${allowed.join(', ')}, not "${team}".`,
        { allowedTeams: allowed },
      );
    }
  }
}
