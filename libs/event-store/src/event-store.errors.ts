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
  readonly code = 'EVENT_STORE.UNAVAILABLE';

  constructor(
    readonly store: string,
    reason: string,
  ) {
    super(`The event store ${store} cannot be reached: ${reason}`);
    this.name = 'EventStoreUnavailableError';
  }
}
