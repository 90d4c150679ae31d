import { filteredReadingLost, firstEventId, NO_ANCHOR, type EventStore, type LogAnchor } from '@stagecraft/event-store';
import { checkpointOffLog, type AnchoredCheckpoint } from './checkpoint-log';

// The reads checkpoint-log.ts judges, shared by the runner and the CLI's `relay status` and `relay start-over`.

/**
 * Why `checkpoint` does not belong to the log `store` holds now (another log, one shorter than it,
 * or one that no longer holds its last event where it was: a restore from an older backup), or
 * undefined when it does. Read by the runner before it follows the log and by `relay status`.
 */
export async function checkpointLostOn(store: EventStore, checkpoint: AnchoredCheckpoint): Promise<string | undefined> {
  const head = await store.headPosition();
  const offLog = checkpointOffLog(checkpoint, { head, firstEventId: await firstEventId(store) });
  // It reads every event: no type it passes by.
  return offLog ?? (await filteredReadingLost(store, checkpoint.anchor, { checkpoint: checkpoint.position }));
}

/**
 * The log's last event at or before `position`, as the anchor of a checkpoint put there without
 * publishing (a sink's first start at the log's end, a replay, a start over): without one, a log
 * restored from an older backup and written past it again could not be told from this one.
 */
export async function anchorAtOrBefore(store: EventStore, position: number): Promise<LogAnchor> {
  if (position <= 0) return NO_ANCHOR;
  const [event] = await store.readAll({ fromPosition: position, direction: 'backwards', maxCount: 1, fromLeader: true });
  return event !== undefined && event.position <= position ? { position: event.position, eventId: event.id } : NO_ANCHOR;
}
