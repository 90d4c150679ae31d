import { EventStoreAccessDeniedError } from './event-store.errors';
import type { EventStore } from './event-store.port';

/**
 * Reads what a process that follows the log reads first (its head and first event), so that a
 * server refusing this service's user stops start-up (EventStoreAccessDeniedError, which
 * describeStartFailure words naming EVENT_STORE_URL) before anything else is opened, instead of
 * retrying for ever a refusal no retry cures, or being reported as the failure of what was opened
 * next. Any other failure (a server not up yet) is left to the reader, which retries until it answers.
 * The relay and the projector both ask it.
 */
export async function assertMayReadLog(store: EventStore): Promise<void> {
  try {
    await store.headPosition();
    await store.readAll({ maxCount: 1 });
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) throw error;
  }
}
