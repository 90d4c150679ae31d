import { existsSync } from 'node:fs';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import type { ApiSettings } from '../../../api/src/settings/api-settings';
import { CliError } from '../cli.errors';

/** The configured store, for commands that only read: it must exist (reading must not create an empty one). */
export function openExistingStore(settings: ApiSettings): EventStore {
  if (!existsSync(settings.eventStorePath)) {
    throw new CliError(`There is no event store at ${settings.eventStorePath} (EVENT_STORE_PATH).`);
  }
  return getSQLiteEventStore({ path: settings.eventStorePath, durability: settings.durability });
}
