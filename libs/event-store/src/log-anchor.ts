import type { EventStore, StoredEvent } from './event-store.port';

/**
 * The last event a reader of the log took in (folded, published), by position and id, saved with
 * its checkpoint. The log's first event and its head cannot tell a store restored from an older
 * backup and written on since: its first event is the same (a deterministic id), and once its new
 * events pass the old checkpoint the head does not give it away either. The event at the anchor's
 * position does: another event stands there, or none.
 */
export interface LogAnchor {
  readonly position: number;
  readonly eventId: string;
}

/** The columns a SQLite file keeps an anchor in, beside its checkpoint (addMissingColumns, for files written before). */
export const ANCHOR_COLUMNS = { anchor_position: 'INTEGER NOT NULL DEFAULT 0', anchor_event_id: "TEXT NOT NULL DEFAULT ''" } as const;

/** No event taken in yet (or a checkpoint saved before anchors were): nothing to compare. */
export const NO_ANCHOR: LogAnchor = { position: 0, eventId: '' };

export function anchorOf(event: Pick<StoredEvent, 'position' | 'id'>): LogAnchor {
  return { position: event.position, eventId: event.id };
}

/**
 * Whether the log still holds the anchored event at its position. True for NO_ANCHOR. A reader
 * whose anchor does not hold starts over from the beginning of the log rather than skip the
 * events written after the restore up to its old checkpoint.
 */
export async function logStillHolds(store: Pick<EventStore, 'readAll'>, anchor: LogAnchor): Promise<boolean> {
  if (anchor.position <= 0 || anchor.eventId === '') return true;
  const [event] = await store.readAll({ fromPosition: anchor.position, maxCount: 1 });
  return event !== undefined && event.position === anchor.position && event.id === anchor.eventId;
}

/** Where the anchor and the log part, in words for an operator's log line. */
export function describeLostAnchor(anchor: LogAnchor): string {
  return `the event it last took in (position ${anchor.position}, id ${anchor.eventId}) is no longer at that position: the store was replaced or restored from an older backup and written on since`;
}
