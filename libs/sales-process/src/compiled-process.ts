import type { ExitCriterionDefinition, ProcessDefinition, StageDefinition } from './process-definition.types';
import { ruleTableOf, type RuleTable } from './process-rules';
import { processVersionOf } from './process-version';
import {
  buildSalesProcessMachineConfig,
  CLOSED_STATE,
  createSalesProcessMachine,
  LOST_STATE,
  WON_STATE,
  type SalesProcessEvent,
  type SalesProcessMachine,
  type SalesProcessMachineJson,
} from './sales-process.machine';

/** Where an opportunity is, as far as the machine is concerned. */
export type MachinePosition =
  | { readonly status: 'open'; readonly stage: string; readonly criteriaMet: readonly string[] }
  | { readonly status: 'won' | 'lost'; /** The stage it was closed in. */ readonly stage: string };

/**
 * A definition together with everything derived from it once: its version, its machine and
 * stage look-ups. Build it once per process version and reuse it for every command.
 */
export interface CompiledProcess {
  readonly definition: ProcessDefinition;
  readonly version: string;
  readonly machine: SalesProcessMachine;
  readonly machineJson: SalesProcessMachineJson;
  /** The process's rules, each declared once: the machine's guards and every refusal's explanation. */
  readonly ruleTable: RuleTable;
  readonly initialStage: StageDefinition;
  stage(stageId: string): StageDefinition | undefined;
  /** Position of the stage in process order, or -1 when the process has no such stage. */
  stageIndex(stageId: string): number;
  criterion(stageId: string, criterionId: string): ExitCriterionDefinition | undefined;
  /** Restores the machine snapshot for a position, without replaying anything. */
  snapshotAt(position: MachinePosition): ReturnType<SalesProcessMachine['resolveState']>;
  /** Whether the machine takes the event at the position: snapshotAt(position).can(event), remembered. */
  can(position: MachinePosition, event: SalesProcessEvent): boolean;
}

/** Answers remembered per process version; past this many the memory starts over. */
export const CAN_MEMO_SIZE = 10_000;

export function compileProcess(definition: ProcessDefinition): CompiledProcess {
  const machine = createSalesProcessMachine(definition);
  const indexById = new Map(definition.stages.map((stage, index) => [stage.id, index]));
  const snapshotAt: CompiledProcess['snapshotAt'] = (position) =>
    position.status === 'open'
      ? machine.resolveState({ value: position.stage, context: { criteriaMet: [...position.criteriaMet] } })
      : machine.resolveState({
          value: { [CLOSED_STATE]: position.status === 'won' ? WON_STATE : LOST_STATE },
          context: { criteriaMet: [], closedIn: position.stage },
        });
  // Every command asks the machine once, and restoring a snapshot and asking costs more than the
  // rest of deciding. The machine is pure (guards read the context and the event, nothing else),
  // so the same position and event always get the same answer: remember it.
  const answers = new Map<string, boolean>();
  const can: CompiledProcess['can'] = (position, event) => {
    const key = JSON.stringify([position.status, position.stage, position.status === 'open' ? position.criteriaMet : null, event]);
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = snapshotAt(position).can(event);
      if (answers.size >= CAN_MEMO_SIZE) answers.clear();
      answers.set(key, answer);
    }
    return answer;
  };

  return {
    definition,
    version: processVersionOf(definition),
    machine,
    machineJson: buildSalesProcessMachineConfig(definition),
    ruleTable: ruleTableOf(definition),
    initialStage: definition.stages[0]!,
    stage: (stageId) => {
      const index = indexById.get(stageId);
      return index === undefined ? undefined : definition.stages[index];
    },
    stageIndex: (stageId) => indexById.get(stageId) ?? -1,
    criterion: (stageId, criterionId) => {
      const index = indexById.get(stageId);
      if (index === undefined) return undefined;
      return definition.stages[index]!.exitCriteria.find((criterion) => criterion.id === criterionId);
    },
    snapshotAt,
    can,
  };
}
