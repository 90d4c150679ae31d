import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess } from './compiled-process';
import type { SalesProcessEvent } from './sales-process.machine';
import { definitionArbitrary } from './testing';

// CompiledProcess.can remembers the machine's answers: asked any number of times, in any order,
// it must say what the machine says (snapshotAt(position).can(event)) at that moment.


describe('CompiledProcess.can', () => {
  it(`answers what the restored machine answers, every time it is asked, for random processes, positions and events`, () => {
    assertProperty(
      fc.property(definitionArbitrary, fc.integer({ min: 1, max: 2 }), (definition, times) => {
        const compiled = compileProcess(definition);
        const stages = [...definition.stages.map((stage) => stage.id), 'ghost'];
        const criteria = ['c0', 'c1', 'c2', 'ghost'];
        const events: SalesProcessEvent[] = [
          ...stages.map((to): SalesProcessEvent => ({ type: 'MOVE', to })),
          ...stages.map((stage): SalesProcessEvent => ({ type: 'REOPEN', stage })),
          ...criteria.flatMap((criterionId): SalesProcessEvent[] => [
            { type: 'MEET_CRITERION', criterionId },
            { type: 'REVOKE_CRITERION', criterionId },
          ]),
          { type: 'WIN' },
          ...['price', 'timing', 'other', 'bad'].map((reason): SalesProcessEvent => ({ type: 'LOSE', reason })),
        ];
        for (let round = 0; round < times; round += 1) {
          for (const stage of definition.stages) {
            // Every subset of the stage's criteria (and one it lacks), so positions differing only there meet.
            const ids = [...stage.exitCriteria.map((criterion) => criterion.id).slice(0, 4), 'ghost'];
            const subsets = Array.from({ length: 2 ** ids.length }, (_, bits) => ids.filter((_, i) => (bits >> i) & 1));
            const positions = [...subsets.map((criteriaMet) => ({ status: 'open' as const, stage: stage.id, criteriaMet })), { status: 'won' as const, stage: stage.id }, { status: 'lost' as const, stage: stage.id }];
            for (const position of positions) {
              for (const event of events) {
                const machine = compiled.snapshotAt(position).can(event);
                expect({ position, event, can: compiled.can(position, event) }).toEqual({ position, event, can: machine });
              }
            }
          }
        }
      }),
      { numRuns: 25 },
    );
  });
});
