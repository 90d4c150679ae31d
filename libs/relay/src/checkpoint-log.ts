import type { LogAnchor } from '@stagecraft/event-store';

// Whether a sink's checkpoint still belongs to the event log the relay now reads. A checkpoint is
// a bare position until it is tied to its log: the log's first event (which log this is) and the
// last event passed (LogAnchor: a log restored from an older backup and written on since has the
// same first event and passes the old position again, with other events there). When the log no
// longer holds them, the relay cannot tell where to go on: from the old position it would skip the
// events written since the restore, from the beginning it would publish the whole history again.
// Which one is right is the operator's call (`stagecraft relay start-over`), so it stops and says so.
// Pure: the reads it judges are made by its callers (the runner and the CLI).

/** The state a sink is in while its checkpoint belongs to another log, in /health and `relay status`. */
export const LOG_REPLACED = 'log-replaced';

/** A checkpoint as its log is judged on: where it stands, the log it was taken on, its last event. */
export interface AnchoredCheckpoint {
  readonly position: number;
  /** The first event's id of the log it was taken on ('' when that log was empty). */
  readonly logId: string;
  readonly anchor: LogAnchor;
}

/** What was read of the log now: its head and its first event's id ('' while it is empty). */
export interface LogNow {
  readonly head: number;
  readonly firstEventId: string;
}

/**
 * Why the checkpoint cannot be on this log by what its first event and head say, or undefined
 * when they do not tell (then the anchor is read back: filteredReadingLost).
 */
export function checkpointOffLog(checkpoint: AnchoredCheckpoint, log: LogNow): string | undefined {
  if (checkpoint.logId !== '' && checkpoint.logId !== log.firstEventId) {
    return log.firstEventId === '' ? 'it was taken on a log that held events, and this one is empty' : `it was taken on another event log (its first event was ${checkpoint.logId}, this log's is ${log.firstEventId})`;
  }
  if (checkpoint.position > log.head) return `it is past the log's head (position ${log.head})`;
  return undefined;
}

/** Where a sink starts over, as the operator chose: before the log's first event, or at its head (what is there now is not published). */
export type StartOverAt = 'beginning' | 'end';

/**
 * A sink's key as a shell word, for the commands messages suggest: a NATS or AMQP key holds "?"
 * and "&", and pasted unquoted the "&" would run half the command in the background.
 */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The sink's lastError while its checkpoint belongs to another log: what was found and the two ways on, as commands. */
export function describeLogReplaced(sinkKey: string, checkpoint: number, why: string): string {
  const sink = shellWord(sinkKey);
  return (
    `${LOG_REPLACED}: its checkpoint (position ${checkpoint}) does not belong to the event log it reads now (${why}); ` +
    'nothing is published until an operator says where to go on: ' +
    `stagecraft relay start-over --sink ${sink} --at beginning (publish this log's whole history again) ` +
    `or --at end (publish only what is written from now on)`
  );
}
