import { describeHiddenStream, hiddenFromStreamRead, type HiddenStream } from '@stagecraft/audit';
import { EventStoreAccessDeniedError, type EventStore } from '@stagecraft/event-store';
import { ApiProblem } from '../http/problem';

// What a store setting hides of an opportunity's first events (KurrentDB: $tb, $maxCount, $maxAge,
// a soft delete then a new write), for the auditors' reads: the history, the timeline and the
// as-of view would otherwise show a shortened stream, or fail to fold it, saying nothing of why.
// Named as `verify` names it (libs/audit's hidden-streams.ts).

/**
 * The settings hiding events of a stream whose read starts past revision 0; nothing is asked of
 * a stream read from 0 (no setting hides anything of it). A user refused the metadata learns
 * nothing here: `verify` names that check as not made.
 */
export async function hiddenBeforeRead(store: EventStore, stream: string, stored: readonly { readonly revision: number }[]): Promise<HiddenStream[]> {
  if (stored.length === 0 || stored[0]!.revision === 0) return [];
  try {
    const hiding = await store.streamHiding?.(stream);
    return hiding ? hiddenFromStreamRead(hiding, stored.at(-1)!.revision) : [];
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return [];
    throw error;
  }
}

/** A fold from revision 0 (the timeline, an as-of view, the deal now) of a stream a setting cuts: refused, naming the setting. */
export function hiddenEventsProblem(firstReadableRevision: number, hidden: readonly HiddenStream[]): ApiProblem {
  return new ApiProblem(
    'EVENT_STORE.STREAM_UNREADABLE',
    `The stored events of this opportunity cannot be replayed: the event store hides those before revision ${firstReadableRevision} from readers by a setting (${hidden.map(describeHiddenStream).join('; ')}); the log still holds them until a scavenge. An auditor can see what is hidden with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
    { firstReadableRevision, hidden },
  );
}
