import { PositionNotInLogError, UnreadableEventError } from './event-store.errors';
import type { EventStore, StoredEvent } from './event-store.port';
import { readAllPages } from './read-all-pages';

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
 * events written after the restore up to its old checkpoint. `readsBack`: the event must also
 * still read back whole, for a reader that learnt something from its contents (LogChainStart: that
 * it carries a hash), which an edit into something unreadable takes away.
 */
export async function logStillHolds(store: Pick<EventStore, 'readAll'>, anchor: LogAnchor, options: { readonly readsBack?: boolean } = {}): Promise<boolean> {
  if (anchor.position <= 0 || anchor.eventId === '') return true;
  try {
    const event = options.readsBack === true ? (await store.readAll({ fromPosition: anchor.position, maxCount: 1, fromLeader: true }))[0] : await eventStandingAt(store, anchor.position);
    return event !== undefined && event.position === anchor.position && event.id === anchor.eventId;
  } catch (error) {
    // No event of this log starts there (KurrentDB refuses to read from such a position): not held.
    if (error instanceof PositionNotInLogError) return false;
    if (options.readsBack === true && error instanceof UnreadableEventError) return false;
    throw error;
  }
}

/** The id of the log's first event ('' while it has none): which log this is (see LogAnchor). */
export async function firstEventId(store: Pick<EventStore, 'readAll'>): Promise<string> {
  return (await eventStandingAt(store, 0))?.id ?? '';
}

/**
 * The first event at or after `position`, by position and id, even when the rest of it cannot be
 * read: which event stands where is not about damage to it. An event edited outside the service
 * into something unreadable, there, would otherwise stop every reader checking its anchor at
 * start-up — the API and the projector would not start again until the log was mended — where
 * the reader that meets it (or verify) says what is wrong with it.
 */
async function eventStandingAt(store: Pick<EventStore, 'readAll'>, position: number): Promise<Pick<StoredEvent, 'position' | 'id'> | undefined> {
  try {
    return (await store.readAll({ ...(position > 0 ? { fromPosition: position } : {}), maxCount: 1, fromLeader: true }))[0];
  } catch (error) {
    if (error instanceof UnreadableEventError && error.id !== undefined) return { position: error.position, id: error.id };
    throw error;
  }
}

/**
 * Whether the log can be read from the checkpoint. It can from wherever an event starts, and
 * SQLite from any position; KurrentDB refuses a position inside a record (PositionNotInLogError),
 * and a checkpoint that stands after the anchor (the reader passed events of other types, or
 * the server's own records) can fall inside one of a log restored and written on since while the
 * anchor still holds. Following from it would be refused again on every try.
 */
async function readableFrom(store: Pick<EventStore, 'readAll'>, checkpoint: number, anchor: LogAnchor): Promise<boolean> {
  if (checkpoint <= 0 || checkpoint === anchor.position) return true;
  try {
    await store.readAll({ fromPosition: checkpoint, maxCount: 1, fromLeader: true });
    return true;
  } catch (error) {
    if (error instanceof PositionNotInLogError) return false;
    throw error;
  }
}

function describeLostCheckpoint(checkpoint: number): string {
  return `its checkpoint (position ${checkpoint}) falls inside a record: no event of this log starts there, so the store was replaced or restored from an older backup and written on since`;
}

/** Where the anchor and the log part, in words for an operator's log line. */
export function describeLostAnchor(anchor: LogAnchor): string {
  return `the event it last took in (position ${anchor.position}, id ${anchor.eventId}) is no longer at that position: the store was replaced or restored from an older backup and written on since`;
}

/** Where a reader stands in the log: its checkpoint, and the event types it takes in. */
export interface FilteredReading {
  /** Its checkpoint: it has passed every event up to here. */
  readonly checkpoint: number;
  /** The types it takes in (events of other types it passes by without anchoring on them); absent: every type. */
  readonly eventTypes?: readonly string[];
}

/**
 * Why the log no longer holds what a reader that takes only `eventTypes` folded up to its
 * checkpoint, or undefined when it still does. Such a reader anchors the last event it took in,
 * which may stand before its checkpoint: the events in between were of types it passes by. Its
 * anchor holding then proves the log the same only up to the anchor; a backup that ended in that
 * run and was written on past the checkpoint may hold events it takes in between, which it would
 * skip. So the events between the anchor and the checkpoint are read too (in an unchanged log,
 * only the short run of passed events at its end): one of a type it takes in means another log.
 */
export async function filteredReadingLost(store: Pick<EventStore, 'readAll'>, anchor: LogAnchor, reading: FilteredReading): Promise<string | undefined> {
  if (!(await logStillHolds(store, anchor))) return describeLostAnchor(anchor);
  if (!(await readableFrom(store, reading.checkpoint, anchor))) return describeLostCheckpoint(reading.checkpoint);
  // No anchor (nothing taken in yet, or saved before anchors were): nothing to start the check from.
  if (anchor.position <= 0 || anchor.eventId === '' || reading.checkpoint <= anchor.position) return undefined;
  const types = reading.eventTypes === undefined ? undefined : new Set(reading.eventTypes);
  // A row that cannot be read is passed by here as the reader passes it (of another type) or met it
  // (of its own, it stopped there already): the check is about what stands where, not about damage.
  for await (const page of readAllPages(store, { afterPosition: anchor.position, onUnreadable: () => undefined, fromLeader: true })) {
    for (const event of page) {
      if (event.position > reading.checkpoint) return undefined;
      if (types === undefined || types.has(event.type)) {
        return `an event it takes in (${event.type}, position ${event.position}) now stands between the event it last took in (position ${anchor.position}) and its checkpoint (position ${reading.checkpoint}), where the log had none: the store was restored from an older backup and written on since`;
      }
    }
  }
  return undefined;
}
