import type { EventEmitter } from 'node:events';

/** `work`, or a rejection naming `what` once `ms` have passed without it. */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer from the broker within ${ms} ms (${what})`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves on the first of `names` the emitter emits, or rejects after `ms`, and leaves none of
 * its listeners behind either way. The AMQP channel lives across batches: a `once` per name, of
 * which only one ever fires, left one listener per wait for the broker to take more, without end
 * under sustained back-pressure.
 */
export async function firstEvent(emitter: EventEmitter, names: readonly string[], ms: number, what: string): Promise<void> {
  let heard!: () => void;
  const emitted = new Promise<void>((resolve) => (heard = resolve));
  for (const name of names) emitter.on(name, heard);
  try {
    await within(emitted, ms, what);
  } finally {
    for (const name of names) emitter.off(name, heard);
  }
}
