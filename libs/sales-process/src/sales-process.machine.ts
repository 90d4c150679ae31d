import { assign, setup } from 'xstate';
import type { ProcessDefinition } from './process-definition.types';

export type SalesProcessEvent =
  | { readonly type: 'MOVE'; readonly to: string }
  | { readonly type: 'MEET_CRITERION'; readonly criterionId: string }
  | { readonly type: 'REVOKE_CRITERION'; readonly criterionId: string }
  | { readonly type: 'WIN' }
  | { readonly type: 'LOSE'; readonly reason: string }
  | { readonly type: 'REOPEN'; readonly stage: string };

export interface SalesProcessContext {
  /** Exit criteria of the current stage met during the current visit. */
  readonly criteriaMet: readonly string[];
}

/** Outcomes live under one parent so REOPEN can leave them: a final state has no transitions. */
export const CLOSED_STATE = 'closed';
export const WON_STATE = 'won';
export const LOST_STATE = 'lost';

const allMet = (criteriaMet: readonly string[], required: readonly string[]): boolean =>
  required.every((id) => criteriaMet.includes(id));

/**
 * Guards and actions are implemented once here and referred to by name (with params) from the
 * generated config, so a machine built from YAML stays plain data that can be exported as JSON.
 */
export const salesProcessSetup = setup({
  types: {
    context: {} as SalesProcessContext,
    events: {} as SalesProcessEvent,
  },
  guards: {
    isMoveTo: ({ event }, params: { to: string }) => event.type === 'MOVE' && event.to === params.to,
    isMoveToWithExitCriteriaMet: ({ context, event }, params: { to: string; required: readonly string[] }) =>
      event.type === 'MOVE' && event.to === params.to && allMet(context.criteriaMet, params.required),
    exitCriteriaMet: ({ context }, params: { required: readonly string[] }) =>
      allMet(context.criteriaMet, params.required),
    isUnmetStageCriterion: ({ context, event }, params: { criteria: readonly string[] }) =>
      event.type === 'MEET_CRITERION' &&
      params.criteria.includes(event.criterionId) &&
      !context.criteriaMet.includes(event.criterionId),
    isMetStageCriterion: ({ context, event }, params: { criteria: readonly string[] }) =>
      event.type === 'REVOKE_CRITERION' &&
      params.criteria.includes(event.criterionId) &&
      context.criteriaMet.includes(event.criterionId),
    isAllowedLostReason: ({ event }, params: { reasons: readonly string[] }) =>
      event.type === 'LOSE' && params.reasons.includes(event.reason),
    isReopenTo: ({ event }, params: { stage: string }) => event.type === 'REOPEN' && event.stage === params.stage,
  },
  actions: {
    // Criteria are per stage visit: entering a stage or closing starts from none met.
    clearCriteriaMet: assign({ criteriaMet: () => [] }),
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
type TransitionJson = { readonly target?: string; readonly guard: GuardRef; readonly actions?: readonly ActionRef[] };
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
 * Criteria met are per stage visit: entering a stage (forward, backward or on reopen) starts
 * with none met, so a stage left and re-entered needs its results confirmed again.
 */
export function buildSalesProcessMachineConfig(definition: ProcessDefinition): SalesProcessMachineJson {
  const { stages, rules } = definition;
  const clearCriteria: ActionRef = { type: 'clearCriteriaMet' };

  const stageStates = Object.fromEntries(
    stages.map((stage, index): [string, StateNodeJson] => {
      const required = stage.exitCriteria.map((criterion) => criterion.id);
      const criteria = required;
      const moves: TransitionJson[] = [];
      stages.forEach((target, targetIndex) => {
        const forward = targetIndex > index;
        if (targetIndex === index) return;
        if (forward && (targetIndex === index + 1 || rules.allowSkipping)) {
          moves.push({
            target: target.id,
            guard: { type: 'isMoveToWithExitCriteriaMet', params: { to: target.id, required } },
            actions: [clearCriteria],
          });
        } else if (!forward && rules.allowBackward) {
          moves.push({ target: target.id, guard: { type: 'isMoveTo', params: { to: target.id } }, actions: [clearCriteria] });
        }
      });

      const on: Record<string, readonly TransitionJson[]> = {
        MOVE: moves,
        MEET_CRITERION: [{ guard: { type: 'isUnmetStageCriterion', params: { criteria } }, actions: [{ type: 'recordCriterionMet' }] }],
        REVOKE_CRITERION: [{ guard: { type: 'isMetStageCriterion', params: { criteria } }, actions: [{ type: 'recordCriterionRevoked' }] }],
        LOSE: [{ target: `${CLOSED_STATE}.${LOST_STATE}`, guard: { type: 'isAllowedLostReason', params: { reasons: definition.lostReasons } }, actions: [clearCriteria] }],
      };
      if (rules.winFrom.includes(stage.id)) {
        on.WIN = [{ target: `${CLOSED_STATE}.${WON_STATE}`, guard: { type: 'exitCriteriaMet', params: { required } }, actions: [clearCriteria] }];
      }
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
          REOPEN: stages.map((stage) => ({
            target: stage.id,
            guard: { type: 'isReopenTo', params: { stage: stage.id } },
            actions: [clearCriteria],
          })),
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
