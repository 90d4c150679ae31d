import fc from 'fast-check';
import type { MachinePosition } from '../compiled-process';
import type { ProcessDefinition } from '../process-definition.types';
import type { SalesProcessEvent } from '../sales-process.machine';

// The rules of the README ("Rules the engine enforces") read apart from the rule table and the
// machine builder, for property tests that hold the machine and the decider to the definition.

/** Ids of every allowed shape, a few named like properties every object has. */
export const ruleIdArbitrary = fc.constantFrom('a', 'b', 'c', 'new', 'constructor', 'x-1', 'y_2', '0', 'tostring', 'valueof');

/** Random definitions with won reasons or not, and stage and criterion ids of any allowed shape. */
export const ruledDefinitionArbitrary: fc.Arbitrary<ProcessDefinition> = fc
  .record({
    stageIds: fc.uniqueArray(ruleIdArbitrary, { minLength: 1, maxLength: 5 }),
    criteria: fc.array(fc.uniqueArray(ruleIdArbitrary, { maxLength: 3 }), { minLength: 5, maxLength: 5 }),
    allowSkipping: fc.boolean(),
    allowBackward: fc.boolean(),
    winMask: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    lostReasons: fc.uniqueArray(ruleIdArbitrary, { minLength: 1, maxLength: 3 }),
    wonReasons: fc.option(fc.uniqueArray(ruleIdArbitrary, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ stageIds, criteria, allowSkipping, allowBackward, winMask, lostReasons, wonReasons }) => {
    const stages = stageIds.map((id, index) => ({ id, name: id, probability: index * 10, exitCriteria: criteria[index]!.map((criterion) => ({ id: criterion, description: criterion })) }));
    const winFrom = stageIds.filter((_, index) => winMask[index]);
    return {
      id: 'generated',
      name: 'Generated',
      stages,
      rules: { allowSkipping, allowBackward, winFrom: winFrom.length > 0 ? winFrom : [stageIds[stageIds.length - 1]!] },
      lostReasons,
      ...(wonReasons ? { wonReasons } : {}),
      teams: [],
    };
  });

/** What the definition allows, written from the README's rules alone. */
export function allows(definition: ProcessDefinition, position: MachinePosition, event: SalesProcessEvent): boolean {
  const ids = definition.stages.map((stage) => stage.id);
  const at = ids.indexOf(position.stage);
  const stage = definition.stages[at]!;
  const required = stage.exitCriteria.map((criterion) => criterion.id);
  if (position.status !== 'open') {
    if (event.type !== 'REOPEN') return false;
    const to = ids.indexOf(event.stage);
    if (to < 0) return false;
    if (to === at) return true;
    if (to < at) return definition.rules.allowBackward;
    return (to === at + 1 || definition.rules.allowSkipping) && required.length === 0;
  }
  const met = position.criteriaMet;
  const allMet = required.every((id) => met.includes(id));
  switch (event.type) {
    case 'MOVE': {
      const to = ids.indexOf(event.to);
      if (to < 0 || to === at) return false;
      if (to < at) return definition.rules.allowBackward;
      return (to === at + 1 || definition.rules.allowSkipping) && allMet;
    }
    case 'MEET_CRITERION':
      return required.includes(event.criterionId) && !met.includes(event.criterionId);
    case 'REVOKE_CRITERION':
      return required.includes(event.criterionId) && met.includes(event.criterionId);
    case 'WIN': {
      const reasonOk = definition.wonReasons === undefined ? event.reason === undefined : event.reason !== undefined && definition.wonReasons.includes(event.reason);
      return definition.rules.winFrom.includes(stage.id) && allMet && reasonOk;
    }
    case 'LOSE':
      return definition.lostReasons.includes(event.reason);
    case 'REOPEN':
      return false;
  }
}

