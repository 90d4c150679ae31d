import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess, type ProcessDefinition } from '@stagecraft/sales-process';
import { definitionArbitrary } from '@stagecraft/sales-process/testing';
import type { OpportunityCommand } from './opportunity.commands';
import { decide } from './opportunity.decide';
import type { OpportunityEvent } from './opportunity.events';
import { evolve } from './opportunity.evolve';
import type { OpportunityState } from './opportunity.state';
import { auditProcessRules } from './testing/process-rules.auditor';

// No bypass: whatever commands a caller sends, in whatever order, the history decide accepts
// keeps every rule of the process, as an auditor reading the events alone sees it. The reopen
// of a closed deal in any stage was such a bypass; the commands below try it on purpose.

const FAST_CHECK = { seed: 1311, numRuns: 400 } as const;

type Body = OpportunityCommand extends infer C ? (C extends OpportunityCommand ? Omit<C, 'opportunityId' | 'now'> : never) : never;
const stage = fc.constantFrom('s0', 's1', 's2', 's3', 's4');
const bodyArbitrary: fc.Arbitrary<Body> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('MeetExitCriterion' as const), criterionId: fc.constantFrom('c0', 'c1', 'c2') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('RevokeExitCriterion' as const), criterionId: fc.constantFrom('c0', 'c1', 'c2') }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MoveOpportunityToStage' as const), stage }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('WinOpportunity' as const) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('LoseOpportunity' as const), reason: fc.constantFrom('price', 'timing', 'other') }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('ReopenOpportunity' as const), stage: fc.option(stage, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('ChangeOpportunityDetails' as const), teamId: fc.option(fc.constantFrom('t1', 't2', 't9'), { nil: undefined }) }) },
);

/** Runs the bodies through decide and evolve; the events of every accepted command. */
function acceptedHistory(definition: ProcessDefinition, bodies: readonly Body[]): OpportunityEvent[] {
  const process = compileProcess(definition);
  let state: OpportunityState = { status: 'none' };
  const history: OpportunityEvent[] = [];
  [{ type: 'OpenOpportunity', processId: definition.id, title: 'Deal' } as Body, ...bodies].forEach((body, index) => {
    const command = { ...body, opportunityId: 'o', now: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString() } as OpportunityCommand;
    const decision = decide(command, state, process);
    if (!decision.ok) return;
    for (const event of decision.events) {
      state = evolve(state, event);
      history.push(event);
    }
  });
  return history;
}

describe('no bypass: every history decide accepts keeps the process rules', () => {
  it('on random processes and random command sequences (reopens in any stage included)', () => {
    assertProperty(
      fc.property(definitionArbitrary, fc.array(bodyArbitrary, { minLength: 1, maxLength: 60 }), (definition, bodies) => {
        const process = compileProcess(definition);
        const history = acceptedHistory(definition, bodies);
        expect(auditProcessRules(history, (version) => (version === process.version ? { definition, recordedOrder: 0 } : undefined))).toEqual([]);
      }),
      FAST_CHECK,
    );
  });

  it('the auditor itself sees a reopen past the rules (the history the bypass left)', () => {
    const definition: ProcessDefinition = {
      id: 'p',
      name: 'P',
      stages: [
        { id: 'new', name: 'New', probability: 10, exitCriteria: [] },
        { id: 'qualification', name: 'Q', probability: 20, exitCriteria: [{ id: 'need', description: 'Need' }] },
        { id: 'negotiation', name: 'N', probability: 80, exitCriteria: [] },
      ],
      rules: { allowSkipping: false, allowBackward: true, winFrom: ['negotiation'] },
      lostReasons: ['price'],
      teams: [],
    };
    const at = (minute: number) => ({ opportunityId: 'o', occurredAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString() });
    const version = compileProcess(definition).version;
    const history = [
      { type: 'OpportunityOpened', data: { ...at(0), processId: 'p', processVersion: version, stage: 'new', title: 'Deal' } },
      { type: 'OpportunityLost', data: { ...at(1), stage: 'new', reason: 'price' } },
      { type: 'OpportunityReopened', data: { ...at(2), stage: 'negotiation' } },
    ];
    expect(auditProcessRules(history, () => ({ definition, recordedOrder: 0 }))).toEqual(['revision 2 (OpportunityReopened): reopened in negotiation after closing in new']);
  });
});
