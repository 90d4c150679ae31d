import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { foldAsOf, timelineOf, verifyStreamChain, type AsOfAxis, type ChainVerdict, type TimelineStep } from '@stagecraft/audit';
import { EVENT_STORE, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import { foldOpportunity } from '@stagecraft/opportunity';
import { toProcessStreamId } from '@stagecraft/sales-process';
import { assertTeamsAllowed, ProcessRegistry, toOpportunityEvents } from '@stagecraft/commands';
import { ApiProblem } from '../http/problem';
import type { OpportunityView } from '@stagecraft/contracts';
import { opportunityViewOf, readOpportunityStream } from './opportunity.queries';

// Auditors' reads: the opportunity as it was at an instant, its readable timeline, and whether
// its stored events still carry an intact hash chain. All read the stream from the store (never
// the command path's fold cache), since they must show what is stored.

export interface AsOfView extends OpportunityView {
  readonly asOf: {
    readonly instant: string;
    /** occurredAt: business time (what the deal looked like); recordedAt: what the system knew then. */
    readonly axis: AsOfAxis;
    readonly eventsFolded: number;
    /** The stream's latest revision now, to show how much happened after the instant. */
    readonly latestRevision: number;
  };
}

export class GetOpportunityAsOfQuery extends Query<AsOfView> {
  constructor(
    readonly opportunityId: string,
    readonly instant: string,
    readonly axis: AsOfAxis,
    readonly teams?: readonly string[],
  ) {
    super();
  }
}

export class GetOpportunityTimelineQuery extends Query<{ opportunityId: string; steps: TimelineStep[] }> {
  constructor(
    readonly opportunityId: string,
    readonly teams?: readonly string[],
  ) {
    super();
  }
}

export interface VerifyView {
  readonly opportunityId: string;
  /** True when the opportunity's stream and its process's stream both verify. */
  readonly ok: boolean;
  readonly opportunity: ChainVerdict;
  readonly process: ChainVerdict | null;
}

export class VerifyOpportunityQuery extends Query<VerifyView> {
  constructor(
    readonly opportunityId: string,
    readonly teams?: readonly string[],
  ) {
    super();
  }
}

/** Team-limited callers see only their teams' opportunities, judged by the team it has now. */
function assertVisible(stored: readonly StoredEvent[], teams: readonly string[] | undefined): void {
  if (!teams) return;
  let team: string | undefined;
  try {
    const state = foldOpportunity(toOpportunityEvents(stored));
    team = state.status === 'none' ? undefined : state.teamId;
  } catch {
    team = undefined; // a stream that no longer folds (e.g. tampered) has no team a limited caller may rely on
  }
  assertTeamsAllowed(teams, [team]);
}

@QueryHandler(GetOpportunityAsOfQuery)
export class GetOpportunityAsOfHandler implements IQueryHandler<GetOpportunityAsOfQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
  ) {}

  async execute({ opportunityId, instant, axis, teams }: GetOpportunityAsOfQuery): Promise<AsOfView> {
    const stored = await readOpportunityStream(this.store, opportunityId);
    assertVisible(stored, teams);
    const { state, revision, eventsFolded } = foldAsOf(stored, instant, axis);
    if (state.status === 'none' || revision === null) {
      const first = stored[0]!;
      throw new ApiProblem('OPPORTUNITY.NOT_YET_OPENED', `Opportunity "${opportunityId}" was not open yet at ${instant} (by ${axis}).`, {
        opportunityId,
        asOf: instant,
        axis,
        openedAt: String(first.data.occurredAt),
        recordedAt: typeof first.metadata.recordedAt === 'string' ? first.metadata.recordedAt : first.recordedAt,
      });
    }
    await this.processes.ensureVersion(state.processId, state.processVersion);
    const view = opportunityViewOf(state, revision, stored.find((event) => event.revision === revision)!.position, this.processes.version(state.processId, state.processVersion));
    return { ...view, asOf: { instant, axis, eventsFolded, latestRevision: stored[stored.length - 1]!.revision } };
  }
}

@QueryHandler(GetOpportunityTimelineQuery)
export class GetOpportunityTimelineHandler implements IQueryHandler<GetOpportunityTimelineQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
  ) {}

  async execute({ opportunityId, teams }: GetOpportunityTimelineQuery) {
    const stored = await readOpportunityStream(this.store, opportunityId);
    assertVisible(stored, teams);
    // Every version the stream names (it opened on one, migrations moved it to others).
    for (const event of stored) {
      const { processId } = stored[0]!.data;
      const version = event.type === 'ProcessMigrated' ? event.data.toVersion : event.type === 'OpportunityOpened' ? event.data.processVersion : undefined;
      if (typeof processId === 'string' && typeof version === 'string') await this.processes.ensureVersion(processId, version);
    }
    return { opportunityId, steps: timelineOf(stored, (processId, version) => this.processes.findVersion(processId, version)) };
  }
}

@QueryHandler(VerifyOpportunityQuery)
export class VerifyOpportunityHandler implements IQueryHandler<VerifyOpportunityQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ opportunityId, teams }: VerifyOpportunityQuery): Promise<VerifyView> {
    const stored = await readOpportunityStream(this.store, opportunityId);
    assertVisible(stored, teams);
    const opportunity = verifyStreamChain(stored, stored[0]!.stream);
    // The rules the opportunity was judged by live in its process's stream: verify that too.
    const processId = stored[0]!.data.processId;
    const process = typeof processId === 'string' ? verifyStreamChain(await this.store.readStream(toProcessStreamId(processId)), toProcessStreamId(processId)) : null;
    // ok only when something vouches for every event: events written before tamper evidence, with
    // no hashed event after them, are reported (unchainedCovered: false) but not called verified.
    const vouched = (verdict: ChainVerdict | null) => verdict === null || (verdict.ok && verdict.unchainedCovered);
    return { opportunityId, ok: vouched(opportunity) && vouched(process), opportunity, process };
  }
}

export const OPPORTUNITY_AUDIT_QUERY_HANDLERS = [GetOpportunityAsOfHandler, GetOpportunityTimelineHandler, VerifyOpportunityHandler];
