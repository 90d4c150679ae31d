import { assign, setup } from 'xstate';
import type { ProcessDefinition } from './process-definition.types';
import { allCriteriaMet, isAllowedLostReason, isAllowedWonReason, ruleTableOf, type RuleGuard } from './process-rules';

export type SalesProcessEvent =
  | { readonly type: 'MOVE'; readonly to: string }
  | { readonly type: 'MEET_CRITERION'; readonly criterionId: string }
  | { readonly type: 'REVOKE_CRITERION'; readonly criterionId: string }
  | { readonly type: 'WIN'; readonly reason?: string }
  | { readonly type: 'LOSE'; readonly reason: string }
  | { readonly type: 'REOPEN'; readonly stage: string };

export interface SalesProcessContext {
  /** Exit criteria of the current stage met during the current visit. */
  readonly criteriaMet: readonly string[];
  /** While closed: the stage it was closed in, which the reopen rule judges from. */
  readonly closedIn?: string;
}

/** Outcomes live under one parent so REOPEN can leave them: a final state has no transitions. */
export const CLOSED_STATE = 'closed';
export const WON_STATE = 'won';
export const LOST_STATE = 'lost';

/**
 * Guards and actions are implemented once here and referred to by name (with params) from the
 * generated config, so a machine built from YAML stays plain data that can be exported as JSON.
 * The rule guards' params come from the process's rule table (process-rules.ts), and their
 * tests are the rules' own predicates.
 */
export const salesProcessSetup = setup({
  types: {
    context: {} as SalesProcessContext,
    events: {} as SalesProcessEvent,
  },
  guards: {
    isMoveTo: ({ event }, params: { to: string }) => event.type === 'MOVE' && event.to === params.to,
    isMoveToWithExitCriteriaMet: ({ context, event }, params: { to: string; required: readonly string[] }) =>
      event.type === 'MOVE' && event.to === params.to && allCriteriaMet(params.required, context.criteriaMet),
    // A win of a process without won reasons names none (the wonReasons rule).
    exitCriteriaMet: ({ context, event }, params: { required: readonly string[] }) =>
      allCriteriaMet(params.required, context.criteriaMet) && (event.type !== 'WIN' || isAllowedWonReason(undefined, event.reason)),
    exitCriteriaMetWithWonReason: ({ context, event }, params: { required: readonly string[]; reasons: readonly string[] }) =>
      event.type === 'WIN' && allCriteriaMet(params.required, context.criteriaMet) && isAllowedWonReason(params.reasons, event.reason),
    isUnmetStageCriterion: ({ context, event }, params: { criteria: readonly string[] }) =>
      event.type === 'MEET_CRITERION' &&
      params.criteria.includes(event.criterionId) &&
      !context.criteriaMet.includes(event.criterionId),
    isMetStageCriterion: ({ context, event }, params: { criteria: readonly string[] }) =>
      event.type === 'REVOKE_CRITERION' &&
      params.criteria.includes(event.criterionId) &&
      context.criteriaMet.includes(event.criterionId),
    isAllowedLostReason: ({ event }, params: { reasons: readonly string[] }) => event.type === 'LOSE' && isAllowedLostReason(params.reasons, event.reason),
    isReopenTo: ({ context, event }, params: { stage: string; closedIn: readonly string[] }) =>
      event.type === 'REOPEN' && event.stage === params.stage && context.closedIn !== undefined && params.closedIn.includes(context.closedIn),
  },
  actions: {
    // Criteria are per stage visit: entering a stage or closing starts from none met.
    clearCriteriaMet: assign({ criteriaMet: () => [], closedIn: () => undefined }),
    closeIn: assign((_, params: { stage: string }) => ({ criteriaMet: [], closedIn: params.stage })),
    recordCriterionMet: assign({
      criteriaMet: ({ context, event }) =>
        event.type === 'MEET_CRITERION' ? [...context.criteriaMet, event.criterionId] : context.criteriaMet,
    }),
    recordCriterionRevoked: assign({
      criteriaMet: ({ context, event }) =>
        event.type === 'REVOKE_CRITERION'
          ? context.criteriaMet.filter((id) => id !== event.criterionId)
          : context.criteriaMet,
    }),
  },
});

type GuardRef = { readonly type: string; readonly params?: Record<string, unknown> };
type ActionRef = GuardRef;
type TransitionJson = { readonly target?: string; readonly guard: GuardRef | RuleGuard; readonly actions?: readonly ActionRef[] };
type StateNodeJson = {
  readonly type?: 'final';
  readonly description?: string;
  readonly initial?: string;
  readonly meta?: Record<string, unknown>;
  readonly on?: Record<string, readonly TransitionJson[]>;
  readonly states?: Record<string, StateNodeJson>;
};

/** The machine config as plain JSON data (paste it into Stately's visualizer). */
export interface SalesProcessMachineJson {
  readonly id: string;
  readonly initial: string;
  readonly context: SalesProcessContext;
  readonly states: Record<string, StateNodeJson>;
}

/**
 * Turns a definition into machine config: one state per stage plus `closed.won` / `closed.lost`.
 * Every transition and its guard come from the process's rule table: a move, win or reopen has a
 * transition exactly where the structural rules allow it, guarded by what the rules check at run
 * time (exit criteria met, a known lost reason).
 * Criteria met are per stage visit: entering a stage (forward, backward or on reopen) starts
 * with none met, so a stage left and re-entered needs its results confirmed again.
 */
export function buildSalesProcessMachineConfig(definition: ProcessDefinition): SalesProcessMachineJson {
  const { stages } = definition;
  const rules = ruleTableOf(definition);
  const clearCriteria: ActionRef = { type: 'clearCriteriaMet' };
  const transition = (target: string, guard: RuleGuard | undefined, action: ActionRef = clearCriteria): TransitionJson[] => (guard ? [{ target, guard, actions: [action] }] : []);

  const stageStates = Object.fromEntries(
    stages.map((stage): [string, StateNodeJson] => {
      const criteria = stage.exitCriteria.map((criterion) => criterion.id);
      const closeHere: ActionRef = { type: 'closeIn', params: { stage: stage.id } };
      const on: Record<string, readonly TransitionJson[]> = {
        MOVE: stages.flatMap((target) => transition(target.id, rules.guardOf({ kind: 'move', from: stage.id, to: target.id }))),
        MEET_CRITERION: [{ guard: { type: 'isUnmetStageCriterion', params: { criteria } }, actions: [{ type: 'recordCriterionMet' }] }],
        REVOKE_CRITERION: [{ guard: { type: 'isMetStageCriterion', params: { criteria } }, actions: [{ type: 'recordCriterionRevoked' }] }],
        LOSE: transition(`${CLOSED_STATE}.${LOST_STATE}`, rules.guardOf({ kind: 'lose', from: stage.id, reason: '' }), closeHere),
      };
      const win = transition(`${CLOSED_STATE}.${WON_STATE}`, rules.guardOf({ kind: 'win', from: stage.id }), closeHere);
      if (win.length > 0) on.WIN = win;
      return [stage.id, { ...(stage.description ? { description: stage.description } : {}), meta: { name: stage.name, probability: stage.probability }, on }];
    }),
  );

  return {
    id: definition.id,
    initial: stages[0]!.id,
    context: { criteriaMet: [] },
    states: {
      ...stageStates,
      [CLOSED_STATE]: {
        initial: WON_STATE,
        states: { [WON_STATE]: { type: 'final' }, [LOST_STATE]: { type: 'final' } },
        on: {
          // Which stage a closed deal may return to is the reopen rule's; the context keeps the stage it closed in.
          REOPEN: stages.flatMap((stage) => transition(stage.id, rules.guardOf({ kind: 'reopen', closedIn: stage.id, to: stage.id }))),
        },
      },
    },
  };
}

export function createSalesProcessMachine(definition: ProcessDefinition) {
  const config = buildSalesProcessMachineConfig(definition);
  // The generated config is checked by the builder above; XState's static types cannot follow
  // a config whose state names come from data, hence the cast.
  return salesProcessSetup.createMachine(config as unknown as Parameters<typeof salesProcessSetup.createMachine>[0]);
}

export type SalesProcessMachine = ReturnType<typeof createSalesProcessMachine>;
