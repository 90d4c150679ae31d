import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { transition } from 'xstate';
import { stringify } from 'yaml';
import {
  compileProcess,
  parseProcessDefinition,
  type CompiledProcess,
  type ProcessDefinition,
  type SalesProcessEvent,
} from '@stagecraft/sales-process';
import { definitionArbitrary } from '@stagecraft/sales-process/testing';
import type { OpportunityCommand } from './opportunity.commands';
import { decide, positionOf } from './opportunity.decide';
import { evolve } from './opportunity.evolve';
import type { OpportunityState } from './opportunity.state';

const stageArbitrary = fc.constantFrom('s0', 's1', 's2', 's3', 's4', 'ghost');
const criterionArbitrary = fc.constantFrom('c0', 'c1', 'c2', 'zz');

// Commands without their envelope; ids and times are added while running the sequence.
type CommandBody = OpportunityCommand extends infer C ? (C extends OpportunityCommand ? Omit<C, 'opportunityId' | 'now'> : never) : never;
const commandArbitrary: fc.Arbitrary<CommandBody> = fc.oneof(
  fc.record({ type: fc.constant('OpenOpportunity' as const), processId: fc.constant('generated'), title: fc.constant('Deal'), teamId: fc.option(fc.constantFrom('t1', 't2', 't9'), { nil: undefined }) }),
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MeetExitCriterion' as const), criterionId: criterionArbitrary }) },
  fc.record({ type: fc.constant('RevokeExitCriterion' as const), criterionId: criterionArbitrary }),
  { weight: 4, arbitrary: fc.record({ type: fc.constant('MoveOpportunityToStage' as const), stage: stageArbitrary }) },
  fc.record({ type: fc.constant('WinOpportunity' as const) }),
  fc.record({ type: fc.constant('LoseOpportunity' as const), reason: fc.constantFrom('price', 'timing', 'other', 'bad') }),
  fc.record({ type: fc.constant('ReopenOpportunity' as const), stage: fc.option(stageArbitrary, { nil: undefined }) }),
  fc.record({ type: fc.constant('ChangeOpportunityDetails' as const), amount: fc.option(fc.integer({ min: -10, max: 1000 }), { nil: undefined }) }),
);

/**
 * What the rules of DESIGN.md §3 say should happen, written independently of decide and the
 * machine: 'accept', 'noop' (nothing to record) or the expected rejection code.
 */
function expectedOutcome(body: CommandBody, state: OpportunityState, definition: ProcessDefinition): string {
  const stageIds = definition.stages.map((s) => s.id);
  if (body.type === 'OpenOpportunity') {
    if (state.status !== 'none') return 'OPPORTUNITY.ALREADY_OPENED';
    if (body.teamId && definition.teams.length > 0 && !definition.teams.includes(body.teamId)) return 'OPPORTUNITY.UNKNOWN_TEAM';
    return 'accept';
  }
  if (state.status === 'none') return 'OPPORTUNITY.NOT_FOUND';
  if (body.type === 'ReopenOpportunity') {
    if (state.status === 'open') return 'OPPORTUNITY.NOT_CLOSED';
    // Back where it closed, or where one move from there may go with nothing met (issue: no bypass).
    const target = body.stage ?? state.stage;
    if (!stageIds.includes(target)) return 'OPPORTUNITY.UNKNOWN_STAGE';
    const closedIn = stageIds.indexOf(state.stage);
    const to = stageIds.indexOf(target);
    if (to === closedIn) return 'accept';
    if (to < closedIn) return definition.rules.allowBackward ? 'accept' : 'OPPORTUNITY.BACKWARD_NOT_ALLOWED';
    if (to > closedIn + 1 && !definition.rules.allowSkipping) return 'OPPORTUNITY.SKIP_NOT_ALLOWED';
    return definition.stages[closedIn]!.exitCriteria.length === 0 ? 'accept' : 'OPPORTUNITY.EXIT_CRITERIA_UNMET';
  }
  if (state.status !== 'open') return 'OPPORTUNITY.ALREADY_CLOSED';
  const stage = definition.stages.find((s) => s.id === state.stage)!;
  const unmet = stage.exitCriteria.filter((c) => !state.criteriaMet.includes(c.id));
  switch (body.type) {
    case 'MeetExitCriterion':
    case 'RevokeExitCriterion': {
      if (!stage.exitCriteria.some((c) => c.id === body.criterionId)) return 'OPPORTUNITY.UNKNOWN_CRITERION';
      const isMet = state.criteriaMet.includes(body.criterionId);
      return (body.type === 'MeetExitCriterion') !== isMet ? 'accept' : 'noop';
    }
    case 'MoveOpportunityToStage': {
      const from = stageIds.indexOf(state.stage);
      const to = stageIds.indexOf(body.stage);
      if (to < 0) return 'OPPORTUNITY.UNKNOWN_STAGE';
      if (to === from) return 'OPPORTUNITY.ALREADY_IN_STAGE';
      if (to < from) return definition.rules.allowBackward ? 'accept' : 'OPPORTUNITY.BACKWARD_NOT_ALLOWED';
      if (to > from + 1 && !definition.rules.allowSkipping) return 'OPPORTUNITY.SKIP_NOT_ALLOWED';
      return unmet.length === 0 ? 'accept' : 'OPPORTUNITY.EXIT_CRITERIA_UNMET';
    }
    case 'WinOpportunity':
      if (!definition.rules.winFrom.includes(state.stage)) return 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE';
      return unmet.length === 0 ? 'accept' : 'OPPORTUNITY.EXIT_CRITERIA_UNMET';
    case 'LoseOpportunity':
      return definition.lostReasons.includes(body.reason) ? 'accept' : 'OPPORTUNITY.INVALID_LOST_REASON';
    case 'ChangeOpportunityDetails':
      if (body.amount !== undefined && body.amount < 0) return 'OPPORTUNITY.INVALID_AMOUNT';
      return body.amount === undefined || body.amount === state.amount ? 'noop' : 'accept';
    default:
      throw new Error('unreachable');
  }
}

function machineEventFor(body: CommandBody, state: OpportunityState): SalesProcessEvent | undefined {
  switch (body.type) {
    case 'MeetExitCriterion':
      return { type: 'MEET_CRITERION', criterionId: body.criterionId };
    case 'RevokeExitCriterion':
      return { type: 'REVOKE_CRITERION', criterionId: body.criterionId };
    case 'MoveOpportunityToStage':
      return { type: 'MOVE', to: body.stage };
    case 'WinOpportunity':
      return { type: 'WIN' };
    case 'LoseOpportunity':
      return { type: 'LOSE', reason: body.reason };
    case 'ReopenOpportunity':
      return { type: 'REOPEN', stage: body.stage ?? (state.status === 'none' ? '' : state.stage) };
    default:
      return undefined;
  }
}

function machineViewOf(state: OpportunityState) {
  if (state.status === 'open') return { value: state.stage, criteriaMet: [...state.criteriaMet] };
  if (state.status === 'won' || state.status === 'lost') return { value: { closed: state.status }, criteriaMet: [] };
  return undefined;
}

describe('decide and evolve, on random processes and random command sequences', () => {
  it('the definition survives YAML: what is written is what is parsed', () => {
    assertProperty(
      fc.property(definitionArbitrary, (definition) => {
        // Written as a file says "every team": teams left out (an empty list is refused as a likely mistake).
        const { teams, ...rest } = definition;
        expect(parseProcessDefinition(stringify(teams.length === 0 ? rest : definition), 'generated.yaml')).toEqual(definition);
      }),
    );
  });

  it('accepts exactly what the rules allow; emitted events fold into the state the machine moved to', () => {
    assertProperty(
      fc.property(definitionArbitrary, fc.array(commandArbitrary, { minLength: 1, maxLength: 40 }), (definition, bodies) => {
        const process: CompiledProcess = compileProcess(definition);
        const machineStates = new Set([...definition.stages.map((s) => s.id)]);
        let state: OpportunityState = { status: 'none' };
        const commands = [{ type: 'OpenOpportunity', processId: 'generated', title: 'Deal' } as CommandBody, ...bodies];

        commands.forEach((body, index) => {
          const command = { ...body, opportunityId: 'o', now: new Date(Date.UTC(2026, 0, 1, 0, index)).toISOString() } as OpportunityCommand;
          const expected = expectedOutcome(body, state, definition);
          const decision = decide(command, state, process);

          if (!decision.ok) {
            expect(decision.error.code).toBe(expected);
            return;
          }
          expect(decision.events.length === 0 ? 'noop' : 'accept').toBe(expected);

          const before = state;
          for (const event of decision.events) state = evolve(state, event); // throws on an event evolve rejects

          const machineEvent = machineEventFor(body, before);
          if (machineEvent && decision.events.length > 0 && before.status !== 'none') {
            const next = transition(process.machine, process.snapshotAt(positionOf(before)), machineEvent)[0];
            expect(machineViewOf(state)).toEqual({ value: next.value, criteriaMet: [...next.context.criteriaMet] });
          }
          if (state.status !== 'none') expect(machineStates.has(state.stage)).toBe(true);
          if (state.status === 'won' || state.status === 'lost') {
            const afterClose = process.snapshotAt({ status: state.status, stage: state.stage });
            for (const event of [{ type: 'WIN' }, { type: 'LOSE', reason: definition.lostReasons[0]! }, ...definition.stages.map((s) => ({ type: 'MOVE', to: s.id }))] as SalesProcessEvent[]) {
              expect(afterClose.can(event)).toBe(false);
            }
            expect(afterClose.can({ type: 'REOPEN', stage: state.stage })).toBe(true);
          }
        });
      }),
      { numRuns: 300, seed: 20261128 },
    );
  });
});
