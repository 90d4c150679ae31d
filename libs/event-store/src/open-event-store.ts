import type { EventStore } from './event-store.port';
import { redactCredentials } from './kurrentdb/kurrentdb-connection-string';
import { getKurrentDBEventStore } from './kurrentdb/kurrentdb-event-store';
import { getSQLiteEventStore } from './sqlite/sqlite-event-store';

/** The settings that choose and open a store. */
export interface EventStoreSettings {
  /** KurrentDB / EventStoreDB connection string; unset: the embedded SQLite file. */
  readonly eventStoreUrl?: string;
  readonly eventStorePath: string;
  readonly durability: 'full' | 'normal';
}

/**
 * The one place the event store is chosen, for the API, the projector and the CLI alike: EVENT_STORE_URL
 * names a KurrentDB / EventStoreDB node or cluster; without it, the embedded SQLite file. `appends`:
 * this process writes events (the API), so a file it may not write stops it at start.
 */
export function openEventStore(settings: EventStoreSettings, use: { readonly appends?: boolean } = {}): EventStore {
  if (settings.eventStoreUrl !== undefined) {
    return getKurrentDBEventStore({
      connectionString: settings.eventStoreUrl,
      onReconnect: (attempt, error) => console.warn(`KurrentDB subscription dropped (${redactCredentials(error.message)}); resubscribing, attempt ${attempt}`),
    });
  }
  return getSQLiteEventStore({
    path: settings.eventStorePath,
    durability: settings.durability,
    ...(use.appends ? { appends: true } : {}),
    // Commands now answer 503 and /health says unavailable: say why, where an operator looks.
    onWriterFailure: (error) => console.error(`SQLite event store ${settings.eventStorePath}: ${error.message}. Commands fail until the process is restarted.`),
  });
}
