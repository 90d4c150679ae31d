import fc from 'fast-check';
import type { ProcessDefinition } from '../process-definition.types';

// Random valid definitions. Criterion ids repeat across stages on purpose ("c0" in several
// stages) so a criterion met in one stage must never count for another.
export const definitionArbitrary: fc.Arbitrary<ProcessDefinition> = fc
  .record({
    stageCount: fc.integer({ min: 1, max: 5 }),
    criteriaCounts: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }),
    probabilities: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 5, maxLength: 5 }),
    allowSkipping: fc.boolean(),
    allowBackward: fc.boolean(),
    winMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    lostReasons: fc.subarray(['price', 'timing', 'other'], { minLength: 1 }),
    teams: fc.subarray(['t1', 't2']),
  })
  .map(({ stageCount, criteriaCounts, probabilities, allowSkipping, allowBackward, winMask, lostReasons, teams }) => {
    const stages = Array.from({ length: stageCount }, (_, i) => ({
      id: `s${i}`,
      name: `Stage ${i}`,
      probability: probabilities[i]!,
      exitCriteria: Array.from({ length: criteriaCounts[i]! }, (_, c) => ({ id: `c${c}`, description: `Criterion ${c} of stage ${i}` })),
    }));
    const winFrom = stages.filter((_, i) => winMask[i]).map((s) => s.id);
    return {
      id: 'generated',
      name: 'Generated process',
      stages,
      rules: { allowSkipping, allowBackward, winFrom: winFrom.length > 0 ? winFrom : [stages[stageCount - 1]!.id] },
      lostReasons,
      teams,
    };
  });

