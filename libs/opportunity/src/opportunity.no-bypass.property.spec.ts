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
// of a closed deal in any stage was such a bypass; the commands below try it on purpose. So was a
// migration mapping a dropped stage past the next one the newer version keeps.

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

/** A newer version of `definition`: the stages `dropped` marks taken out (one at least kept), and maybe a new stage "sx" inserted. */
function laterVersion(definition: ProcessDefinition, dropped: readonly boolean[], inserted: number | null): ProcessDefinition {
  let stages = definition.stages.filter((_, index) => !dropped[index]);
  if (stages.length === 0) stages = [definition.stages[definition.stages.length - 1]!];
  if (inserted !== null) {
    const at = inserted % (stages.length + 1);
    stages = [...stages.slice(0, at), { id: 'sx', name: 'Inserted', probability: 50, exitCriteria: [{ id: 'c0', description: 'Inserted criterion' }] }, ...stages.slice(at)];
  }
  const ids = stages.map((stage) => stage.id);
  const winFrom = definition.rules.winFrom.filter((id) => ids.includes(id));
  return { ...definition, name: `${definition.name} v2`, stages, rules: { ...definition.rules, winFrom: winFrom.length > 0 ? winFrom : [ids[ids.length - 1]!] } };
}

const migrationArbitrary = fc.record({
  type: fc.constant('MigrateOpportunity' as const),
  stageMapping: fc.option(fc.dictionary(stage, fc.constantFrom('s0', 's1', 's2', 's3', 's4', 'sx'), { maxKeys: 3 }), { nil: undefined }),
});

/** Runs the bodies through decide and evolve (a migration goes to `later`); the events of every accepted command. */
function acceptedHistory(definition: ProcessDefinition, bodies: readonly (Body | { type: 'MigrateOpportunity'; stageMapping?: Record<string, string> })[], later?: ProcessDefinition): OpportunityEvent[] {
  const first = compileProcess(definition);
  const second = later ? compileProcess(later) : undefined;
  const versions = (version: string) => (version === first.version ? { process: first, recordedOrder: 0 } : version === second?.version ? { process: second, recordedOrder: 1 } : undefined);
  let process = first;
  let state: OpportunityState = { status: 'none' };
  const history: OpportunityEvent[] = [];
  [{ type: 'OpenOpportunity', processId: definition.id, title: 'Deal' } as Body, ...bodies].forEach((body, index) => {
    const given = body.type === 'MigrateOpportunity' ? { ...body, toVersion: second?.version ?? 'none' } : body;
    const command = { ...given, opportunityId: 'o', now: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString() } as OpportunityCommand;
    const decision = decide(command, state, process, versions);
    if (!decision.ok) return;
    for (const event of decision.events) {
      state = evolve(state, event);
      history.push(event);
      if (event.type === 'ProcessMigrated' && second) process = second;
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

  it('on random processes, a newer version with stages dropped or added, and random migrations among the commands', () => {
    assertProperty(
      fc.property(
        definitionArbitrary,
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        fc.option(fc.nat(5), { nil: null }),
        fc.array(fc.oneof({ weight: 8, arbitrary: bodyArbitrary }, { weight: 2, arbitrary: migrationArbitrary }), { minLength: 1, maxLength: 60 }),
        (definition, dropped, inserted, bodies) => {
          const later = laterVersion(definition, dropped, inserted);
          const history = acceptedHistory(definition, bodies, later);
          const known = [definition, later].map((entry, recordedOrder) => ({ definition: entry, recordedOrder, version: compileProcess(entry).version }));
          expect(auditProcessRules(history, (version) => known.find((entry) => entry.version === version))).toEqual([]);
        },
      ),
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
