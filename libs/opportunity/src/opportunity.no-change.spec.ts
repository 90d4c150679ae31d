import { decide } from './opportunity.decide';
import { foldOpportunity } from './opportunity.evolve';
import { unchangingCommand } from './opportunity.no-change';
import type { OpportunityCommand } from './opportunity.commands';
import { allMet, command, events, shippedProcess } from './testing/opportunity.fixtures';

const standard = shippedProcess('standard');
const { opened, met, moved, lost } = events;

describe('unchangingCommand: the command a NoChangeRecorded records, made again', () => {
  const decided = (history: Parameters<typeof foldOpportunity>[0], type: string) => {
    const state = foldOpportunity(history);
    const fields = unchangingCommand(type, state, standard);
    return fields === undefined ? undefined : decide({ ...command(), ...fields } as OpportunityCommand, state, standard);
  };

  it('is accepted by decide() with no event, for each type that can change nothing', () => {
    const someMet = [opened(standard, 0), moved('new', 'qualification', 'forward', 1), met('qualification', 'goals', 2)];
    for (const type of ['MeetExitCriterion', 'RevokeExitCriterion', 'ChangeOpportunityDetails']) {
      expect([type, decided(someMet, type)]).toEqual([type, { ok: true, events: [] }]);
    }
  });

  it('is none where no such command exists: nothing met, everything met, a closed deal, a type that always records', () => {
    const inQualification = [opened(standard, 0), moved('new', 'qualification', 'forward', 1)];
    expect(decided(inQualification, 'MeetExitCriterion')).toBeUndefined();
    expect(decided([...inQualification, ...allMet(standard, 'qualification', 2)], 'RevokeExitCriterion')).toBeUndefined();
    expect(decided([...inQualification, lost('qualification', 'price', 3)], 'ChangeOpportunityDetails')).toBeUndefined();
    expect(decided(inQualification, 'MoveOpportunityToStage')).toBeUndefined();
    expect(decided([], 'ChangeOpportunityDetails')).toBeUndefined();
  });
});
