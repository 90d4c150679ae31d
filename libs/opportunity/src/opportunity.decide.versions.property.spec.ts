import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess, type CompiledProcess, type MachinePosition, type SalesProcessEvent } from '@stagecraft/sales-process';
import { allows, ruledDefinitionArbitrary, ruleIdArbitrary } from '@stagecraft/sales-process/testing';
import type { OpportunityCommand } from './opportunity.commands';
import { decide, positionOf } from './opportunity.decide';
import { evolve } from './opportunity.evolve';
import type { OpportunityState } from './opportunity.state';

// The decider against the definition of the version the deal is on, whichever that is: a deal
// opened on one version and migrated to a later one (other stages, rules, criteria, won reasons)
// is allowed a step exactly when the version it is on allows it.

type Body = OpportunityCommand extends infer C ? (C extends OpportunityCommand ? Omit<C, 'opportunityId' | 'now'> : never) : never;
const bodyArbitrary: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MeetExitCriterion' as const), criterionId: ruleIdArbitrary }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('RevokeExitCriterion' as const), criterionId: ruleIdArbitrary }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MoveOpportunityToStage' as const), stage: ruleIdArbitrary }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('WinOpportunity' as const), reason: fc.option(ruleIdArbitrary, { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('LoseOpportunity' as const), reason: ruleIdArbitrary }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('ReopenOpportunity' as const), stage: fc.option(ruleIdArbitrary, { nil: undefined }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('MigrateOpportunity' as const), toVersion: fc.constant('later'), stageMapping: fc.option(fc.dictionary(ruleIdArbitrary, ruleIdArbitrary, { maxKeys: 2 }), { nil: undefined }) }) },
);

/** The machine event a command asks for; undefined for a migration, judged by other rules. */
function eventOf(body: Body, state: OpportunityState): SalesProcessEvent | undefined {
  switch (body.type) {
    case 'MeetExitCriterion':
      return { type: 'MEET_CRITERION', criterionId: body.criterionId };
    case 'RevokeExitCriterion':
      return { type: 'REVOKE_CRITERION', criterionId: body.criterionId };
    case 'MoveOpportunityToStage':
      return { type: 'MOVE', to: body.stage };
    case 'WinOpportunity':
      return { type: 'WIN', ...(body.reason === undefined ? {} : { reason: body.reason }) };
    case 'LoseOpportunity':
      return { type: 'LOSE', reason: body.reason };
    case 'ReopenOpportunity':
      return { type: 'REOPEN', stage: body.stage ?? (state.status === 'none' ? '' : state.stage) };
    default:
      return undefined;
  }
}

/**
 * A first version and a later one: the same stages in the same order (one maybe dropped) with
 * rules, exit criteria, lost and won reasons drawn again, so migrations are mostly allowed.
 */
const versionsArbitrary = ruledDefinitionArbitrary.chain((first) =>
  fc
    .record({ redrawn: ruledDefinitionArbitrary, dropped: fc.option(fc.nat(4), { nil: undefined }), criteria: fc.array(fc.uniqueArray(ruleIdArbitrary, { maxLength: 3 }), { minLength: 5, maxLength: 5 }) })
    .map(({ redrawn, dropped, criteria }) => {
      const kept = first.stages.length > 1 && dropped !== undefined ? first.stages.filter((_, index) => index !== dropped % first.stages.length) : first.stages;
      const stages = kept.map((stage, index) => ({ ...stage, exitCriteria: criteria[index]!.map((id) => ({ id, description: `${id} (later)` })) }));
      const ids = stages.map((stage) => stage.id);
      const winFrom = redrawn.rules.winFrom.filter((id) => ids.includes(id));
      const later = { ...redrawn, id: first.id, name: 'Later', stages, rules: { ...redrawn.rules, winFrom: winFrom.length > 0 ? winFrom : [ids[ids.length - 1]!] } };
      return [first, later] as const;
    }),
);

describe('decide, on every version a deal may be on', () => {
  it('emits a step exactly when the version the deal is on allows it, before and after migrations', () => {
    // Steps judged after a migration: the property says nothing of later versions unless some runs migrate.
    let judgedAfterMigration = 0;
    assertProperty(
      fc.property(versionsArbitrary, fc.array(bodyArbitrary, { minLength: 1, maxLength: 50 }), ([first, second], bodies) => {
        const earlier = compileProcess(first);
        const later = compileProcess(second);
        const byVersion = new Map<string, { process: CompiledProcess; recordedOrder: number }>([
          [earlier.version, { process: earlier, recordedOrder: 0 }],
          [later.version, { process: later, recordedOrder: 1 }],
        ]);
        let state: OpportunityState = { status: 'none' };
        let process = earlier;
        let migrated = false;
        [{ type: 'OpenOpportunity', processId: 'generated', title: 'Deal' } as Body, ...bodies].forEach((body, index) => {
          const given = body.type === 'MigrateOpportunity' ? { ...body, toVersion: later.version } : body;
          const command = { ...given, opportunityId: 'o', now: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString() } as OpportunityCommand;
          const event = eventOf(body, state);
          const position: MachinePosition | undefined = state.status === 'none' ? undefined : positionOf(state);
          const decision = decide(command, state, process, (version) => byVersion.get(version));
          if (event && position) {
            const emitted = decision.ok && decision.events.length > 0;
            if (migrated) judgedAfterMigration += 1;
            expect({ version: migrated ? 'later' : 'earlier', position, event, emitted }).toEqual({ version: migrated ? 'later' : 'earlier', position, event, emitted: allows(process.definition, position, event) });
          }
          if (!decision.ok) return;
          for (const recorded of decision.events) {
            state = evolve(state, recorded);
            if (recorded.type === 'ProcessMigrated') {
              process = byVersion.get(recorded.data.toVersion)!.process;
              migrated = true;
            }
          }
          // Wherever the deal is, the version it is on has that stage, and only that stage's criteria count.
          if (state.status !== 'none') {
            expect(process.stageIndex(state.stage)).toBeGreaterThanOrEqual(0);
            if (state.status === 'open') {
              const { stage, criteriaMet } = state;
              expect(criteriaMet.every((id) => process.criterion(stage, id) !== undefined)).toBe(true);
            }
          }
        });
      }),
      { numRuns: 400, seed: 4151 },
    );
    expect(judgedAfterMigration).toBeGreaterThan(50);
  });
});
