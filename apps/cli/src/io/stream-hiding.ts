import { hiddenFromStreamRead, uncheckedHiding, type HiddenStream, type UncheckedHiding } from '@stagecraft/audit';
import { EventStoreAccessDeniedError, type EventStore } from '@stagecraft/event-store';

/** What the store's settings hide of a stream, or the check that could not be made. */
export interface HidingInRead {
  readonly hidden: HiddenStream[];
  /** The store refused its user the stream's metadata: whether a setting hides events is not known. */
  readonly unchecked?: UncheckedHiding;
}

/**
 * What the store's settings hide of a stream whose read showed up to `lastReadRevision` (undefined:
 * nothing), as `verify` names it (KurrentDB: $tb, $maxCount, $maxAge, a soft delete, a tombstone).
 * A user refused the streams' metadata learns nothing hidden, and is told so (`unchecked`, as
 * `verify` names it): never that nothing is hidden.
 */
export async function hidingInRead(store: EventStore, stream: string, lastReadRevision: number | undefined): Promise<HidingInRead> {
  try {
    const hiding = await store.streamHiding?.(stream);
    return { hidden: hiding ? hiddenFromStreamRead(hiding, lastReadRevision) : [] };
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return { hidden: [], unchecked: uncheckedHiding(stream, error.user) };
    throw error;
  }
}
