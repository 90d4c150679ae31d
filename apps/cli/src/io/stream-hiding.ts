import { hiddenFromStreamRead, type HiddenStream } from '@stagecraft/audit';
import { EventStoreAccessDeniedError, type EventStore } from '@stagecraft/event-store';

/**
 * What the store's settings hide of a stream whose read showed up to `lastReadRevision` (undefined:
 * nothing), as `verify` names it (KurrentDB: $tb, $maxCount, $maxAge, a soft delete, a tombstone).
 * A user refused the streams' metadata learns nothing here: `verify` names that check as not made.
 */
export async function hiddenInRead(store: EventStore, stream: string, lastReadRevision: number | undefined): Promise<HiddenStream[]> {
  try {
    const hiding = await store.streamHiding?.(stream);
    return hiding ? hiddenFromStreamRead(hiding, lastReadRevision) : [];
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return [];
    throw error;
  }
}
