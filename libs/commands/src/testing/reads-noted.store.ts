import type { EventStore, ReadStreamOptions } from '@stagecraft/event-store';

/**
 * The same store, telling `onRead` of every stream read it serves (what a spec counts to show
 * that a load read only past a snapshot, or nothing at all). Every other member is the store's own.
 */
export function readsNoted(store: EventStore, onRead: (stream: string, options: ReadStreamOptions | undefined) => void): EventStore {
  return new Proxy(store, {
    get(target, key) {
      if (key === 'readStream') {
        return (stream: string, options?: ReadStreamOptions) => {
          onRead(stream, options);
          return target.readStream(stream, options);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
