import type { EventStore, StoredEvent, StreamRevision } from '@stagecraft/event-store';
import { effectiveHash, GENESIS_HASH } from '@stagecraft/audit';
import { evolve, toOpportunityStreamId, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { toOpportunityEvents } from './opportunity-stream.events';

/** What a client-chosen command id produced: enough to answer a retry without deciding again. */
export interface RecordedCommand {
  readonly fingerprint: string;
  readonly revision: number;
  readonly position: number;
  readonly state: OpportunityState;
}

/** An opportunity stream folded up to a revision. */
export interface LoadedOpportunity {
  readonly stream: string;
  readonly state: OpportunityState;
  readonly revision: StreamRevision;
  /** Global position of the last event folded; 0 when there is none. */
  readonly position: number;
  /** Hash of the last event folded (GENESIS_HASH when none): the next append chains from it. */
  readonly headHash: string;
  readonly commands: ReadonlyMap<string, RecordedCommand>;
}

/**
 * Loads opportunity streams, keeping the most recently used ones folded in memory. The cache is
 * only a head start: every load still reads the store from the cached revision on, so events
 * appended by another API instance are never missed, and an entry is only ever a true prefix of
 * its stream (built from reads or from appends this process saw succeed).
 */
export class OpportunityStreams {
  private readonly cache = new Map<string, LoadedOpportunity>();

  constructor(
    private readonly store: EventStore,
    /** How many streams stay folded in memory between commands. */
    private readonly cacheSize: number,
  ) {}

  async load(opportunityId: string): Promise<LoadedOpportunity> {
    const stream = toOpportunityStreamId(opportunityId);
    const cached = this.cache.get(stream);
    const fromRevision = cached && cached.revision !== 'no_stream' ? cached.revision + 1 : 0;
    const newer = await this.store.readStream(stream, { fromRevision });
    const base = cached ?? { stream, state: { status: 'none' }, revision: 'no_stream', position: 0, headHash: GENESIS_HASH, commands: new Map() };
    if (newer.length === 0) {
      if (cached) this.remember(cached);
      return base;
    }
    return this.remember(extend(base, newer));
  }

  /** Records an append this process made, so the next load needs no re-read of those events. */
  appended(before: LoadedOpportunity, events: readonly OpportunityEvent[], result: { nextRevision: number; position: number }, headHash: string): LoadedOpportunity {
    let state = before.state;
    for (const event of events) state = evolve(state, event);
    return this.remember({ ...before, state, revision: result.nextRevision, position: result.position, headHash });
  }

  /** Drops what is known of a stream; the next load reads it whole. */
  forget(opportunityId: string): void {
    this.cache.delete(toOpportunityStreamId(opportunityId));
  }

  private remember(loaded: LoadedOpportunity): LoadedOpportunity {
    // Map order is insertion order: re-inserting marks it most recently used.
    this.cache.delete(loaded.stream);
    this.cache.set(loaded.stream, loaded);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return loaded;
  }
}

function extend(loaded: LoadedOpportunity, stored: readonly StoredEvent[]): LoadedOpportunity {
  const events = toOpportunityEvents(stored);
  let state = loaded.state;
  let commands = loaded.commands;
  let headHash = loaded.headHash;
  stored.forEach((event, index) => {
    state = evolve(state, events[index]!);
    // Events written before tamper evidence carry no hash: the chain goes on from their computed one.
    headHash = effectiveHash(headHash, event);
    const { commandId, commandFingerprint } = event.metadata;
    if (typeof commandId === 'string' && typeof commandFingerprint === 'string') {
      if (commands === loaded.commands) commands = new Map(commands);
      (commands as Map<string, RecordedCommand>).set(commandId, { fingerprint: commandFingerprint, revision: event.revision, position: event.position, state });
    }
  });
  const last = stored[stored.length - 1]!;
  return { stream: loaded.stream, state, revision: last.revision, position: last.position, headHash, commands };
}
