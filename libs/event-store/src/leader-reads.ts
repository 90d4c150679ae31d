import type { EventStore } from './event-store.port';

/**
 * The store's stream reads, each asking for the leader (ReadStreamOptions.fromLeader): for a reader
 * that answers from one stream what is stored, and must not deny, for a follower's lag
 * (EventStore.readsMayLag), a deal or a process version recorded moments ago. A store without
 * replicas reads as ever.
 */
export function leaderReads(store: Pick<EventStore, 'readStream'>): Pick<EventStore, 'readStream'> {
  return { readStream: (stream, options) => store.readStream(stream, { ...options, fromLeader: true }) };
}
