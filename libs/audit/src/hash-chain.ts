import { hash } from 'node:crypto';
import { canonicalObjectText, canonicalText } from './canonical-text';
import { recordedDefinitionMismatch } from './recorded-definition';
import type { StoredEventLike } from './stored-event-like';

// Tamper evidence: every event's metadata carries `prevHash` (the hash of the stream's previous
// event, GENESIS_HASH for revision 0) and `hash` = SHA-256(prevHash + "\n" + canonical event).
// Editing, deleting or reordering a stored row breaks the chain at that row.
//
// SHA-256 comes from node:crypto: hashing is pure computation (no I/O, no clock, no randomness),
// which the domain-purity rule allows, as libs/sales-process already does for process versions.
//
// The hash is computed above the EventStore port (by the writer, before appending), so every
// adapter stores chained events without knowing about them.
//
// What is hashed: type, data, occurredAt, stream, revision, and the metadata the writer knows
// before appending (actor, onBehalfOf, commandId, correlationId, recordedAt, ...) minus the two
// hash fields — so "who did it" cannot be rewritten either. The store's own recording time
// (storedAt) is set inside the adapter and is therefore not covered.
//
// Events written before tamper evidence existed carry no hash. Such a prefix of a stream is
// "unchained": the verifier hashes it as if it had been chained, and the first event written
// after the change uses that computed hash as its prevHash — so the old prefix is protected
// from then on. A hashless event after a hashed one is tampering (the hash was stripped).
// Deleting the *last* events of a stream cannot be seen from the stream alone: keep the head
// hash that verify reports and compare later (anchoring), or the log head of `verify --all`
// (log-audit.ts), which covers every stream at once.

export const GENESIS_HASH = '0'.repeat(64);

/** The metadata fields that hold the chain itself, left out of what is hashed. */
export const CHAIN_METADATA_FIELDS = ['prevHash', 'hash'] as const;

export interface HashableEvent {
  readonly stream: string;
  readonly revision: number;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const CHAIN_FIELDS: ReadonlySet<string> = new Set(CHAIN_METADATA_FIELDS);

/** The canonical text hashed for an event: keys sorted at every level, hash fields left out. */
export function canonicalEventForHash(event: HashableEvent): string {
  const occurredAt = typeof event.data?.occurredAt === 'string' ? event.data.occurredAt : null;
  const { stream, revision, type, data } = event;
  if (typeof stream !== 'string' || typeof revision !== 'number' || typeof type !== 'string' || data === null || typeof data !== 'object') {
    const { prevHash: _prev, hash: _hash, ...metadata } = event.metadata ?? {};
    return canonicalText({ stream, revision, type, occurredAt, data, metadata });
  }
  // The object above with its members written in their sorted order (data, metadata, occurredAt,
  // revision, stream, type) straight away: every appended and every verified event comes here.
  const metadata = canonicalObjectText(event.metadata ?? {}, CHAIN_FIELDS);
  return `{"data":${canonicalText(data)},"metadata":${metadata},"occurredAt":${JSON.stringify(occurredAt)},"revision":${JSON.stringify(revision)},"stream":${JSON.stringify(stream)},"type":${JSON.stringify(type)}}`;
}

/** SHA-256 (hex) over the previous hash and the canonical event (one-shot: no Hash object per event). */
export function chainHash(prevHash: string, event: HashableEvent): string {
  return hash('sha256', `${prevHash}\n${canonicalEventForHash(event)}`, 'hex');
}

/** The hash an event carries, or the hash it would carry if it predates tamper evidence. */
export function effectiveHash(prevHash: string, event: HashableEvent): string {
  const stored = event.metadata?.hash;
  return typeof stored === 'string' ? stored : chainHash(prevHash, event);
}

/** An event that carries neither chain field: written before tamper evidence, or its hashes were stripped. */
export function isHashless(event: { readonly metadata?: Readonly<Record<string, unknown>> }): boolean {
  return event.metadata?.hash === undefined && event.metadata?.prevHash === undefined;
}

/**
 * Why an event without a hash stored after the log's first hashed event is not one written before
 * tamper evidence: the log was chained from `chainedSince` on, so its hash was stripped.
 */
export function strippedHashDetail(position: number, chainedSince: number): string {
  return `the event at position ${position} carries no hash although the log was chained from position ${chainedSince} on (only a writer older than tamper evidence, still running then, could have written it)`;
}

/** The highest log position among events without a hash (undefined: none, or no position given): where to ask the log whether it was chained before them. */
export function lastHashlessPosition(events: Iterable<{ readonly position?: number; readonly metadata?: Readonly<Record<string, unknown>> }>): number | undefined {
  let last: number | undefined;
  for (const event of events) {
    if (event.position !== undefined && isHashless(event) && (last === undefined || event.position > last)) last = event.position;
  }
  return last;
}

/**
 * Whether one stored event continues a stream whose last event had `prevHash` at `expectedRevision - 1`:
 * the command side checks each event it folds with it, so no command is decided on an edited,
 * moved or deleted event. An event without a hash (written before tamper evidence) is not judged
 * here: one stream alone cannot tell it from a stripped one (verify --all can).
 */
export function chainLinkBreak(prevHash: string, expectedRevision: number, event: HashableEvent): { reason: ChainBreakReason; detail: string } | undefined {
  if (event.revision !== expectedRevision) return { reason: 'revision-gap', detail: `expected revision ${expectedRevision}, found ${event.revision}` };
  const { hash, prevHash: storedPrev } = event.metadata ?? {};
  if (hash === undefined && storedPrev === undefined) return undefined;
  if (typeof hash !== 'string' || typeof storedPrev !== 'string') return { reason: 'missing-hash', detail: 'the event carries only part of its chain metadata' };
  if (storedPrev !== prevHash) return { reason: 'prev-hash-mismatch', detail: `prevHash ${storedPrev} is not the previous event's hash ${prevHash}` };
  const computed = chainHash(prevHash, event);
  return computed === hash ? undefined : { reason: 'hash-mismatch', detail: `stored hash ${hash} differs from the hash of the event as stored ${computed}` };
}

/** The hash of a stream's last event (read in revision order); GENESIS_HASH for an empty stream. */
export function headHashOf(events: Iterable<HashableEvent>, from = GENESIS_HASH): string {
  let head = from;
  for (const event of events) head = effectiveHash(head, event);
  return head;
}

/** The metadata to append with a new event: the writer's own fields plus prevHash and hash. */
export function withChainMetadata<T extends Readonly<Record<string, unknown>>>(prevHash: string, event: Omit<HashableEvent, 'metadata'> & { readonly metadata: T }): T & { prevHash: string; hash: string } {
  // One copy, its members in the order the stored JSON keeps (the writer's fields, prevHash,
  // hash). The hash is of the writer's own metadata: the chain fields are left out of the
  // canonical text whether or not they are there, so it is the hash of the metadata returned.
  const metadata = { ...event.metadata, prevHash, hash: '' };
  metadata.hash = hash('sha256', `${prevHash}\n${canonicalEventForHash(event)}`, 'hex');
  return metadata;
}

/**
 * Chains a batch about to be appended at `firstRevision` after a stream whose last hash is
 * `prevHash`. Returns the events with chained metadata and the new head hash.
 */
export function chainNewEvents<E extends { readonly type: string; readonly data: Readonly<Record<string, unknown>>; readonly metadata: Readonly<Record<string, unknown>> }>(
  stream: string,
  firstRevision: number,
  prevHash: string,
  events: readonly E[],
): { events: (E & { metadata: E['metadata'] & { prevHash: string; hash: string } })[]; headHash: string } {
  let head = prevHash;
  const chained = events.map((event, index) => {
    const metadata = withChainMetadata(head, { stream, revision: firstRevision + index, type: event.type, data: event.data, metadata: event.metadata });
    head = metadata.hash;
    return { ...event, metadata };
  });
  return { events: chained, headHash: head };
}

export type ChainBreakReason =
  /** The stored hash is not the hash of the event as stored: the event was edited. */
  | 'hash-mismatch'
  /** The event's prevHash is not the previous event's hash: an event before it was edited, removed or moved. */
  | 'prev-hash-mismatch'
  /** A hashless event after hashed ones: its hash was stripped, or it was inserted. */
  | 'missing-hash'
  /** Revisions do not run 0, 1, 2, …: an event was deleted or renumbered. */
  | 'revision-gap'
  /** A revision stored at an earlier global position than the one before it: rows' positions were swapped or rewritten. */
  | 'revision-order'
  /** A recorded process definition no longer hashes to the version it is recorded as: rewritten, its chain recomputed. */
  | 'definition-mismatch'
  /** The stream has no events although another stream names it (an opportunity's process): it was deleted. */
  | 'stream-missing'
  /** The stream lacks an event another stream relies on (a process version an opportunity ran on): its end was cut. */
  | 'version-missing'
  /** The event is there but cannot be read back (its data or metadata is not a JSON object): it was edited outside the service. */
  | 'unreadable';

export interface ChainBreak {
  readonly ok: false;
  readonly stream: string;
  /** The first revision where the chain does not hold. */
  readonly revision: number;
  readonly reason: ChainBreakReason;
  readonly detail: string;
}

export interface ChainIntact {
  readonly ok: true;
  readonly stream: string;
  readonly events: number;
  /** Events written before tamper evidence, at the start of the stream. */
  readonly unchained: number;
  /**
   * True when every unchained event is followed by a hashed one, whose prevHash then vouches
   * for them; false when the stream has only unchained events (nothing vouches for them).
   */
  readonly unchainedCovered: boolean;
  /** Hash of the last event: record it to detect, later, the removal of the stream's tail. */
  readonly headHash: string;
  readonly lastRevision: number | null;
  /** The first revision checked, when the store hides those before it (KurrentDB's stream settings: hidden-streams.ts); absent from 0. */
  readonly firstRevision?: number;
}

export type ChainVerdict = ChainIntact | ChainBreak;

interface StreamProgress {
  nextRevision: number;
  /** Where the chain is checked from: 0, or the first revision a store's settings leave readable (startAt). */
  firstRevision?: number;
  prevHash: string;
  unchained: number;
  hashed: number;
  /** Global position of the last event taken in, where the reader gave one. */
  lastPosition?: number;
  broken?: ChainBreak;
  /**
   * Fed in position order, a revision found where an earlier one was expected may be a deletion
   * or the earlier one moved further down the log: which one shows only if the expected revision
   * comes later. Kept for that stream's first break only.
   */
  gap?: { readonly expected: number; readonly found: number; readonly position: number };
}

/** Where an event that cannot be read back is, and why (the store's UnreadableEventError has these). */
export interface UnreadableEventLike {
  readonly stream: string;
  readonly revision: number;
  readonly position: number;
  readonly reason: string;
}

/** Broken links traced to another stream (a look at every stream each): enough to name a few, bounded on a log broken everywhere. */
const MAX_TRACED_BREAKS = 20;

/**
 * Verifies chains incrementally, events of any number of streams interleaved (e.g. the global
 * log in position order); each stream's events must come in the order the store reads them.
 * Memory grows with the number of streams, not events.
 */
export class ChainVerifier {
  private readonly streams = new Map<string, StreamProgress>();
  /**
   * Global position of the first hashed event seen. Fed the log in position order, the verifier
   * knows tamper evidence was on from there: an event after it without a hash had its hash
   * stripped (a whole stream rewritten without hashes would otherwise pass as "written before").
   */
  private chainedSince: number | undefined;
  /** How many broken links were traced to where they came from (each trace looks at every stream). */
  private traced = 0;

  /**
   * `chainedSince`: the position of the log's first hashed event, where the caller knows it (one
   * stream read alone, its events' positions against the log's): an event without a hash after it
   * is stripped, as when the whole log is fed in position order.
   */
  constructor(options: { readonly chainedSince?: number } = {}) {
    this.chainedSince = options.chainedSince;
  }

  /**
   * Checks the next event and answers the hash it stands for in the log (what a log digest
   * chains): the stored hash when it has one, else the hash computed for it. In a broken stream
   * that is still a function of the event as stored, so the same log always gives the same digest.
   */
  add(event: StoredEventLike): string {
    const progress = this.progressOf(event.stream);
    const storedHash = event.metadata.hash;
    const asStored = () => (typeof storedHash === 'string' ? storedHash : chainHash(typeof event.metadata.prevHash === 'string' ? event.metadata.prevHash : GENESIS_HASH, event));
    if (this.alreadyJudged(progress, event)) return asStored();
    const fail = (reason: ChainBreakReason, detail: string) => {
      progress.broken = { ok: false, stream: event.stream, revision: event.revision, reason, detail };
      return asStored();
    };
    // Read in revision order (one stream), a revision at a lower position than the one before it
    // was moved in the log: where the chain holds, every reader of the log (read models, the relay)
    // takes the events in the wrong order. Judged after the event's own link: an event that does
    // not chain (another event of the stream moved into this revision) is named for what it is, as
    // the log read in position order names it when the revision turns up.
    const movedFrom = event.position !== undefined && progress.lastPosition !== undefined && event.position < progress.lastPosition ? progress.lastPosition : undefined;
    const moved = () => fail('revision-order', movedDetail(event.revision, event.position!, event.revision - 1, movedFrom!));
    if (event.position !== undefined) progress.lastPosition = event.position;
    const { hash, prevHash } = event.metadata;
    if (hash === undefined && prevHash === undefined) {
      if (progress.hashed > 0) return fail('missing-hash', 'the event carries no hash although earlier events of the stream do');
      if (this.chainedSince !== undefined && event.position !== undefined && event.position > this.chainedSince) {
        return fail('missing-hash', strippedHashDetail(event.position, this.chainedSince));
      }
      if (movedFrom !== undefined) return moved();
      const mismatch = recordedDefinitionMismatch(event);
      if (mismatch !== undefined) return fail('definition-mismatch', mismatch);
      progress.unchained += 1;
      progress.prevHash = chainHash(progress.prevHash, event);
    } else {
      const link = this.linkBreak(progress, event);
      if (link) return fail(link.reason, link.detail);
      if (movedFrom !== undefined) return moved();
      const mismatch = recordedDefinitionMismatch(event);
      if (mismatch !== undefined) return fail('definition-mismatch', mismatch);
      progress.hashed += 1;
      progress.prevHash = hash as string; // a string: the link held
      if (event.position !== undefined && (this.chainedSince === undefined || event.position < this.chainedSince)) this.chainedSince = event.position;
    }
    progress.nextRevision += 1;
    return progress.prevHash;
  }

  /**
   * An event that is stored but cannot be read back (its data or metadata is not a JSON object):
   * its stream breaks there as `unreadable`. Taken in its place, it is neither a deleted revision
   * of its stream nor, for what comes after it, a gap; the events after it are not judged.
   */
  addUnreadable(event: UnreadableEventLike): void {
    const progress = this.progressOf(event.stream);
    // Its revision itself may be what cannot be read (2.5, a text): then it stands where it is found.
    const revision = Number.isSafeInteger(event.revision) ? event.revision : progress.nextRevision;
    if (this.alreadyJudged(progress, { ...event, revision })) return;
    progress.broken = { ok: false, stream: event.stream, revision, reason: 'unreadable', detail: `the stored event at position ${event.position} cannot be read: ${event.reason}; it was edited outside the service` };
  }

  /**
   * The stream is checked from `revision` on, linked to `prevHash` (its first event's own link):
   * the store hides the revisions before it by a setting it reports (hidden-streams.ts), so they
   * are named there, not as a gap. Only before any event of the stream was taken in.
   */
  startAt(stream: string, revision: number, prevHash: string): void {
    if (this.streams.has(stream)) throw new Error(`The chain of ${stream} is already being checked`);
    this.streams.set(stream, { nextRevision: revision, firstRevision: revision, prevHash, unchained: 0, hashed: 0 });
  }

  private progressOf(stream: string): StreamProgress {
    let progress = this.streams.get(stream);
    if (!progress) {
      progress = { nextRevision: 0, prevHash: GENESIS_HASH, unchained: 0, hashed: 0 };
      this.streams.set(stream, progress);
    }
    return progress;
  }

  /**
   * What an event says before its own content is looked at: nothing in a stream already broken
   * (except that a revision that looked deleted turns up further down the log: it was moved), and
   * a revision out of turn breaks the stream. True when the event was judged so.
   */
  private alreadyJudged(progress: StreamProgress, event: { readonly stream: string; readonly revision: number; readonly position?: number }): boolean {
    if (progress.broken) {
      const { gap } = progress;
      if (gap && event.revision === gap.expected && event.position !== undefined) {
        progress.gap = undefined;
        // The revision that looked deleted is further down the log. Where it links to the event
        // before it, nothing is missing: the rows' positions were changed. Where it does not, its
        // revision was rewritten (two revisions swapped, say): that broken link is the first break,
        // as the stream read in revision order (verify <id>) finds it, and no chain "holds".
        const whole = 'metadata' in event ? (event as StoredEventLike) : undefined; // not an unreadable one's place
        const link = whole && !isHashless(whole) ? this.linkBreak(progress, whole) : undefined;
        progress.broken = link
          ? { ok: false, stream: event.stream, revision: event.revision, reason: link.reason, detail: link.detail }
          : { ...progress.broken, reason: 'revision-order', detail: movedDetail(gap.found, gap.position, gap.expected, event.position) };
      }
      return true;
    }
    if (event.revision === progress.nextRevision) return false;
    if (event.revision > progress.nextRevision && event.position !== undefined) progress.gap = { expected: progress.nextRevision, found: event.revision, position: event.position };
    const where = event.position === undefined ? '' : ` at position ${event.position}`;
    progress.broken = {
      ok: false,
      stream: event.stream,
      revision: event.revision,
      reason: 'revision-gap',
      detail: `expected revision ${progress.nextRevision}, found ${event.revision}${where}: revision ${progress.nextRevision} was deleted, or renumbered`,
    };
    return true;
  }

  /** The link itself, as the command side checks it; a prevHash that does not fit also says where the event came from. */
  private linkBreak(progress: StreamProgress, event: StoredEventLike): { reason: ChainBreakReason; detail: string } | undefined {
    const link = chainLinkBreak(progress.prevHash, progress.nextRevision, event);
    if (link?.reason !== 'prev-hash-mismatch') return link;
    return { ...link, detail: `${link.detail}${this.originOf(event.stream, progress, event.metadata.prevHash as string, event.metadata.hash as string)}` };
  }

  /**
   * Where an event whose prevHash does not fit came from, when the chains say: a copy of the event
   * before it carries that event's hash, and an event moved or copied from another stream chains
   * from that stream's head as it stood (fed the log in position order). Empty when neither holds.
   */
  private originOf(stream: string, progress: StreamProgress, prevHash: string, hash: string): string {
    if (hash === progress.prevHash) return `: the event carries the hash of revision ${progress.nextRevision - 1}, the event before it, so it is a copy of that event`;
    if (this.traced >= MAX_TRACED_BREAKS) return '';
    this.traced += 1;
    for (const [other, its] of this.streams) {
      if (other !== stream && its.nextRevision > 0 && its.prevHash === prevHash) {
        return `: it chains from ${other} revision ${its.nextRevision - 1}, so it was moved or copied from ${other} (its stream or revision rewritten)`;
      }
    }
    return '';
  }

  /** Verdicts per stream, in the order the streams were first seen. */
  verdicts(): ChainVerdict[] {
    return [...this.streams.entries()].map(([stream, progress]) => verdictOf(stream, progress));
  }

  /** The verdict of one stream; an unseen stream is intact and empty. */
  verdict(stream: string): ChainVerdict {
    const progress = this.streams.get(stream);
    return progress ? verdictOf(stream, progress) : verdictOf(stream, { nextRevision: 0, prevHash: GENESIS_HASH, unchained: 0, hashed: 0 });
  }
}

function movedDetail(revision: number, position: number, earlier: number, earlierPosition: number): string {
  return `revision ${revision} is at position ${position}, before revision ${earlier} at position ${earlierPosition}: the events' positions in the log were swapped or rewritten, so readers of the log take them out of order`;
}

function verdictOf(stream: string, progress: StreamProgress): ChainVerdict {
  if (progress.broken) return progress.broken;
  return {
    ok: true,
    stream,
    events: progress.nextRevision - (progress.firstRevision ?? 0),
    unchained: progress.unchained,
    unchainedCovered: progress.unchained === 0 || progress.hashed > 0,
    headHash: progress.prevHash,
    lastRevision: progress.nextRevision > (progress.firstRevision ?? 0) ? progress.nextRevision - 1 : null,
    ...(progress.firstRevision ? { firstRevision: progress.firstRevision } : {}),
  };
}

/**
 * Verifies one stream's events, read in revision order. `unreadable`: the event the reading
 * stopped at, which cannot be read back (the events are those before it): the stream breaks there
 * (`unreadable`) unless it broke before. `chainedSince`: the position of the log's first hashed
 * event, where it stands before an event of the stream without a hash (that event was stripped).
 */
export function verifyStreamChain(events: readonly StoredEventLike[], stream = events[0]?.stream ?? '', unreadable?: UnreadableEventLike, chainedSince?: number, firstReadable = 0): ChainVerdict {
  const verifier = new ChainVerifier({ chainedSince });
  // `firstReadable`: the store hides the revisions before it (a setting it reports): the chain is
  // checked from the first event shown, when that is where the setting says readers start.
  const first = events[0];
  if (firstReadable > 0 && first?.revision === firstReadable) verifier.startAt(stream, firstReadable, typeof first.metadata.prevHash === 'string' ? first.metadata.prevHash : GENESIS_HASH);
  for (const event of events) verifier.add(event);
  if (unreadable) verifier.addUnreadable(unreadable);
  return verifier.verdict(stream);
}

export interface LogVerdict {
  readonly ok: boolean;
  readonly streams: number;
  readonly events: number;
  /** Events written before tamper evidence, over all streams. */
  readonly unchained: number;
  /** Streams made only of unchained events (nothing vouches for them). */
  readonly uncoveredStreams: number;
  /** Every broken stream, in the order first seen; the first is the first broken stream. */
  readonly broken: readonly ChainBreak[];
}

/** Verifies every stream of a log (e.g. readAll in position order). */
export function verifyLog(events: Iterable<StoredEventLike>): LogVerdict {
  const verifier = new ChainVerifier();
  for (const event of events) verifier.add(event);
  return summarise(verifier.verdicts());
}

export function summarise(verdicts: readonly ChainVerdict[]): LogVerdict {
  const broken = verdicts.filter((verdict): verdict is ChainBreak => !verdict.ok);
  const intact = verdicts.filter((verdict): verdict is ChainIntact => verdict.ok);
  return {
    ok: broken.length === 0,
    streams: verdicts.length,
    events: intact.reduce((sum, verdict) => sum + verdict.events, 0),
    unchained: intact.reduce((sum, verdict) => sum + verdict.unchained, 0),
    uncoveredStreams: intact.filter((verdict) => !verdict.unchainedCovered).length,
    broken,
  };
}
