// Generates valid opportunity histories with the real decider, for benchmarks: every event is one
// the API could have accepted. Deterministic for a given seed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './bench-paths';
import { decide, foldOpportunity, type OpportunityCommand, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { compileProcess, parseProcessDefinition, type CompiledProcess } from '@stagecraft/sales-process';

export const PROCESS_DIR = join(REPO_ROOT, 'config', 'processes');

export function shippedProcesses(): CompiledProcess[] {
  return ['standard', 'inside-sales'].map((id) => {
    const file = join(PROCESS_DIR, `${id}.yaml`);
    return compileProcess(parseProcessDefinition(readFileSync(file, 'utf8'), file));
  });
}

// Benchmarks must generate the same data every run: one seeded PRNG, shared with the specs.
export { seededRandom } from '@stagecraft/testing/seeded-random';

/**
 * One opportunity's life: opened, criteria met, moved forward (sometimes back), then won, lost or
 * left open. Business time advances by minutes to days between steps, from `start`.
 */
export function generateHistory(id: string, process: CompiledProcess, random: () => number, start: number): OpportunityEvent[] {
  const events: OpportunityEvent[] = [];
  let state = { status: 'none' } as OpportunityState;
  let clock = start;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const run = (command: Record<string, unknown>): boolean => {
    clock += Math.floor(random() * 3 * 86_400_000) + 60_000;
    const at = new Date(clock).toISOString();
    const decision = decide({ ...command, opportunityId: id, now: at, occurredAt: at } as unknown as OpportunityCommand, state, process);
    if (!decision.ok) return false;
    events.push(...decision.events);
    state = foldOpportunity(decision.events, state);
    return true;
  };
  const { teams, stages, lostReasons } = process.definition;
  run({ type: 'OpenOpportunity', processId: process.definition.id, title: `Deal ${id.slice(0, 8)}`, teamId: pick(teams), ownerId: `owner-${Math.floor(random() * 40)}`, amount: Math.round(random() * 100_000), currency: random() < 0.8 ? 'EUR' : 'USD' });
  for (let step = 0; step < 12 && state.status === 'open'; step += 1) {
    const open = state;
    const stage = process.stage(open.stage)!;
    for (const criterion of stage.exitCriteria) if (random() < 0.5) run({ type: 'MeetExitCriterion', criterionId: criterion.id });
    const roll = random();
    if (roll < 0.12) run({ type: 'LoseOpportunity', reason: pick(lostReasons) });
    else if (roll < 0.2 && process.definition.rules.winFrom.includes(open.stage)) run({ type: 'WinOpportunity' });
    else if (roll < 0.27) run({ type: 'MoveOpportunityToStage', stage: stages[0]!.id });
    else {
      const index = process.stageIndex(open.stage);
      if (index === stages.length - 1) run({ type: 'WinOpportunity' });
      else run({ type: 'MoveOpportunityToStage', stage: stages[index + 1]!.id });
    }
  }
  if (state.status !== 'open' && random() < 0.05) run({ type: 'ReopenOpportunity' });
  return events;
}
