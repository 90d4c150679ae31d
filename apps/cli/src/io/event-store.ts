import { existsSync } from 'node:fs';
import { openEventStore, type EventStore } from '@stagecraft/event-store';
import type { Settings } from '@stagecraft/config';
import { CliError } from '../cli.errors';

/**
 * The configured store (EVENT_STORE_URL, else the SQLite file), as the API opens it, for commands
 * that only read: an embedded store must exist (reading must not create an empty one).
 */
export function openExistingStore(settings: Settings): EventStore {
  assertStoreExists(settings);
  return openEventStore(settings);
}

export function assertStoreExists(settings: Settings): void {
  if (settings.eventStoreUrl === undefined && !existsSync(settings.eventStorePath)) {
    throw new CliError(`There is no event store at ${settings.eventStorePath} (EVENT_STORE_PATH).`);
  }
}

/** Where the events live, for a message: the SQLite file, or the server EVENT_STORE_URL names (EVENT_STORE_PATH is then not used). */
export function storeWhere(settings: Settings): string {
  return settings.eventStoreUrl === undefined ? settings.eventStorePath : 'the event store (EVENT_STORE_URL)';
}
