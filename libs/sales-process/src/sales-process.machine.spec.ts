import { initialTransition, transition } from 'xstate';
import { compileProcess } from './compiled-process';
import { parseProcessDefinition } from './process-definition.parser';
import { processVersionOf } from './process-version';

const definition = parseProcessDefinition(
  `id: demo
name: Demo
stages:
  - { id: new, name: New, probability: 10 }
  - id: qualification
    name: Qualification
    probability: 20
    exitCriteria: [{ id: need, description: The need is confirmed }, { id: budget, description: There is a budget }]
  - { id: closing, name: Closing, probability: 80 }
lostReasons: [price, other]
`,
  'demo.yaml',
);
const process = compileProcess(definition);

describe('the machine built from a definition', () => {
  it('has a state per stage plus closed.won and closed.lost, which are final', () => {
    const json = process.machineJson;
    expect(Object.keys(json.states)).toEqual(['new', 'qualification', 'closing', 'closed']);
    expect(json.states.closed!.states).toEqual({ won: { type: 'final' }, lost: { type: 'final' } });
    expect(json.initial).toBe('new');
  });

  it('is plain JSON: guards and actions are referenced by name with params, never as functions', () => {
    const json = process.machineJson;
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.states.qualification!.on!.MOVE).toContainEqual({
      target: 'closing',
      guard: { type: 'isMoveToWithExitCriteriaMet', params: { to: 'closing', required: ['need', 'budget'] } },
      actions: [{ type: 'clearCriteriaMet' }],
    });
  });

  it('runs a journey with the pure transition function', () => {
    let [snapshot] = initialTransition(process.machine);
    expect(snapshot.value).toBe('new');
    [snapshot] = transition(process.machine, snapshot, { type: 'MOVE', to: 'qualification' });
    expect(snapshot.can({ type: 'MOVE', to: 'closing' })).toBe(false);
    [snapshot] = transition(process.machine, snapshot, { type: 'MEET_CRITERION', criterionId: 'need' });
    [snapshot] = transition(process.machine, snapshot, { type: 'MEET_CRITERION', criterionId: 'budget' });
    expect(snapshot.context.criteriaMet).toEqual(['need', 'budget']);
    [snapshot] = transition(process.machine, snapshot, { type: 'MOVE', to: 'closing' });
    expect(snapshot.value).toBe('closing');
    expect(snapshot.context.criteriaMet).toEqual([]);
    expect(snapshot.can({ type: 'LOSE', reason: 'weather' })).toBe(false);
    [snapshot] = transition(process.machine, snapshot, { type: 'WIN' });
    expect(snapshot.value).toEqual({ closed: 'won' });
    expect(snapshot.can({ type: 'MOVE', to: 'new' })).toBe(false);
    [snapshot] = transition(process.machine, snapshot, { type: 'REOPEN', stage: 'qualification' });
    expect(snapshot.value).toBe('qualification');
  });

  it('is restored at any position without replay', () => {
    const restored = process.snapshotAt({ status: 'open', stage: 'qualification', criteriaMet: ['need', 'budget'] });
    expect(restored.can({ type: 'MOVE', to: 'closing' })).toBe(true);
    expect(process.snapshotAt({ status: 'open', stage: 'qualification', criteriaMet: ['need'] }).can({ type: 'MOVE', to: 'closing' })).toBe(false);
    expect(process.snapshotAt({ status: 'lost', stage: 'qualification' }).can({ type: 'REOPEN', stage: 'new' })).toBe(true);
    // Forward from where it closed only as one move with nothing met: Qualification has criteria.
    expect(process.snapshotAt({ status: 'lost', stage: 'qualification' }).can({ type: 'REOPEN', stage: 'closing' })).toBe(false);
    expect(process.snapshotAt({ status: 'lost', stage: 'new' }).can({ type: 'REOPEN', stage: 'qualification' })).toBe(true);
  });
});

describe('processVersionOf', () => {
  it('is the same for the same content, whatever the YAML formatting', () => {
    const reformatted = parseProcessDefinition(
      `# a comment
name: Demo
id: demo
lostReasons: [price, other]
stages: [{ id: new, name: New, probability: 10 }, { id: qualification, name: Qualification, probability: 20, exitCriteria: [{ id: need, description: The need is confirmed }, { id: budget, description: There is a budget }] }, { id: closing, name: Closing, probability: 80 }]
`,
      'demo.yaml',
    );
    expect(processVersionOf(reformatted)).toBe(process.version);
  });

  it('changes when anything meaningful changes', () => {
    const renamed = { ...definition, stages: definition.stages.map((s) => (s.id === 'new' ? { ...s, name: 'Fresh' } : s)) };
    const reprobabled = { ...definition, stages: definition.stages.map((s) => (s.id === 'new' ? { ...s, probability: 11 } : s)) };
    const ruled = { ...definition, rules: { ...definition.rules, allowSkipping: true } };
    const versions = new Set([process.version, processVersionOf(renamed), processVersionOf(reprobabled), processVersionOf(ruled)]);
    expect(versions.size).toBe(4);
    expect(process.version).toMatch(/^[0-9a-f]{16}$/);
  });
});
