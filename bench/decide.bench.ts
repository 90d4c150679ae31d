// How long the pure command path takes: fold a stream, restore the machine, decide.
// Run: npm run bench:decide
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileProcess, parseProcessDefinition } from '@stagecraft/sales-process';
import { chainHash, GENESIS_HASH } from '@stagecraft/audit';
import { decide, foldOpportunity, type OpportunityEvent } from '@stagecraft/opportunity';

const file = join(__dirname, '..', 'config', 'processes', 'standard.yaml');
const standard = compileProcess(parseProcessDefinition(readFileSync(file, 'utf8'), file));
const now = '2026-03-01T12:00:00.000Z';

// A typical stream: opened, 5 criteria met, moved to proposition, 3 met, moved to negotiation.
const history: OpportunityEvent[] = [];
let state = foldOpportunity([]);
const run = (command: Parameters<typeof decide>[0]) => {
  const decision = decide(command, state, standard);
  if (!decision.ok) throw new Error(decision.error.message);
  history.push(...decision.events);
  state = foldOpportunity(decision.events, state);
};
const base = { opportunityId: 'bench', now };
run({ type: 'OpenOpportunity', ...base, processId: 'standard', title: 'Bench' });
run({ type: 'MoveOpportunityToStage', ...base, stage: 'qualification' });
for (const c of standard.stage('qualification')!.exitCriteria) run({ type: 'MeetExitCriterion', ...base, criterionId: c.id });
run({ type: 'MoveOpportunityToStage', ...base, stage: 'proposition' });
for (const c of standard.stage('proposition')!.exitCriteria) run({ type: 'MeetExitCriterion', ...base, criterionId: c.id });

function measure(label: string, iterations: number, body: () => void): void {
  for (let i = 0; i < iterations / 10; i += 1) body(); // warm up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i += 1) body();
  const micros = ((performance.now() - t0) * 1000) / iterations;
  console.log(`${label.padEnd(58)} ${micros.toFixed(2).padStart(8)} µs/op  ${Math.round(1e6 / micros).toLocaleString('en').padStart(12)} ops/s`);
}

const move = { type: 'MoveOpportunityToStage' as const, ...base, stage: 'negotiation' };
console.log(`stream of ${history.length} events, standard "${standard.definition.id}" @ ${standard.version}`);
measure('fold the stream (evolve, no XState)', 200_000, () => foldOpportunity(history));
measure('restore machine snapshot (resolveState)', 200_000, () => standard.snapshotAt({ status: 'open', stage: 'proposition', criteriaMet: ['proposal-given'] }));
const proposition = { status: 'open' as const, stage: 'proposition', criteriaMet: ['proposal-given'] };
measure('ask the machine (resolveState + can, not remembered)', 100_000, () => standard.snapshotAt(proposition).can({ type: 'MOVE', to: 'negotiation' }));
measure('ask the machine (CompiledProcess.can, remembered)', 200_000, () => standard.can(proposition, { type: 'MOVE', to: 'negotiation' }));
measure('decide an accepted move (fold + remembered can)', 100_000, () => decide(move, foldOpportunity(history), standard));
const early = foldOpportunity(history.slice(0, 2));
measure('decide a refused move (with explanation)', 100_000, () => decide({ ...move, stage: 'proposition' }, early, standard));
// What the writer adds to every event it appends: its hash over the canonical event, with the
// metadata the API writes.
const moved = history.find((event) => event.type === 'StageChanged')!;
const hashable = {
  stream: 'opportunity-bench',
  revision: 6,
  type: moved.type,
  data: moved.data,
  metadata: { commandId: crypto.randomUUID(), correlationId: crypto.randomUUID(), causationId: crypto.randomUUID(), actor: 'service:crm-sync', authenticatedBy: 'api-key:crm-sync', recordedAt: now },
};
measure('hash-chain one event (SHA-256 over its canonical JSON)', 100_000, () => chainHash(GENESIS_HASH, hashable));
measure('compile a process (parse result → machine), once per version', 2_000, () => compileProcess(standard.definition));
