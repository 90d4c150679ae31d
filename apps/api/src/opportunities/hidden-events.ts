import { describeHiddenStream, describeUncheckedHiding, hiddenFromStreamRead, uncheckedFrom, uncheckedHiding, type HiddenStream, type UncheckedHiding } from '@stagecraft/audit';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { EventStoreAccessDeniedError, type EventStore } from '@stagecraft/event-store';
import { ApiProblem } from '../http/problem';

// What a store setting hides of an opportunity's first events (KurrentDB: $tb, $maxCount, $maxAge,
// a soft delete then a new write), for the auditors' reads: the history, the timeline and the
// as-of view would otherwise show a shortened stream, or fail to fold it, saying nothing of why.
// Named as `verify` names it (libs/audit's hidden-streams.ts).

/** What the settings hide of the events before a read's first revision, or the check not made. */
export interface HiddenBeforeRead {
  readonly hidden: HiddenStream[];
  /** The store refused its user the stream's metadata: hidden by a setting or cut, not told apart (uncheckedFrom). */
  readonly unchecked?: UncheckedHiding;
}

/**
 * The settings hiding events of a stream whose read starts past revision 0; nothing is asked of
 * a stream read from 0 (no setting hides anything of it). A user refused the metadata is told the
 * check was not made (`unchecked`, as `verify` and `stagecraft history` say it), never that nothing is hidden.
 */
export async function hiddenBeforeRead(store: EventStore, stream: string, stored: readonly { readonly revision: number }[]): Promise<HiddenBeforeRead> {
  if (stored.length === 0 || stored[0]!.revision === 0) return { hidden: [] };
  try {
    const hiding = await store.streamHiding?.(stream);
    return { hidden: hiding ? hiddenFromStreamRead(hiding, stored.at(-1)!.revision) : [] };
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return { hidden: [], unchecked: uncheckedFrom(uncheckedHiding(stream, error.user), stored[0]!.revision) };
    throw error;
  }
}

/**
 * A fold from revision 0 (the timeline, an as-of view, the deal now) of a stream a setting cuts:
 * refused, naming the setting, or the check not made; undefined when neither explains the cut.
 */
export function hiddenEventsProblem(firstReadableRevision: number, { hidden, unchecked }: HiddenBeforeRead): ApiProblem | undefined {
  const verify = 'An auditor can see what is hidden with GET /opportunities/{id}/verify or `npx stagecraft verify <id>`.';
  if (hidden.length > 0) {
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be replayed: the event store hides those before revision ${firstReadableRevision} from readers by a setting (${hidden.map(describeHiddenStream).join('; ')}); the log still holds them until a scavenge. ${verify}`,
      { firstReadableRevision, hidden },
    );
  }
  if (unchecked === undefined) return undefined;
  return new ApiProblem(
    'EVENT_STORE.STREAM_UNREADABLE',
    `The stored events of this opportunity cannot be replayed: the event store no longer shows those before revision ${firstReadableRevision}, hidden from readers by a setting or cut by tampering, which could not be told apart (${describeUncheckedHiding(unchecked)}).`,
    { firstReadableRevision, hidden, unchecked: [unchecked] },
  );
}

/**
 * The settings hiding every event of an opportunity's stream that reads as empty or deleted (KurrentDB:
 * a tombstone, a soft delete, $tb past its end, $maxAge); none when nothing hides it (never written).
 * A user refused the metadata learns nothing here: `verify` names that check as not made.
 */
export async function hiddenWhole(store: EventStore, opportunityId: string): Promise<HiddenStream[]> {
  try {
    const hiding = await store.streamHiding?.(toOpportunityStreamId(opportunityId));
    return hiding ? hiddenFromStreamRead(hiding, undefined) : [];
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return [];
    throw error;
  }
}

/**
 * A read of an opportunity no event of which a reader sees, though the log holds them: refused
 * naming the setting (`hiddenBy`, and `hidden` as verify reports it), as `stagecraft history` names
 * it, not as a deal never opened (404) or a bare deletion (410 STREAM_DELETED).
 */
export function hiddenWholeProblem(hidden: readonly HiddenStream[]): ApiProblem {
  return new ApiProblem(
    'EVENT_STORE.STREAM_HIDDEN',
    `No event of this opportunity can be read: the event store hides them from readers (${hidden.map(describeHiddenStream).join('; ')}); the log still holds them until a scavenge. An auditor can see what is hidden with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
    { hiddenBy: [...new Set(hidden.map(({ mechanism }) => mechanism))], hidden },
  );
}

/** Refuses, naming the setting, a read of an opportunity whose stream a setting hides whole; returns when none does. */
export async function refuseHiddenWhole(store: EventStore, opportunityId: string): Promise<void> {
  const hidden = await hiddenWhole(store, opportunityId);
  if (hidden.length > 0) throw hiddenWholeProblem(hidden);
}
