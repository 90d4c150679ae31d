import type { UnreadableEventLike } from './hash-chain';
import { processStreamOf, verifyOpportunity, type OpportunityVerification, type UnreadableInStreams } from './opportunity-verification';
import type { StoredEventLike } from './stored-event-like';

// A store may hide a stream's events from its readers without removing them from the log: on
// KurrentDB, stream metadata ($tb, $maxCount, $maxAge), a soft delete and a tombstone. Reads of
// $all still show them (until a scavenge), so every chain read in position order holds, while the
// API, history and every stream read no longer see them. What hides what is decided here, from the
// settings the store reports (EventStore.streamsHidingEvents / streamHiding) and what the log
// shows of the stream.

/** What a store reports of one stream's settings that hide events from readers. */
export interface StreamHidingLike {
  readonly stream: string;
  /** $tb: events before this revision are hidden (a soft delete is `softDeleted` instead). */
  readonly truncateBefore?: number;
  /** $maxCount: only the last this many events are shown. */
  readonly maxCount?: number;
  /** $maxAge, in seconds: events older than this are hidden. */
  readonly maxAgeSeconds?: number;
  /** Deleted, but it may be written again (KurrentDB's $tb at EventNumber.DeletedStream). */
  readonly softDeleted: boolean;
  /** Deleted for good: reads fail. */
  readonly tombstoned: boolean;
  /** The first revision a reader of the stream sees now; undefined when it sees none. */
  readonly firstReadableRevision?: number;
}

export type HidingMechanism = 'tombstone' | 'soft-delete' | 'truncate-before' | 'max-count' | 'max-age';

/** Events of a stream its readers no longer see, and what hides them. */
export interface HiddenStream {
  readonly stream: string;
  readonly mechanism: HidingMechanism;
  /** The setting's value: $tb, $maxCount, $maxAge in seconds; absent for a delete. */
  readonly setting?: number;
  /** The hidden revisions, from 0 through this one; undefined when the log does not show how far the stream went. */
  readonly throughRevision?: number;
  /** How many events are hidden (throughRevision + 1), when known. */
  readonly hiddenEvents?: number;
  readonly detail: string;
}

/**
 * What hides which events of one stream. `lastRevision`: the stream's last revision as the log
 * shows it (every event, hidden or not), undefined when the log shows none of it. Each setting
 * hides a prefix of the stream: $tb the revisions before it, $maxCount all but the last ones,
 * $maxAge those older than it (which the store alone can tell: its clock, so the prefix the reader
 * no longer sees, beyond what $tb and $maxCount hide, is $maxAge's). A setting that hides nothing
 * yet is not listed.
 */
export function hiddenEventsOf(hiding: StreamHidingLike, lastRevision: number | undefined): HiddenStream[] {
  const { stream } = hiding;
  const all = (mechanism: HidingMechanism, what: string): HiddenStream[] => {
    const count = lastRevision === undefined ? undefined : lastRevision + 1;
    const events = count === undefined ? 'its events' : `its ${count} event(s), revisions 0–${lastRevision},`;
    return [{ stream, mechanism, throughRevision: lastRevision, hiddenEvents: count, detail: `${what}: ${events} can no longer be read through the stream (the log still holds them until a scavenge)` }];
  };
  if (hiding.tombstoned) return all('tombstone', 'deleted for good (a tombstone)');
  if (hiding.softDeleted) return all('soft-delete', 'soft-deleted (stream metadata $tb at the deleted-stream mark)');
  // What the log does not show, no setting hides.
  if (lastRevision === undefined) return [];
  const hidden: HiddenStream[] = [];
  const add = (mechanism: HidingMechanism, setting: number, name: string, through: number) => {
    if (through < 0) return;
    hidden.push({ stream, mechanism, setting, throughRevision: through, hiddenEvents: through + 1, detail: `stream metadata ${name} ${setting} hides revisions 0–${through} (${through + 1} event(s)) from readers` });
  };
  const { truncateBefore, maxCount, maxAgeSeconds } = hiding;
  if (truncateBefore !== undefined) add('truncate-before', truncateBefore, '$tb', Math.min(truncateBefore, lastRevision + 1) - 1);
  if (maxCount !== undefined) add('max-count', maxCount, '$maxCount', lastRevision - maxCount);
  if (maxAgeSeconds !== undefined) {
    const unseenThrough = (hiding.firstReadableRevision ?? lastRevision + 1) - 1;
    const explained = Math.max(truncateBefore === undefined ? -1 : truncateBefore - 1, maxCount === undefined ? -1 : lastRevision - maxCount);
    if (unseenThrough > explained) add('max-age', maxAgeSeconds, '$maxAge (seconds)', unseenThrough);
  }
  return hidden;
}

/**
 * What hides which events of a stream read on its own (verify <id>): `lastReadRevision` is the
 * last revision the read showed, undefined when it showed none — then every event the stream had
 * is hidden, by whichever settings it carries, and how many is for `verify --all` to count.
 */
export function hiddenFromStreamRead(hiding: StreamHidingLike, lastReadRevision: number | undefined): HiddenStream[] {
  if (lastReadRevision !== undefined || hiding.tombstoned || hiding.softDeleted) return hiddenEventsOf(hiding, lastReadRevision);
  const { stream } = hiding;
  const every = (mechanism: HidingMechanism, setting: number, name: string): HiddenStream => ({ stream, mechanism, setting, detail: `stream metadata ${name} ${setting} hides every event of the stream from readers (verify --all counts them)` });
  const hidden: HiddenStream[] = [];
  if (hiding.truncateBefore !== undefined && hiding.truncateBefore > 0) hidden.push(every('truncate-before', hiding.truncateBefore, '$tb'));
  if (hiding.maxCount !== undefined) hidden.push(every('max-count', hiding.maxCount, '$maxCount'));
  if (hiding.maxAgeSeconds !== undefined) hidden.push(every('max-age', hiding.maxAgeSeconds, '$maxAge (seconds)'));
  return hidden;
}

/**
 * Finds, while a whole log is read in position order, the events that the streams' settings hide
 * from readers: told every event (`add`), it keeps the last revision of the streams it was given
 * settings for, and reports what each setting hides (`report`).
 */
export class HiddenStreamsFinder {
  private readonly lastRevisions = new Map<string, number>();

  constructor(private readonly hidings: readonly StreamHidingLike[]) {
    for (const hiding of hidings) this.lastRevisions.set(hiding.stream, -1);
  }

  add(event: { readonly stream: string; readonly revision: number }): void {
    const last = this.lastRevisions.get(event.stream);
    if (last !== undefined && event.revision > last) this.lastRevisions.set(event.stream, event.revision);
  }

  report(): HiddenStream[] {
    return this.hidings.flatMap((hiding) => {
      const last = this.lastRevisions.get(hiding.stream)!;
      return hiddenEventsOf(hiding, last < 0 ? undefined : last);
    });
  }
}

/** One line for a person: `ALTERED: <stream>: <what hides what>`. */
export function describeHiddenStream(hidden: HiddenStream): string {
  return `ALTERED: ${hidden.stream}: ${hidden.mechanism} — ${hidden.detail}`;
}

/**
 * One opportunity's verification (verifyOpportunity) with what the store hides of its two streams:
 * what the API's /verify and the CLI's `verify <id>` answer. Hidden events are an alteration,
 * whatever the chains of what is left say.
 */
export interface OpportunityVerificationWithHidden extends OpportunityVerification {
  readonly hidden: readonly HiddenStream[];
  /** Present when what hides a stream's events could not be checked (the store refused to show its settings). */
  readonly unchecked?: readonly UncheckedHiding[];
}

export function withHiddenStreams(verification: OpportunityVerification, hidden: readonly HiddenStream[], unchecked: readonly UncheckedHiding[] = []): OpportunityVerificationWithHidden {
  return { ...verification, ok: verification.ok && hidden.length === 0 && unchecked.length === 0, hidden, ...(unchecked.length > 0 ? { unchecked } : {}) };
}

/**
 * A check that could not be made: which settings hide a stream's events from readers, the store
 * refusing its user the streams' metadata (KurrentDB: read on `$$<stream>`, which read on $all
 * does not give). Never passed over: a log whose readers may miss events is not called intact.
 */
export interface UncheckedHiding {
  readonly check: 'hidden-streams';
  /** The stream whose settings could not be read; absent when it was every stream's (verify --all). */
  readonly stream?: string;
  /** The user the store refused (EVENT_STORE_URL's), null when the connection names none. */
  readonly user: string | null;
  /** The right missing, as the server names it. */
  readonly permission: string;
  /**
   * The first revision a read of the stream showed, when past 0: the events before it are hidden by
   * a setting or were cut (tampering), which the check not made would tell apart (uncheckedFrom).
   */
  readonly firstReadRevision?: number;
  readonly detail: string;
}

export function uncheckedHiding(stream: string | undefined, user: string | undefined): UncheckedHiding {
  const what = stream === undefined ? 'any stream' : 'this stream';
  const who = user === undefined ? 'the connection of EVENT_STORE_URL (it names no user: the server takes it as anonymous)' : `the user "${user}" of EVENT_STORE_URL`;
  const permission = "read on the streams' metadata ($$<stream>)";
  return {
    check: 'hidden-streams',
    ...(stream === undefined ? {} : { stream }),
    user: user ?? null,
    permission,
    detail: `whether stream metadata ($tb, $maxCount, $maxAge), a soft delete or a tombstone hides events of ${what} from its readers could not be checked: the server refuses ${who} ${permission}; grant it (the $mr right in the streams' ACLs, or membership of $admins), then verify again`,
  };
}

/**
 * The check not made on a stream whose read starts past revision 0 (`firstReadRevision`): what
 * is missing before it may be hidden by a setting ($tb, $maxCount, $maxAge) or cut by tampering,
 * which only that check tells apart: so said, never called a revision gap (BROKEN) nor passed.
 */
export function uncheckedFrom(unchecked: UncheckedHiding, firstReadRevision: number): UncheckedHiding {
  return {
    ...unchecked,
    firstReadRevision,
    detail: `its read starts at revision ${firstReadRevision}: the events before it are hidden from readers by a setting or were cut, which could not be told apart; ${unchecked.detail}`,
  };
}

/**
 * The check not made on a stream no event of which reads: deleted, or hidden whole by a setting
 * (a soft delete, $tb past its end, $maxAge), which only that check tells apart: never called
 * missing (BROKEN stream-missing) nor passed.
 */
export function uncheckedEmpty(unchecked: UncheckedHiding): UncheckedHiding {
  return { ...unchecked, detail: `no event of it can be read: never written, deleted, or hidden from readers, which could not be told apart; ${unchecked.detail}` };
}

/** One line for a person: `UNCHECKED: <stream, or what>: <why, and whom to grant what>`. */
export function describeUncheckedHiding(unchecked: UncheckedHiding): string {
  return `UNCHECKED: ${unchecked.stream ?? 'hidden streams'}: ${unchecked.detail}`;
}

/** The first revision the settings leave to readers of a stream (0 when they hide it whole, how far unknown); undefined when they hide none of it. */
export function firstRevisionLeft(hidden: readonly HiddenStream[]): number | undefined {
  if (hidden.length === 0) return undefined;
  return Math.max(...hidden.map(({ throughRevision }) => (throughRevision ?? -1) + 1));
}

/** What the store reports of the settings of an opportunity's two streams (EventStore.streamHiding). */
export interface HidingOfStreams {
  readonly opportunity?: StreamHidingLike;
  readonly process?: StreamHidingLike;
  /** The streams whose settings the store would not show. */
  readonly unchecked?: readonly UncheckedHiding[];
}

/**
 * One opportunity as its streams read (verifyOpportunity) with what the store's settings hide of
 * them: what the API's /verify and the CLI's `verify <id>` answer, so the two cannot disagree. A
 * stream a setting hides, whole or its first revisions, is ALTERED by that setting, as `verify
 * --all` reports it (the log still shows those events, and their chain): not a revision gap, a
 * missing process stream or a deleted one, which would call BROKEN what --all calls ALTERED. The
 * chain of what is left is still checked, from the first revision readers see.
 */
export function verifyOpportunityAsRead(
  opportunityId: string,
  opportunityEvents: readonly StoredEventLike[],
  processEvents: readonly StoredEventLike[] | null,
  unreadable: UnreadableInStreams,
  chainedSince: number | undefined,
  hidings: HidingOfStreams,
): OpportunityVerificationWithHidden {
  const hiddenIn = (hiding: StreamHidingLike | undefined, events: readonly StoredEventLike[]) => (hiding ? hiddenFromStreamRead(hiding, events.at(-1)?.revision) : []);
  const opportunityHidden = hiddenIn(hidings.opportunity, opportunityEvents);
  const processHidden = hiddenIn(hidings.process, processEvents ?? []);
  const stream = opportunityEvents[0]?.stream ?? unreadable.opportunity?.stream ?? hidings.opportunity?.stream;
  // A stream whose settings could not be read and whose read starts past revision 0, or shows no
  // event: checked from the first revision read, what is before it UNCHECKED (uncheckedFrom,
  // uncheckedEmpty), as a setting would have it, not a revision gap or a missing process stream.
  const cutUnchecked = new Map<string, number>();
  const streamsRead: [string | undefined, readonly StoredEventLike[], UnreadableEventLike | undefined][] = [
    [stream, opportunityEvents, unreadable.opportunity],
    [processStreamOf(opportunityEvents), processEvents ?? [], unreadable.process],
  ];
  for (const [name, events, unread] of streamsRead) {
    if (name === undefined || !hidings.unchecked?.some((unchecked) => unchecked.stream === name)) continue;
    const first = events[0]?.revision ?? (unread === undefined ? 0 : undefined);
    if (first !== undefined && (first > 0 || events.length === 0)) cutUnchecked.set(name, first);
  }
  const hiddenBefore = {
    opportunity: firstRevisionLeft(opportunityHidden) ?? (stream === undefined ? undefined : cutUnchecked.get(stream)),
    process: firstRevisionLeft(processHidden) ?? cutUnchecked.get(processStreamOf(opportunityEvents) ?? ''),
  };
  const verification = verifyOpportunity(opportunityId, opportunityEvents, processEvents, unreadable, chainedSince, hiddenBefore, stream);
  const unchecked = hidings.unchecked?.map((entry) => {
    const first = entry.stream === undefined ? undefined : cutUnchecked.get(entry.stream);
    if (first === undefined) return entry;
    return first === 0 ? uncheckedEmpty(entry) : uncheckedFrom(entry, first);
  });
  return withHiddenStreams(verification, [...opportunityHidden, ...processHidden], unchecked);
}
