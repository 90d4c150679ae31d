import type { EventStore, SubscriptionMessage, SubscribeToAllOptions } from '@stagecraft/event-store';

/**
 * The store as it stood at position `cap`: a projector following it catches up at `cap` and then
 * hears nothing more (the bench measures the read side at a smaller size, then lets a projector
 * on the real store resume from that checkpoint).
 */
export function cappedEventStore(store: EventStore, cap: number): EventStore {
  return {
    appendToStream: () => Promise.reject(new Error('the capped store is read-only')),
    readStream: (stream, options) => store.readStream(stream, options),
    readAll: async (options) => (await store.readAll(options)).filter((event) => event.position <= cap),
    headPosition: async () => Math.min(cap, await store.headPosition()),
    health: () => store.health(),
    close: () => Promise.resolve(),
    subscribeToAll: (options: SubscribeToAllOptions = {}) => capped(store.subscribeToAll(options), cap, options.signal),
  };
}

async function* capped(messages: AsyncIterable<SubscriptionMessage>, cap: number, signal: AbortSignal | undefined): AsyncIterable<SubscriptionMessage> {
  for await (const message of messages) {
    const position = message.type === 'event' ? message.event.position : message.position;
    if (position > cap || (message.type === 'caughtUp' && position >= cap)) {
      yield { type: 'caughtUp', position: cap };
      // Silent from here on, until the reader stops.
      if (signal && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      return;
    }
    yield message;
  }
}
