import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  foldAsOf,
  hiddenFromStreamRead,
  lastHashlessPosition,
  openingOf,
  processStreamOf,
  timelineOf,
  uncheckedHiding,
  verifyOpportunityAsRead,
  type AsOfAxis,
  type UncheckedHiding,
  type OpportunityVerificationWithHidden,
  type TimelineStep,
} from '@stagecraft/audit';
import { EVENT_STORE, EventStoreAccessDeniedError, leaderReads, readStreamUpToUnreadable, StreamDeletedError, type EventStore, type StreamHiding, type StreamUpToUnreadable } from '@stagecraft/event-store';
import { LogChainStart, OpportunityRejectedError, ProcessRegistry } from '@stagecraft/commands';
import { ApiProblem } from '../http/problem';
import type { OpportunityView } from '@stagecraft/contracts';
import { rejections, toOpportunityStreamId } from '@stagecraft/opportunity';
import { opportunityViewOf, readVisibleStream } from './opportunity.queries';
import { hiddenBeforeRead, hiddenEventsProblem } from './hidden-events';

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

/** A page of the timeline: the steps from a revision on, and the revision of the next step (null: none). */
export interface TimelineAnswer {
  readonly opportunityId: string;
  readonly steps: TimelineStep[];
  readonly nextFromRevision: number | null;
}

export class GetOpportunityTimelineQuery extends Query<TimelineAnswer> {
  constructor(
    readonly opportunityId: string,
    readonly teams?: readonly string[],
    /** The page, as the events view's: the first revision and at most how many steps. */
    readonly page: { readonly fromRevision: number; readonly limit: number } = { fromRevision: 0, limit: Number.MAX_SAFE_INTEGER },
  ) {
    super();
  }
}

/** The CLI's `verify <id>` gives the same report (libs/audit's verifyOpportunity, with what the store hides of the streams). */
export type VerifyView = OpportunityVerificationWithHidden;

export class VerifyOpportunityQuery extends Query<VerifyView> {
  constructor(
    readonly opportunityId: string,
    readonly teams?: readonly string[],
  ) {
    super();
  }
}

@QueryHandler(GetOpportunityAsOfQuery)
export class GetOpportunityAsOfHandler implements IQueryHandler<GetOpportunityAsOfQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
  ) {}

  async execute({ opportunityId, instant, axis, teams }: GetOpportunityAsOfQuery): Promise<AsOfView> {
    const stored = await readVisibleStream(this.store, opportunityId, teams);
    await refuseHiddenStart(this.store, opportunityId, stored);
    const { state, revision, eventsFolded } = foldAsOf(stored, instant, axis);
    if (state.status === 'none' || revision === null) {
      // When it was opened, on the clock asked: the instant to ask from (the CLI's history says the same).
      const opening = openingOf(stored)!;
      const from = axis === 'occurredAt' ? opening.occurredAt : opening.recordedAt;
      throw new ApiProblem('OPPORTUNITY.NOT_YET_OPENED', `Opportunity "${opportunityId}" was not open yet at ${instant} (by ${axis})${from === undefined ? '' : `: it was ${axis === 'occurredAt' ? 'opened' : 'recorded'} at ${from}`}.`, {
        opportunityId,
        asOf: instant,
        axis,
        openedAt: opening.occurredAt ?? null,
        recordedAt: opening.recordedAt ?? null,
      });
    }
    await this.processes.ensureVersion(state.processId, state.processVersion);
    const view = opportunityViewOf(state, revision, stored.find((event) => event.revision === revision)!.position, this.processes.versionAsStored(state.processId, state.processVersion));
    return { ...view, asOf: { instant, axis, eventsFolded, latestRevision: stored[stored.length - 1]!.revision } };
  }
}

@QueryHandler(GetOpportunityTimelineQuery)
export class GetOpportunityTimelineHandler implements IQueryHandler<GetOpportunityTimelineQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
  ) {}

  async execute({ opportunityId, teams, page }: GetOpportunityTimelineQuery): Promise<TimelineAnswer> {
    const stored = await readVisibleStream(this.store, opportunityId, teams);
    await refuseHiddenStart(this.store, opportunityId, stored);
    // Every version the stream names (it opened on one, migrations moved it to others).
    for (const event of stored) {
      const { processId } = stored[0]!.data;
      const version = event.type === 'ProcessMigrated' ? event.data.toVersion : event.type === 'OpportunityOpened' ? event.data.processVersion : undefined;
      if (typeof processId === 'string' && typeof version === 'string') await this.processes.ensureVersion(processId, version);
    }
    // Every step is made from the whole stream (a step carries the evidence gathered before it and
    // the stage it left); only the page is answered, so the answer stays bounded as the history grows.
    const steps = timelineOf(stored, (processId, version) => this.processes.findVersion(processId, version));
    const first = steps.findIndex((step) => step.revision >= page.fromRevision);
    const after = first < 0 ? undefined : steps[first + page.limit];
    return { opportunityId, steps: first < 0 ? [] : steps.slice(first, first + page.limit), nextFromRevision: after === undefined ? null : after.revision };
  }
}

@QueryHandler(VerifyOpportunityQuery)
export class VerifyOpportunityHandler implements IQueryHandler<VerifyOpportunityQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly chainStart: LogChainStart,
  ) {}

  async execute({ opportunityId, teams }: VerifyOpportunityQuery): Promise<VerifyView> {
    // An event that cannot be read is the stream's break, reported as `verify --all` and the CLI
    // report it. A caller limited to teams is judged by the team the whole stream folds to, as
    // every read judges it: one that no longer reads is not found for it.
    const stream = toOpportunityStreamId(opportunityId);
    const { events: stored, unreadable } = teams === undefined ? await this.readWhole(stream).catch(emptyWhenDeleted) : { events: await readVisibleStream(this.store, opportunityId, teams) };
    // What the store's settings hide (KurrentDB: stream metadata, deletes) no chain of what is read
    // shows: named by the setting, ALTERED, as the CLI's verify <id> and verify --all name it. A
    // stream hidden whole (a tombstone, a soft delete) is reported so, not as gone (410) or never written (404).
    const { hiding, unchecked } = await this.hidingOf(stream);
    // Whether settings hide a stream that shows no event could not be asked: the check not made is the report (as verify <id> exits 3), not "never opened".
    if (stored.length === 0 && unreadable === undefined && unchecked === undefined && (hiding === undefined || hiddenFromStreamRead(hiding, undefined).length === 0)) throw new OpportunityRejectedError(rejections.notFound(opportunityId));
    // The rules the opportunity was judged by live in its process's stream: verify that too. One
    // deleted for good (KurrentDB's tombstone) reads as empty: the verifier reports it hidden by its tombstone.
    const processStream = processStreamOf(stored);
    // From the leader: a follower behind it (EventStore.readsMayLag; with `random`, another node than
    // the one that served the deal) may not hold the version the deal names yet, which would read as removed.
    const processRead = processStream === undefined ? null : await readStreamUpToUnreadable(leaderReads(this.store), processStream).catch(emptyWhenDeleted);
    // Events without a hash: written before tamper evidence only if the log was not chained yet before them.
    const hashless = lastHashlessPosition([...stored, ...(processRead?.events ?? [])]);
    const chainedSince = hashless === undefined ? undefined : await this.chainStart.chainedBefore(hashless);
    const processHiding = processStream === undefined ? {} : await this.hidingOf(processStream);
    return verifyOpportunityAsRead(opportunityId, stored, processRead?.events ?? null, { opportunity: unreadable, process: processRead?.unreadable }, chainedSince, {
      opportunity: hiding,
      process: processHiding.hiding,
      unchecked: [...(unchecked ? [unchecked] : []), ...(processHiding.unchecked ? [processHiding.unchecked] : [])],
    });
  }

  /**
   * What the store's settings hide of a stream, or the check that could not be made: a user refused
   * the streams' metadata (KurrentDB: read on $$<stream>) is named in `unchecked` (ok false), as the
   * CLI's verify <id> names it, rather than the whole verification refused.
   */
  private async hidingOf(stream: string): Promise<{ readonly hiding?: StreamHiding; readonly unchecked?: UncheckedHiding }> {
    try {
      return { hiding: await this.store.streamHiding?.(stream) };
    } catch (error) {
      if (error instanceof EventStoreAccessDeniedError) return { unchecked: uncheckedHiding(stream, error.user) };
      throw error;
    }
  }

  /** The stream as far as it reads; one showing no event on a follower behind the leader (EventStore.readsMayLag) is read again from the leader. */
  private async readWhole(stream: string): Promise<StreamUpToUnreadable> {
    const read = await readStreamUpToUnreadable(this.store, stream);
    if (read.events.length > 0 || read.unreadable !== undefined || this.store.readsMayLag?.() !== true) return read;
    return readStreamUpToUnreadable(leaderReads(this.store), stream);
  }
}

/**
 * The timeline and the as-of view fold the stream from its opening: one a setting cuts (KurrentDB's
 * $tb, $maxCount, $maxAge) is refused naming the setting, as verify names it, not folded from the middle.
 */
async function refuseHiddenStart(store: EventStore, opportunityId: string, stored: readonly { readonly revision: number }[]): Promise<void> {
  const problem = hiddenEventsProblem(stored[0]?.revision ?? 0, await hiddenBeforeRead(store, toOpportunityStreamId(opportunityId), stored));
  if (problem) throw problem;
}

/** A stream deleted for good reads as empty: what its tombstone hides is reported by verifyOpportunityAsRead. */
function emptyWhenDeleted(error: unknown): StreamUpToUnreadable {
  if (error instanceof StreamDeletedError) return { events: [] };
  throw error;
}

export const OPPORTUNITY_AUDIT_QUERY_HANDLERS = [GetOpportunityAsOfHandler, GetOpportunityTimelineHandler, VerifyOpportunityHandler];
