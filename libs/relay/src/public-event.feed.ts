import { StreamDeletedError, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import { evolve, fromOpportunityStreamId, isOpportunityEventType, toOpportunityStreamId, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { toPublicEvent } from '@stagecraft/public-events';
import { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED, toProcessStreamId, type ProcessDefinition, type ProcessVersionRecordedData } from '@stagecraft/sales-process';
import type { OutgoingEvent } from './outgoing-event';

interface CachedState {
  readonly revision: number;
  readonly state: OpportunityState;
}

/**
 * Turns stored events, in log order, into public events. It keeps what the mapping needs to know
 * beyond the event itself: each opportunity's state just before it (folded from its stream; a
 * bounded cache, read again from the store after a gap such as a restart or a replay) and the
 * recorded process versions (learned as they pass, or read from the process stream when a
 * relay starts after them). Events of other streams yield nothing.
 */
export class PublicEventFeed {
  private readonly states = new Map<string, CachedState>();
  private readonly definitions = new Map<string, ProcessDefinition>();
  private readonly processesRead = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly cacheSize = 50_000,
    /** Told of each event passed by unpublished because its opportunity's stream no longer tells the state before it. */
    private readonly onPassedBy: (reason: string) => void = () => undefined,
  ) {}

  async toOutgoing(stored: StoredEvent): Promise<OutgoingEvent | undefined> {
    if (stored.stream.startsWith(PROCESS_STREAM_PREFIX)) {
      if (stored.type === PROCESS_VERSION_RECORDED) this.learn(stored.data as unknown as ProcessVersionRecordedData);
      return undefined;
    }
    const opportunityId = fromOpportunityStreamId(stored.stream);
    if (opportunityId === undefined || !isOpportunityEventType(stored.type)) return undefined;
    const event = { type: stored.type, data: stored.data } as OpportunityEvent;
    const before = await this.stateBefore(opportunityId, stored.revision);
    if (before === undefined) {
      // An operator deleted the stream or hid its first events (the API answers 410 or
      // STREAM_UNREADABLE for the deal); its events stay in the log. Failing here would stop the
      // relay at this position at every retry, and every sink with it.
      this.onPassedBy(`the event at position ${stored.position} (${stored.type}, revision ${stored.revision} of ${stored.stream}) is not published: the stream no longer reads from its first event (deleted or truncated on the event store), so the deal's state before it cannot be told`);
      return undefined;
    }
    await this.ensureDefinitions(event, before);
    const mapped = toPublicEvent(stored, event, before, (processId, version) => this.definitions.get(versionKey(processId, version)));
    this.remember(opportunityId, { revision: stored.revision, state: mapped.state });
    if (mapped.publicEvent === undefined) return undefined;
    return { position: stored.position, event: mapped.publicEvent, body: Buffer.from(JSON.stringify(mapped.publicEvent)) };
  }

  /** The opportunity's state before `revision`; undefined when its stream no longer reads whole up to there. */
  private async stateBefore(opportunityId: string, revision: number): Promise<OpportunityState | undefined> {
    if (revision === 0) return { status: 'none' };
    const cached = this.states.get(opportunityId);
    if (cached?.revision === revision - 1) return cached.state;
    let state: OpportunityState = { status: 'none' };
    let events: StoredEvent[];
    try {
      // From the leader: the subscription that handed us the event may be fed by a node further on
      // than a follower this store reads from, which would show the stream short, as if truncated.
      events = await this.store.readStream(toOpportunityStreamId(opportunityId), { fromRevision: 0, maxCount: revision, fromLeader: true });
    } catch (error) {
      if (error instanceof StreamDeletedError) return undefined; // tombstoned
      throw error;
    }
    // Soft-deleted (reads as empty), or its first events hidden ($tb, $maxCount): folding what is
    // left would give another state than the deal had.
    if (events.length !== revision || events[0]!.revision !== 0) return undefined;
    for (const stored of events) {
      if (isOpportunityEventType(stored.type)) state = evolve(state, { type: stored.type, data: stored.data } as OpportunityEvent);
    }
    return state;
  }

  private remember(opportunityId: string, entry: CachedState): void {
    // Map order is insertion order: re-inserting keeps recently used ids at the end.
    this.states.delete(opportunityId);
    this.states.set(opportunityId, entry);
    if (this.states.size > this.cacheSize) this.states.delete(this.states.keys().next().value!);
  }

  // A relay that starts from a checkpoint has not seen the versions recorded before it.
  private async ensureDefinitions(event: OpportunityEvent, before: OpportunityState): Promise<void> {
    const needed: [string, string][] = [];
    if (event.type === 'OpportunityOpened') needed.push([event.data.processId, event.data.processVersion]);
    else if (before.status !== 'none') needed.push([before.processId, before.processVersion]);
    if (event.type === 'ProcessMigrated') needed.push([event.data.processId, event.data.toVersion]);
    for (const [processId, version] of needed) {
      if (this.definitions.has(versionKey(processId, version))) continue;
      // Read each process stream again at most once per version missing, then give up naming.
      const attempt = `${processId}\u0000${version}`;
      if (this.processesRead.has(attempt)) continue;
      this.processesRead.add(attempt);
      // A process stream deleted on the event store teaches nothing: the stages go unnamed, as for a version missing.
      const recorded = await this.store.readStream(toProcessStreamId(processId), { fromLeader: true }).catch((error: unknown) => (error instanceof StreamDeletedError ? [] : Promise.reject(error)));
      for (const stored of recorded) {
        if (stored.type === PROCESS_VERSION_RECORDED) this.learn(stored.data as unknown as ProcessVersionRecordedData);
      }
    }
  }

  private learn(data: ProcessVersionRecordedData): void {
    if (data?.definition && Array.isArray(data.definition.stages)) this.definitions.set(versionKey(data.processId, data.version), data.definition);
  }
}

function versionKey(processId: string, version: string): string {
  return `${processId}\u0000${version}`;
}
