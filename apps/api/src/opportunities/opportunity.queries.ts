import type { HistoryAnswer, OpportunityView } from '@stagecraft/contracts';
import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE, StreamDeletedError, StreamTruncatedError, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import { hiddenBeforeRead, hiddenEventsProblem, refuseHiddenWhole } from './hidden-events';
import { foldOpportunity, rejections, toOpportunityStreamId, type OpenedOpportunityState } from '@stagecraft/opportunity';
import type { CompiledProcess } from '@stagecraft/sales-process';
import { OpportunityRejectedError, ProcessRegistry, assertOpportunityVisible, readWithinTeams, toOpportunityEvents, OpportunityStreams } from '@stagecraft/commands';

export class GetOpportunityQuery extends Query<OpportunityView> {
  constructor(
    readonly opportunityId: string,
    /** Teams the caller may see; undefined means every team. */
    readonly teams?: readonly string[],
  ) {
    super();
  }
}

export class GetOpportunityHistoryQuery extends Query<HistoryAnswer> {
  constructor(
    readonly opportunityId: string,
    readonly teams?: readonly string[],
    /** The page: its first revision and at most how many events. */
    readonly page: { readonly fromRevision: number; readonly limit: number } = { fromRevision: 0, limit: Number.MAX_SAFE_INTEGER },
  ) {
    super();
  }
}

/**
 * The stored events of an opportunity a caller may read: only of its teams when it is limited to
 * some (judged by the team the deal has now), another team's being not found. A stream that no
 * longer reads or folds has no team such a caller may rely on: not found too, as another team's.
 */
export async function readVisibleStream(store: EventStore, opportunityId: string, teams: readonly string[] | undefined): Promise<StoredEvent[]> {
  let stored = await readWithinTeams(teams, opportunityId, () => store.readStream(toOpportunityStreamId(opportunityId))).catch(hiddenWholeNamed(store, opportunityId));
  // A follower behind the leader (EventStore.readsMayLag) may not show a deal opened elsewhere yet: the leader says whether it exists.
  if (stored.length === 0 && store.readsMayLag?.() === true) stored = await readWithinTeams(teams, opportunityId, () => store.readStream(toOpportunityStreamId(opportunityId), { fromLeader: true }));
  if (stored.length === 0) {
    // Hidden whole by a store setting (a soft delete, stream metadata): named, not "never opened". A
    // limited caller is answered not found, as for any stream that names no team it may rely on.
    if (teams === undefined) await refuseHiddenWhole(store, opportunityId);
    throw new OpportunityRejectedError(rejections.notFound(opportunityId));
  }
  if (teams) {
    let team: string | undefined;
    try {
      const state = foldOpportunity(toOpportunityEvents(stored));
      team = state.status === 'none' ? undefined : state.teamId;
    } catch {
      team = undefined; // a stream that no longer folds (e.g. tampered) has no team a limited caller may rely on
    }
    assertOpportunityVisible(teams, opportunityId, team);
  }
  return stored;
}

/**
 * A stream deleted for good (KurrentDB's tombstone) refused naming its tombstone, as every stream a
 * setting hides whole is (STREAM_HIDDEN); a limited caller was answered not found by readWithinTeams already.
 */
function hiddenWholeNamed(store: EventStore, opportunityId: string): (error: unknown) => Promise<never> {
  return async (error) => {
    if (error instanceof StreamDeletedError) await refuseHiddenWhole(store, opportunityId);
    throw error;
  };
}

@QueryHandler(GetOpportunityQuery)
export class GetOpportunityHandler implements IQueryHandler<GetOpportunityQuery> {
  constructor(
    private readonly streams: OpportunityStreams,
    private readonly processes: ProcessRegistry,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  async execute({ opportunityId, teams }: GetOpportunityQuery): Promise<OpportunityView> {
    const { state, revision, position } = await readWithinTeams(teams, opportunityId, () => this.streams.loadExisting(opportunityId)).catch(async (error: unknown) => {
      // A stream cut short: named by the setting that cuts it, when one does (readWithinTeams answered a limited caller not found already).
      if (!(error instanceof StreamTruncatedError)) return hiddenWholeNamed(this.store, opportunityId)(error);
      throw hiddenEventsProblem(error.firstReadable, await hiddenBeforeRead(this.store, toOpportunityStreamId(opportunityId), [{ revision: error.firstReadable }])) ?? error;
    });
    if (state.status === 'none' || revision === 'no_stream') {
      if (teams === undefined) await refuseHiddenWhole(this.store, opportunityId);
      throw new OpportunityRejectedError(rejections.notFound(opportunityId));
    }
    assertOpportunityVisible(teams, opportunityId, state.teamId);
    await this.processes.ensureVersion(state.processId, state.processVersion);
    return opportunityViewOf(state, revision, position, this.processes.versionAsStored(state.processId, state.processVersion));
  }
}

/** The view of an opportunity's folded state, on the process version it runs on. */
export function opportunityViewOf(state: OpenedOpportunityState, revision: number, position: number, process: CompiledProcess): OpportunityView {
  const stage = process.stage(state.stage);
  const criteriaMet = state.status === 'open' ? state.criteriaMet : [];
  return {
    id: state.id,
    processId: state.processId,
    processVersion: state.processVersion,
    title: state.title,
    teamId: state.teamId ?? null,
    ownerId: state.ownerId ?? null,
    amount: state.amount ?? null,
    currency: state.currency ?? null,
    stage: state.stage,
    stageName: stage?.name ?? null,
    status: state.status,
    criteriaMet,
    exitCriteria:
      state.status === 'open' && stage
        ? stage.exitCriteria.map(({ id, description }) => ({ id, description, met: criteriaMet.includes(id) }))
        : [],
    lostReason: state.status === 'lost' ? state.reason : null,
    wonReason: state.status === 'won' ? (state.reason ?? null) : null,
    nextSteps: state.status === 'won' || state.status === 'lost' ? (state.nextSteps ?? null) : null,
    expectedCloseDate: state.expectedCloseDate ?? null,
    revision,
    position,
    openedAt: state.openedAt,
    stageEnteredAt: state.status === 'open' ? state.stageEnteredAt : null,
    closedAt: state.status === 'open' ? null : state.closedAt,
  };
}

@QueryHandler(GetOpportunityHistoryQuery)
export class GetOpportunityHistoryHandler implements IQueryHandler<GetOpportunityHistoryQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ opportunityId, teams, page }: GetOpportunityHistoryQuery): Promise<HistoryAnswer> {
    const stored = await readVisibleStream(this.store, opportunityId, teams);
    // A stream a setting cuts (KurrentDB's $tb, $maxCount, $maxAge) is answered from where readers
    // start, saying what hides the events before it, as verify names it: never a silently shorter history.
    const { hidden, unchecked } = await hiddenBeforeRead(this.store, toOpportunityStreamId(opportunityId), stored);
    // A page, so that the answer stays bounded however long the deal's history grows. By revision,
    // not by index: a stream cut short outside the service (KurrentDB's $tb) starts above 0.
    const first = stored.findIndex((event) => event.revision >= page.fromRevision);
    const events = first < 0 ? [] : stored.slice(first, first + page.limit);
    const after = first < 0 ? undefined : stored[first + page.limit];
    return {
      nextFromRevision: after === undefined ? null : after.revision,
      events: events.map((event) => ({
        revision: event.revision,
        position: event.position,
        type: event.type,
        data: event.data,
        metadata: { ...event.metadata, storedAt: event.recordedAt },
      })),
      hidden,
      ...(unchecked ? { unchecked: [unchecked] } : {}),
    };
  }
}

export const OPPORTUNITY_QUERY_HANDLERS = [GetOpportunityHandler, GetOpportunityHistoryHandler];
