import type { OpportunityCommand } from '@stagecraft/opportunity';
import { assertCommandWithinTeams } from './team-access';

// A key or token may name no team at all (teams: []): it may open or move nothing, and is told so,
// not "limited to the teams , …", an instruction with nothing to follow.

const open = (teamId?: string): OpportunityCommand => ({ type: 'OpenOpportunity', opportunityId: 'o-1', title: 'Deal', processId: 'standard', now: '2026-01-01T00:00:00.000Z', ...(teamId ? { teamId } : {}) });

describe('a command of a caller whose key or token names no team', () => {
  it.each([['naming a team', 'direct'], ['naming none', undefined]])('is refused, saying the key or token names no team (%s)', (_, teamId) => {
    let refused: unknown;
    try {
      assertCommandWithinTeams([], open(teamId), { status: 'none' });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: 'AUTH.TEAM_FORBIDDEN', details: { allowedTeams: [] } });
    expect((refused as Error).message).toBe('This caller may open or change no opportunity: its key or token names no team.');
  });

  it('a caller with teams is still told which', () => {
    expect(() => assertCommandWithinTeams(['direct'], open('partners'), { status: 'none' })).toThrow('This caller is limited to the teams direct, not "partners".');
  });
});
