import { PROCESS_VERSION_RECORDED, toProcessStreamId } from '@stagecraft/sales-process';
import { verifyStreamChain, type ChainBreak, type ChainIntact, type ChainVerdict, type UnreadableEventLike } from './hash-chain';
import type { StoredEventLike } from './stored-event-like';

// One opportunity's verification, the same for the API (GET /opportunities/:id/verify) and the
// CLI (`stagecraft verify <id>`), so the two cannot disagree.

export interface OpportunityVerification {
  readonly opportunityId: string;
  /**
   * True only when both chains hold and something vouches for every event: a stream of events
   * without hashes (written before tamper evidence, or stripped) is reported, not called verified.
   */
  readonly ok: boolean;
  readonly opportunity: ChainVerdict;
  /** The process the opportunity was judged by; null when its events name none (a broken stream). */
  readonly process: ProcessVerdict | null;
}

/**
 * The process stream's verdict. Intact from the first revision a store setting leaves to readers,
 * it may not show a version the opportunity ran on (hidden with the revisions before, or cut,
 * which the settings alone cannot tell): those are named, since the version-missing check cannot
 * be made of them, rather than passed over. The setting itself is reported apart (ALTERED, UNCHECKED).
 */
export type ProcessVerdict =
  | ChainBreak
  | (ChainIntact & {
      /** The versions the opportunity ran on that the events readers see do not record. */
      readonly versionsNotShown?: readonly string[];
      readonly versionsDetail?: string;
    });

/** The process stream an opportunity's events name, to read before calling verifyOpportunity. */
export function processStreamOf(opportunityEvents: readonly StoredEventLike[]): string | undefined {
  const processId = opportunityEvents[0]?.data.processId;
  return typeof processId === 'string' ? toProcessStreamId(processId) : undefined;
}

/** A verdict counts as verified when its chain holds and a hash vouches for every event. */
export function isVouchedFor(verdict: ChainVerdict | null): boolean {
  return verdict === null || (verdict.ok && verdict.unchainedCovered);
}

/** Where the reading of a stream stopped at an event that cannot be read back (its events are those before it). */
export interface UnreadableInStreams {
  readonly opportunity?: UnreadableEventLike;
  readonly process?: UnreadableEventLike;
}

/**
 * Where a store's settings hide the first revisions of a stream (KurrentDB's $tb, $maxCount,
 * $maxAge, deletes: hidden-streams.ts): the first revision they leave to readers, per stream.
 * Present for a stream such a setting hides events of; a stream hidden whole has no event read.
 */
export interface HiddenBefore {
  readonly opportunity?: number;
  readonly process?: number;
}

/**
 * Verifies an opportunity's stream (read in revision order) and its process's stream (read from
 * `processStreamOf`). Beyond the chains, the process stream must hold every version the
 * opportunity ran on: an empty one was deleted, one without a named version lost its end. A
 * stream whose reading stopped at an event that cannot be read (`unreadable`: the events given
 * are those before it) breaks there, as `verify --all` reports it, unless it broke before.
 */
export function verifyOpportunity(
  opportunityId: string,
  opportunityEvents: readonly StoredEventLike[],
  processEvents: readonly StoredEventLike[] | null,
  unreadable: UnreadableInStreams = {},
  /**
   * The position of the log's first hashed event, where it stands before an event of either stream
   * without a hash (the caller asks the log: lastHashlessPosition): such an event was not written
   * before tamper evidence, its hash was stripped (`missing-hash`, as `verify --all` says).
   */
  chainedSince?: number,
  /** What the store's settings hide, named apart (hidden-streams.ts): the chains are checked from what they leave. */
  hiddenBefore: HiddenBefore = {},
  /** The opportunity's stream, for a verdict on a stream no event of which could be read. */
  stream = opportunityEvents[0]?.stream ?? unreadable.opportunity?.stream ?? '',
): OpportunityVerification {
  const opportunity = verifyStreamChain(opportunityEvents, stream, unreadable.opportunity, chainedSince, hiddenBefore.opportunity);
  const processStream = processStreamOf(opportunityEvents);
  const process = processStream === undefined ? null : processVerdict(processStream, processEvents ?? [], versionsNamed(opportunityEvents), unreadable.process, chainedSince, hiddenBefore.process);
  return { opportunityId, ok: isVouchedFor(opportunity) && isVouchedFor(process), opportunity, process };
}

function processVerdict(stream: string, events: readonly StoredEventLike[], versions: readonly string[], unreadable: UnreadableEventLike | undefined, chainedSince: number | undefined, hiddenBefore: number | undefined): ProcessVerdict {
  // A setting the store reports hides its first events, or all of them: the versions the opportunity
  // names may be among them, reported as hidden (ALTERED, as verify --all says), not as cut; each
  // such version is named, its check not made.
  if (hiddenBefore !== undefined) {
    const verdict = verifyStreamChain(events, stream, unreadable, chainedSince, hiddenBefore);
    if (!verdict.ok) return verdict;
    const shown = recordedVersions(events);
    const versionsNotShown = versions.filter((version) => !shown.has(version));
    if (versionsNotShown.length === 0) return verdict;
    const which = versionsNotShown.length === 1 ? `version ${versionsNotShown[0]}` : `versions ${versionsNotShown.join(', ')}`;
    const before = hiddenBefore === 0 ? 'its events, hidden whole' : `the revisions before ${hiddenBefore}`;
    return {
      ...verdict,
      versionsNotShown,
      versionsDetail: `the opportunity ran on ${which}, which ${stream} no longer shows its readers: recorded in ${before}, or cut from it, which the settings alone cannot tell; the rules it was judged by are not checked`,
    };
  }
  if (events.length === 0 && unreadable === undefined) {
    return { ok: false, stream, revision: 0, reason: 'stream-missing', detail: `the opportunity runs on process ${stream}, which has no events: the stream was deleted` };
  }
  // Its versions past an unreadable event cannot be told: the break there is what is reported.
  const verdict = verifyStreamChain(events, stream, unreadable, chainedSince);
  if (!verdict.ok) return verdict;
  const recorded = recordedVersions(events);
  const missing = versions.find((version) => !recorded.has(version));
  if (missing === undefined) return verdict;
  return {
    ok: false,
    stream,
    revision: events[events.length - 1]!.revision + 1,
    reason: 'version-missing',
    detail: `the opportunity ran on version ${missing}, which ${stream} no longer records: events were cut from its end, or the version rewritten under another one (its chain recomputed)`,
  };
}

/** The versions a process stream's events record. */
function recordedVersions(events: readonly StoredEventLike[]): Set<unknown> {
  return new Set(events.filter((event) => event.type === PROCESS_VERSION_RECORDED).map((event) => event.data.version));
}

/** The process versions an opportunity's events name: the one it opened on and those it migrated to. */
function versionsNamed(events: readonly StoredEventLike[]): string[] {
  const versions = new Set<string>();
  for (const event of events) {
    const version = versionNamedBy(event);
    if (version !== undefined) versions.add(version);
  }
  return [...versions];
}

/** The process version one event puts its opportunity on: the one it opened on, or the one it migrated to. */
export function versionNamedBy(event: StoredEventLike): string | undefined {
  const version = event.type === 'OpportunityOpened' ? event.data.processVersion : event.type === 'ProcessMigrated' ? event.data.toVersion : undefined;
  return typeof version === 'string' ? version : undefined;
}
