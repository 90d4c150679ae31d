import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess, type MachinePosition } from './compiled-process';
import type { SalesProcessEvent } from './sales-process.machine';
import { allows, ruledDefinitionArbitrary, ruleIdArbitrary } from './testing/definition-rules.oracle';

// The machine against the definition it is built from, read here apart from the rule table and
// the machine builder: at any position, an event is allowed exactly when the definition allows it.

const scenarioArbitrary = ruledDefinitionArbitrary.chain((definition) => {
  const stageIds = definition.stages.map((stage) => stage.id);
  const anyId = fc.oneof(fc.constantFrom(...stageIds), ruleIdArbitrary);
  const position: fc.Arbitrary<MachinePosition> = fc.oneof(
    fc.constantFrom(...definition.stages).chain((stage) =>
      fc.subarray(stage.exitCriteria.map((criterion) => criterion.id)).map((criteriaMet): MachinePosition => ({ status: 'open', stage: stage.id, criteriaMet })),
    ),
    fc.record({ status: fc.constantFrom('won' as const, 'lost' as const), stage: fc.constantFrom(...stageIds) }),
  );
  const event: fc.Arbitrary<SalesProcessEvent> = fc.oneof(
    anyId.map((to) => ({ type: 'MOVE' as const, to })),
    anyId.map((criterionId) => ({ type: 'MEET_CRITERION' as const, criterionId })),
    anyId.map((criterionId) => ({ type: 'REVOKE_CRITERION' as const, criterionId })),
    fc.option(anyId, { nil: undefined }).map((reason) => ({ type: 'WIN' as const, ...(reason === undefined ? {} : { reason }) })),
    anyId.map((reason) => ({ type: 'LOSE' as const, reason })),
    anyId.map((stage) => ({ type: 'REOPEN' as const, stage })),
  );
  return fc.tuple(fc.constant(definition), fc.array(fc.tuple(position, event), { minLength: 1, maxLength: 30 }));
});

describe('the machine agrees with its definition', () => {
  it('at any position, an event is allowed exactly when the definition allows it', () => {
    assertProperty(
      fc.property(scenarioArbitrary, ([definition, cases]) => {
        const process = compileProcess(definition);
        for (const [position, event] of cases) {
          const expected = allows(definition, position, event);
          expect({ position, event, allowed: process.snapshotAt(position).can(event) }).toEqual({ position, event, allowed: expected });
          // The rule table's explanation says the same (no rule broken exactly when allowed), for the steps it judges.
          const step =
            position.status !== 'open'
              ? event.type === 'REOPEN' ? { kind: 'reopen' as const, closedIn: position.stage, to: event.stage } : undefined
              : event.type === 'MOVE' ? { kind: 'move' as const, from: position.stage, to: event.to }
              : event.type === 'WIN' ? { kind: 'win' as const, from: position.stage, ...(event.reason === undefined ? {} : { reason: event.reason }) }
              : event.type === 'LOSE' ? { kind: 'lose' as const, from: position.stage, reason: event.reason }
              : undefined;
          if (step) expect({ step, broken: process.ruleTable.violation(step, position.status === 'open' ? position.criteriaMet : []) === undefined }).toEqual({ step, broken: expected });
        }
      }),
      { numRuns: 400, seed: 4150 },
    );
  });
});
