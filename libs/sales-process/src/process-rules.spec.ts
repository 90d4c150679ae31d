import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { compileProcess, type CompiledProcess } from './compiled-process';
import type { ProcessDefinition } from './process-definition.types';
import type { ProcessStep } from './process-rules';
import type { SalesProcessEvent } from './sales-process.machine';
import { definitionArbitrary } from './testing';

// The rule table is the one declaration of every rule: the machine's transitions and guards are
// built from it and a refusal is explained by it. These specs hold the two readings together.

const FAST_CHECK = { seed: 20261128, numRuns: 200 } as const;

const eventOf = (step: ProcessStep): SalesProcessEvent | undefined => {
  switch (step.kind) {
    case 'move':
      return { type: 'MOVE', to: step.to };
    case 'win':
      return { type: 'WIN' };
    case 'lose':
      return { type: 'LOSE', reason: step.reason };
    case 'reopen':
      return { type: 'REOPEN', stage: step.to };
    default:
      return undefined;
  }
};

/** Every step from an open position in `stage`, to every stage and a stage the process lacks. */
function stepsFrom(process: CompiledProcess, stage: string): ProcessStep[] {
  const targets = [...process.definition.stages.map((s) => s.id), 'ghost'];
  return [
    ...targets.map((to): ProcessStep => ({ kind: 'move', from: stage, to })),
    { kind: 'win', from: stage },
    ...['price', 'timing', 'other', 'bad'].map((reason): ProcessStep => ({ kind: 'lose', from: stage, reason })),
  ];
}

describe('the rule table and the machine', () => {
  it('agree on every step from every position of random processes: the machine allows exactly what no rule refuses', () => {
    assertProperty(
      fc.property(definitionArbitrary, fc.array(fc.constantFrom('c0', 'c1', 'c2'), { maxLength: 3 }), (definition, met) => {
        const process = compileProcess(definition);
        for (const stage of definition.stages) {
          const criteriaMet = [...new Set(met)].filter((id) => stage.exitCriteria.some((criterion) => criterion.id === id));
          const snapshot = process.snapshotAt({ status: 'open', stage: stage.id, criteriaMet });
          for (const step of stepsFrom(process, stage.id)) {
            const allowed = process.ruleTable.violation(step, criteriaMet) === undefined;
            expect({ step, criteriaMet, allowed: snapshot.can(eventOf(step)!) }).toEqual({ step, criteriaMet, allowed });
          }
          for (const status of ['won', 'lost'] as const) {
            const closed = process.snapshotAt({ status, stage: stage.id });
            for (const to of [...definition.stages.map((s) => s.id), 'ghost']) {
              const step: ProcessStep = { kind: 'reopen', closedIn: stage.id, to };
              expect({ step, allowed: closed.can(eventOf(step)!) }).toEqual({ step, allowed: process.ruleTable.violation(step, []) === undefined });
            }
          }
        }
      }),
      FAST_CHECK,
    );
  });
});

// A small process whose rules each spec changes one at a time.
const base: ProcessDefinition = {
  id: 'demo',
  name: 'Demo',
  stages: [
    { id: 'new', name: 'New', probability: 10, exitCriteria: [{ id: 'need', description: 'The need is confirmed' }] },
    { id: 'offer', name: 'Offer', probability: 50, exitCriteria: [] },
    { id: 'closing', name: 'Closing', probability: 80, exitCriteria: [] },
  ],
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['closing'] },
  lostReasons: ['price'],
  teams: ['direct'],
};
const changed = (change: (definition: ProcessDefinition) => ProcessDefinition) => compileProcess(change(structuredClone(base) as ProcessDefinition));
const before = compileProcess(base);
const moves = (process: CompiledProcess, from: string) => (process.machineJson.states[from]!.on!.MOVE ?? []).map((transition) => transition.target);
const codeOf = (process: CompiledProcess, step: ProcessStep, met: readonly string[] = []) => process.ruleTable.violation(step, met)?.code;

describe('a rule value, changed in the definition, changes both the machine and the explanation', () => {
  it('allowSkipping', () => {
    const after = changed((d) => ({ ...d, rules: { ...d.rules, allowSkipping: true } }));
    const skip: ProcessStep = { kind: 'move', from: 'new', to: 'closing' };
    expect([moves(before, 'new'), codeOf(before, skip, ['need'])]).toEqual([['offer'], 'OPPORTUNITY.SKIP_NOT_ALLOWED']);
    expect([moves(after, 'new'), codeOf(after, skip, ['need'])]).toEqual([['offer', 'closing'], undefined]);
  });

  it('allowBackward', () => {
    const after = changed((d) => ({ ...d, rules: { ...d.rules, allowBackward: false } }));
    const back: ProcessStep = { kind: 'move', from: 'closing', to: 'new' };
    expect([moves(before, 'closing'), codeOf(before, back)]).toEqual([['new', 'offer'], undefined]);
    expect([moves(after, 'closing'), codeOf(after, back)]).toEqual([[], 'OPPORTUNITY.BACKWARD_NOT_ALLOWED']);
  });

  it('winFrom', () => {
    const after = changed((d) => ({ ...d, rules: { ...d.rules, winFrom: ['offer'] } }));
    const winOffer: ProcessStep = { kind: 'win', from: 'offer' };
    expect([before.machineJson.states.offer!.on!.WIN, codeOf(before, winOffer)]).toEqual([undefined, 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE']);
    expect([after.machineJson.states.offer!.on!.WIN?.length, codeOf(after, winOffer)]).toEqual([1, undefined]);
    expect(after.ruleTable.violation({ kind: 'win', from: 'closing' }, [])?.details).toMatchObject({ winFrom: ['offer'] });
  });

  it('winFrom refuses on its own: a win from a stage whose exit criteria are all met, outside winFrom', () => {
    const winNew: ProcessStep = { kind: 'win', from: 'new' };
    expect(codeOf(before, { kind: 'move', from: 'new', to: 'offer' }, ['need'])).toBeUndefined();
    expect(before.ruleTable.violation(winNew, ['need'])).toMatchObject({ code: 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', details: { stage: 'new', winFrom: ['closing'], rule: 'winFrom' } });
    expect(changed((d) => ({ ...d, rules: { ...d.rules, winFrom: ['new', 'closing'] } })).ruleTable.violation(winNew, ['need'])).toBeUndefined();
  });

  it('exitCriteria', () => {
    const after = changed((d) => ({ ...d, stages: [d.stages[0]!, { ...d.stages[1]!, exitCriteria: [{ id: 'quote', description: 'A quote is sent' }] }, d.stages[2]!] }));
    const forward: ProcessStep = { kind: 'move', from: 'offer', to: 'closing' };
    const guardOf = (process: CompiledProcess) => process.machineJson.states.offer!.on!.MOVE!.find((t) => t.target === 'closing')!.guard;
    expect([guardOf(before), codeOf(before, forward)]).toEqual([{ type: 'isMoveToWithExitCriteriaMet', params: { to: 'closing', required: [] } }, undefined]);
    expect([guardOf(after), after.ruleTable.violation(forward, [])?.details]).toEqual([
      { type: 'isMoveToWithExitCriteriaMet', params: { to: 'closing', required: ['quote'] } },
      { stage: 'offer', unmetCriteria: [{ id: 'quote', description: 'A quote is sent' }] },
    ]);
    expect(after.snapshotAt({ status: 'open', stage: 'offer', criteriaMet: [] }).can({ type: 'MOVE', to: 'closing' })).toBe(false);
  });

  it('lostReasons', () => {
    const after = changed((d) => ({ ...d, lostReasons: ['price', 'timing'] }));
    const lose: ProcessStep = { kind: 'lose', from: 'new', reason: 'timing' };
    expect([before.machineJson.states.new!.on!.LOSE![0]!.guard, codeOf(before, lose)]).toEqual([{ type: 'isAllowedLostReason', params: { reasons: ['price'] } }, 'OPPORTUNITY.INVALID_LOST_REASON']);
    expect([after.machineJson.states.new!.on!.LOSE![0]!.guard, codeOf(after, lose)]).toEqual([{ type: 'isAllowedLostReason', params: { reasons: ['price', 'timing'] } }, undefined]);
  });

  it('teams (not a machine event: judged when details are decided)', () => {
    const after = changed((d) => ({ ...d, teams: ['direct', 'partners'] }));
    const assign: ProcessStep = { kind: 'assign-team', teamId: 'partners' };
    expect([codeOf(before, assign), codeOf(after, assign)]).toEqual(['OPPORTUNITY.UNKNOWN_TEAM', undefined]);
    expect(before.ruleTable.guardOf(assign)).toBeUndefined();
  });
});
