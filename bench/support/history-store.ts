// Writes a SQLite event store the API could have written: the shipped process versions, then
// opportunities made by the real decider (bench/support/history.generator.ts), hash-chained, with
// the metadata the API writes. Appends go 1,000 streams at a time through the store's group commit.
import { chainNewEvents, GENESIS_HASH } from '@stagecraft/audit';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { decide, foldOpportunity, toOpportunityStreamId, type OpportunityCommand, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { PROCESS_VERSION_RECORDED, toProcessStreamId } from '@stagecraft/sales-process';
import { generateHistory, seededRandom, shippedProcesses } from './history.generator';

const STARTED = Date.UTC(2025, 0, 1);

/** The metadata the API writes with every event (the hash chain is added when appending). */
export const apiLikeMetadata = (recordedAt: unknown): Record<string, unknown> => {
  const commandId = crypto.randomUUID();
  return { commandId, correlationId: crypto.randomUUID(), causationId: commandId, actor: 'service:crm-sync', authenticatedBy: 'api-key:crm-sync', recordedAt };
};

export interface WrittenHistory {
  readonly events: number;
  readonly opportunities: number;
  readonly seconds: number;
}

/** About `targetEvents` events (ten an opportunity on average), deterministic for a seed. */
export async function writeHistoryStore(path: string, targetEvents: number, options: { maxOpportunities?: number; seed?: number } = {}): Promise<WrittenHistory> {
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  const t0 = performance.now();
  try {
    const processes = shippedProcesses();
    for (const process of processes) {
      const stream = toProcessStreamId(process.definition.id);
      const data = { processId: process.definition.id, version: process.version, definition: process.definition, source: 'bench' };
      const { events } = chainNewEvents(stream, 0, GENESIS_HASH, [{ id: crypto.randomUUID(), type: PROCESS_VERSION_RECORDED, data, metadata: { actor: 'system:start-up', source: 'bench' } }]);
      await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
    }
    const random = seededRandom(options.seed ?? 42);
    const maxOpportunities = options.maxOpportunities ?? Math.ceil(targetEvents / 5);
    // Counts opportunity events only (the figure the projections bench has always printed).
    let written = 0;
    let opportunities = 0;
    while (written < targetEvents && opportunities < maxOpportunities) {
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < 1_000 && written < targetEvents; i += 1, opportunities += 1) {
        const id = `00000000-0000-4000-8000-${String(opportunities).padStart(12, '0')}`;
        const process = random() < 0.75 ? processes[0]! : processes[1]!;
        const events = generateHistory(id, process, random, STARTED + Math.floor(random() * 300 * 86_400_000));
        written += events.length;
        appends.push(appendFresh(store, toOpportunityStreamId(id), events));
      }
      await Promise.all(appends);
    }
    return { events: written, opportunities, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await store.close();
  }
}

/**
 * One opportunity of `count` events: opened, moved to Qualification, then a criterion met and
 * revoked in turn. Its last event leaves `criterionId` met when `count` is odd.
 */
export async function writeLongOpportunity(path: string, id: string, count: number, criterionId = 'goals'): Promise<void> {
  const process = shippedProcesses().find((p) => p.definition.id === 'standard')!;
  const events: OpportunityEvent[] = [];
  let state = { status: 'none' } as OpportunityState;
  let clock = STARTED;
  const run = (command: Record<string, unknown>) => {
    clock += 60_000;
    const at = new Date(clock).toISOString();
    const decision = decide({ ...command, opportunityId: id, now: at, occurredAt: at } as unknown as OpportunityCommand, state, process);
    if (!decision.ok) throw new Error(`the decider refused ${String(command.type)}: ${decision.error.code}`);
    events.push(...decision.events);
    state = foldOpportunity(decision.events, state);
  };
  run({ type: 'OpenOpportunity', processId: 'standard', title: `Long deal ${count}`, teamId: 'direct', ownerId: 'owner-1', amount: 1000, currency: 'EUR' });
  run({ type: 'MoveOpportunityToStage', stage: 'qualification' });
  for (let n = 0; events.length < count; n += 1) run({ type: n % 2 === 0 ? 'MeetExitCriterion' : 'RevokeExitCriterion', criterionId });
  const store = getSQLiteEventStore({ path, durability: 'normal' });
  try {
    await appendFresh(store, toOpportunityStreamId(id), events);
  } finally {
    await store.close();
  }
}

async function appendFresh(store: EventStore, stream: string, events: readonly OpportunityEvent[]): Promise<void> {
  const unchained = events.map((event) => ({ id: crypto.randomUUID(), type: event.type, data: { ...event.data }, metadata: apiLikeMetadata(event.data.occurredAt) }));
  await store.appendToStream(stream, chainNewEvents(stream, 0, GENESIS_HASH, unchained).events, { expectedRevision: 'no_stream' });
}
