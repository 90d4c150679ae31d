import type { ExpectedRevision, StreamRevision } from './event-store.port';

/** The stream is not where the writer expected it: someone else appended first. */
export class WrongExpectedRevisionError extends Error {
  readonly code = 'EVENT_STORE.WRONG_EXPECTED_REVISION';

  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: StreamRevision,
  ) {
    super(`Stream "${stream}" is at revision ${actual}, but the append expected ${expected}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/** Some, but not all, of an append's event ids are already stored, or stored elsewhere. */
export class DuplicateEventIdError extends Error {
  readonly code = 'EVENT_STORE.DUPLICATE_EVENT_ID';

  constructor(
    readonly stream: string,
    readonly eventId: string,
  ) {
    super(`Event id ${eventId} is already stored, but the append to "${stream}" is not an exact retry of the one that stored it`);
    this.name = 'DuplicateEventIdError';
  }
}

/** The store's server cannot be reached (down, restarting, no leader yet): retrying later may succeed. */
export class EventStoreUnavailableError extends Error {
  readonly code: 'EVENT_STORE.UNAVAILABLE' | 'EVENT_STORE.OUTCOME_UNKNOWN' = 'EVENT_STORE.UNAVAILABLE';

  constructor(
    readonly store: string,
    reason: string,
  ) {
    super(`The event store ${store} cannot be reached: ${reason}`);
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * The event store's file cannot be used as it stands (damaged pages, made read-only) though it
 * was opened: found by a read or an append, at start-up or later. Unavailable to clients (503),
 * and one line naming the file and its setting for the operator, who must restore or fix it.
 */
export class EventStoreFileError extends EventStoreUnavailableError {
  constructor(store: string, problem: string) {
    super(store, problem);
    this.message = `The event store ${store} (EVENT_STORE_PATH) ${problem}`;
    this.name = 'EventStoreFileError';
  }
}

/**
 * An append was sent, but its answer was lost (a timeout, a broken connection) and reading the
 * stream back could not show it stored: it may or may not have been written, now or later.
 * Retrying with the same event ids is safe — events already stored are answered, not written again.
 */
export class EventStoreOutcomeUnknownError extends EventStoreUnavailableError {
  override readonly code = 'EVENT_STORE.OUTCOME_UNKNOWN';

  constructor(
    store: string,
    readonly stream: string,
    reason: string,
  ) {
    super(store, reason);
    this.message = `The event store ${store} did not confirm the append to "${stream}" (${reason}), and reading it back could not tell whether it was stored`;
    this.name = 'EventStoreOutcomeUnknownError';
  }
}

/** The append is larger than the store takes — its events together, or one of them. Nothing was written. */
export class AppendTooLargeError extends Error {
  readonly code = 'EVENT_STORE.APPEND_TOO_LARGE';

  constructor(
    readonly stream: string,
    /** The limit in bytes, as the store counts them. */
    readonly limitBytes: number,
    /** The event over the limit on its own, when one is. */
    readonly eventId?: string,
  ) {
    super(
      eventId
        ? `Event ${eventId} appended to "${stream}" is larger than the ${limitBytes} bytes the event store takes for one event`
        : `The append to "${stream}" is larger than the ${limitBytes} bytes the event store takes in one append`,
    );
    this.name = 'AppendTooLargeError';
  }
}

/** The stream was deleted for good: it can be neither read nor appended to. */
export class StreamDeletedError extends Error {
  readonly code = 'EVENT_STORE.STREAM_DELETED';

  constructor(readonly stream: string) {
    super(`Stream "${stream}" was deleted from the event store`);
    this.name = 'StreamDeletedError';
  }
}

/**
 * A stream no longer starts at revision 0: the store hides its events before `firstReadable`, as
 * KurrentDB does after an operator sets truncate-before ($tb) or $maxCount metadata (or soft-deletes
 * the stream and it is written again). In an audited log that is an operator's action or
 * tampering, never a state to decide on: a fold of what is left would start mid-history, and a
 * fold kept from before would decide on events the log no longer holds.
 */
export class StreamTruncatedError extends Error {
  readonly code = 'EVENT_STORE.STREAM_TRUNCATED';

  constructor(
    readonly stream: string,
    /** The first revision the store still shows. */
    readonly firstReadable: number,
  ) {
    super(`Stream "${stream}" starts at revision ${firstReadable} in the event store: the events before it can no longer be read (truncated)`);
    this.name = 'StreamTruncatedError';
  }
}

/** The store's server refused this service's credentials for an operation: a configuration matter, not a client's. */
export class EventStoreAccessDeniedError extends Error {
  readonly code = 'EVENT_STORE.ACCESS_DENIED';

  constructor(
    readonly store: string,
    /** What was refused, e.g. `append to "opportunity-1"`. */
    readonly operation: string,
    /** The user the connection logs in as (KurrentDB: EVENT_STORE_URL's), to name whom to grant what; never its password. */
    readonly user?: string,
  ) {
    super(`The event store ${store} denied this service's user the right to ${operation}`);
    this.name = 'EventStoreAccessDeniedError';
  }
}

/**
 * The disk holding the store is full: nothing of the append was written. Not a bug and not the
 * client's mistake; writes resume by themselves once an operator frees space (no restart).
 */
export class EventStoreFullError extends Error {
  readonly code = 'EVENT_STORE.DISK_FULL';

  constructor(
    readonly store: string,
    reason: string,
  ) {
    super(`The disk holding the event store ${store} is full (${reason}): nothing was written`);
    this.name = 'EventStoreFullError';
  }
}

/** A write refused for want of space, in SQLite's words or the file system's. */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Where an unreadable event stands: "revision 2<of> (position 7)", or the position alone when the
 * revision is what cannot be read (NaN). `of` names the stream in the error's own message.
 */
function unreadableWhere(revision: number, position: number, of = ''): string {
  return Number.isSafeInteger(revision) ? `revision ${revision}${of} (position ${position})` : `position ${position}${of} (its revision cannot be read)`;
}

/**
 * A stored event that cannot be read back: its data or metadata is not JSON. Only a log altered
 * outside the service holds one (every append writes JSON); named by stream, revision and
 * position, so an auditor knows where to look, rather than a bare parser message.
 */
export class UnreadableEventError extends Error {
  readonly code = 'EVENT_STORE.UNREADABLE_EVENT';

  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly position: number,
    readonly reason: string,
    /** The event's own id, where it can be read: which event stands at the position, for a reader checking its anchor. */
    readonly id?: string,
  ) {
    super(`The event at ${unreadableWhere(revision, position, ` of ${stream}`)} cannot be read: ${reason}; the log was altered outside Stagecraft`);
    this.name = 'UnreadableEventError';
  }

  /** "revision 2 (position 7)", or the position alone when the revision is what cannot be read (NaN). */
  get where(): string {
    return unreadableWhere(this.revision, this.position);
  }
}

/**
 * The store refuses to read or follow the log from a position because no event of its log starts
 * there (KurrentDB: INVALID_ARGUMENT, "invalid position"). A position a reader kept from this very
 * log always does: the store was replaced, or restored from an older backup and written on since.
 */
export class PositionNotInLogError extends Error {
  constructor(
    readonly store: string,
    reason: string,
  ) {
    super(`The event store ${store} holds no event at the position asked for (another log than the one it was taken from): ${reason}`);
    this.name = 'PositionNotInLogError';
  }
}

/**
 * What a process that only reads the log (the relay, the projections) tells its operator, after
 * the error, when the server refuses its user while it runs: no retry cures a refusal (a password
 * rotated, an ACL changed), so it names the setting to correct; the reader keeps its checkpoint
 * and tries again, going on by itself once the server lets it in.
 */
export const READ_REFUSED_ADVICE = 'the server refuses the user of EVENT_STORE_URL: give it a user and password the server accepts, with the right to read every stream';
