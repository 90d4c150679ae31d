import type { EventEmitter } from 'node:events';

/**
 * Resolves on the first of `names` the emitter emits, or rejects after `ms`, and leaves none of
 * its listeners behind either way. The AMQP channel lives across batches: a `once` per name, of
 * which only one ever fires, left one listener per wait for the broker to take more, without end
 * under sustained back-pressure.
 */
export async function firstEvent(emitter: EventEmitter, names: readonly string[], ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let heard!: () => void;
  try {
    await new Promise<void>((resolve, reject) => {
      heard = resolve;
      for (const name of names) emitter.on(name, heard);
      timer = setTimeout(() => reject(new Error(`no answer from the broker within ${ms} ms (${what})`)), ms);
    });
  } finally {
    clearTimeout(timer);
    for (const name of names) emitter.off(name, heard);
  }
}
