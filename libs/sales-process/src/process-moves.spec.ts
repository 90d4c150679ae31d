import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess } from './compiled-process';
import type { ProcessDefinition } from './process-definition.types';
import { stageMovesOf } from './process-moves';
import { definitionArbitrary } from './testing';

// The move table a board reads must say what the machine does: a move it lists as allowed goes
// through once the listed criteria are met, and is refused for exactly those criteria before.

const FAST_CHECK = { seed: 20261128, numRuns: 150 } as const;

describe('the move table of a process', () => {
  it('allows exactly the steps the machine takes once every exit criterion of the stage is met, and names the criteria it needs', () => {
    assertProperty(
      fc.property(definitionArbitrary, (definition) => {
        const process = compileProcess(definition);
        for (const { from, options } of stageMovesOf(definition)) {
          const stage = definition.stages.find((candidate) => candidate.id === from)!;
          const allMet = stage.exitCriteria.map((criterion) => criterion.id);
          const full = process.snapshotAt({ status: 'open', stage: from, criteriaMet: allMet });
          const none = process.snapshotAt({ status: 'open', stage: from, criteriaMet: [] });
          for (const option of options) {
            const event = option.to === 'won' ? { type: 'WIN' as const } : option.to === 'lost' ? { type: 'LOSE' as const, reason: definition.lostReasons[0]! } : { type: 'MOVE' as const, to: option.to };
            expect({ from, to: option.to, allowed: full.can(event) }).toEqual({ from, to: option.to, allowed: option.allowed });
            // Criteria are needed exactly when the step is refused with none met.
            const refusedWithNone = option.allowed && !none.can(event);
            expect({ from, to: option.to, needsCriteria: option.requiredCriteria.length > 0 }).toEqual({ from, to: option.to, needsCriteria: refusedWithNone });
            expect(option.allowed ? option.refusal : option.refusal?.message.length).toEqual(option.allowed ? undefined : expect.any(Number));
          }
        }
      }),
      FAST_CHECK,
    );
  });

  it('says which rule forbids a move: no skipping ahead, no win outside winFrom', () => {
    const definition: ProcessDefinition = {
      id: 'demo',
      name: 'Demo',
      stages: [
        { id: 'new', name: 'New', probability: 10, exitCriteria: [{ id: 'need', description: 'The need is confirmed' }] },
        { id: 'offer', name: 'Offer', probability: 50, exitCriteria: [] },
        { id: 'closing', name: 'Closing', probability: 80, exitCriteria: [] },
      ],
      rules: { allowSkipping: false, allowBackward: false, winFrom: ['closing'] },
      lostReasons: ['price'],
      teams: [],
    };
    const fromNew = stageMovesOf(definition).find((entry) => entry.from === 'new')!.options;
    expect(fromNew.map((option) => [option.to, option.allowed, option.refusal?.rule ?? null, option.requiredCriteria])).toEqual([
      ['offer', true, null, ['need']],
      ['closing', false, 'allowSkipping', []],
      ['won', false, 'winFrom', []],
      ['lost', true, null, []],
    ]);
    const fromOffer = stageMovesOf(definition).find((entry) => entry.from === 'offer')!.options;
    expect(fromOffer.find((option) => option.to === 'new')!.refusal?.code).toBe('OPPORTUNITY.BACKWARD_NOT_ALLOWED');
  });
});
