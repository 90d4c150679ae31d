import { getKurrentDBEventStore, getSQLiteEventStore, redactCredentials, type EventStore } from '@stagecraft/event-store';
import type { ApiSettings } from '../settings/api-settings';

/**
 * The one place the event store is chosen, for the API and the projector alike: EVENT_STORE_URL
 * names a KurrentDB / EventStoreDB node or cluster; without it, the embedded SQLite file.
 */
export function openEventStore(settings: Pick<ApiSettings, 'eventStoreUrl' | 'eventStorePath' | 'durability'>): EventStore {
  if (settings.eventStoreUrl !== undefined) {
    return getKurrentDBEventStore({
      connectionString: settings.eventStoreUrl,
      onReconnect: (attempt, error) => console.warn(`KurrentDB subscription dropped (${redactCredentials(error.message)}); resubscribing, attempt ${attempt}`),
    });
  }
  return getSQLiteEventStore({
    path: settings.eventStorePath,
    durability: settings.durability,
    // Commands now answer 503 and /health says unavailable: say why, where an operator looks.
    onWriterFailure: (error) => console.error(`SQLite event store ${settings.eventStorePath}: ${error.message}. Commands fail until the process is restarted.`),
  });
}
