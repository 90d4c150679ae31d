import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProcess, parseProcessDefinition, type CompiledProcess } from '@stagecraft/sales-process';
import type { OpportunityEvent } from '../opportunity.events';

const PROCESS_DIR = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

/** A process shipped in config/processes, compiled as the service would. */
export function shippedProcess(id: 'standard' | 'inside-sales'): CompiledProcess {
  const file = join(PROCESS_DIR, `${id}.yaml`);
  return compileProcess(parseProcessDefinition(readFileSync(file, 'utf8'), file));
}

export const OPPORTUNITY_ID = 'opp-1';

/** Minute n of a fixed day: fixtures keep time explicit and ordered. */
export const at = (minute: number): string => new Date(Date.UTC(2026, 2, 1, 9, minute)).toISOString();

const stamp = (minute: number) => ({ opportunityId: OPPORTUNITY_ID, occurredAt: at(minute) });

export const events = {
  opened: (process: CompiledProcess, minute = 0, extra: Partial<Extract<OpportunityEvent, { type: 'OpportunityOpened' }>['data']> = {}): OpportunityEvent => ({
    type: 'OpportunityOpened',
    data: {
      ...stamp(minute),
      processId: process.definition.id,
      processVersion: process.version,
      stage: process.initialStage.id,
      title: 'ACME renewal',
      ...extra,
    },
  }),
  met: (stage: string, criterionId: string, minute: number): OpportunityEvent => ({
    type: 'ExitCriterionMet',
    data: { ...stamp(minute), stage, criterionId },
  }),
  revoked: (stage: string, criterionId: string, minute: number): OpportunityEvent => ({
    type: 'ExitCriterionRevoked',
    data: { ...stamp(minute), stage, criterionId },
  }),
  moved: (from: string, to: string, direction: 'forward' | 'backward', minute: number): OpportunityEvent => ({
    type: 'StageChanged',
    data: { ...stamp(minute), from, to, direction },
  }),
  won: (stage: string, minute: number, amount?: number): OpportunityEvent => ({
    type: 'OpportunityWon',
    data: { ...stamp(minute), stage, ...(amount === undefined ? {} : { amount }) },
  }),
  lost: (stage: string, reason: string, minute: number): OpportunityEvent => ({
    type: 'OpportunityLost',
    data: { ...stamp(minute), stage, reason },
  }),
  reopened: (stage: string, minute: number): OpportunityEvent => ({
    type: 'OpportunityReopened',
    data: { ...stamp(minute), stage },
  }),
};

/** All exit criteria of a stage, met one minute apart from `minute`. */
export function allMet(process: CompiledProcess, stage: string, minute: number): OpportunityEvent[] {
  return process.stage(stage)!.exitCriteria.map((criterion, index) => events.met(stage, criterion.id, minute + index));
}

/** The command envelope: server time `now` (minute 59 unless given) and the opportunity id. */
export const command = (minuteNow = 59) => ({ opportunityId: OPPORTUNITY_ID, now: at(minuteNow) });
