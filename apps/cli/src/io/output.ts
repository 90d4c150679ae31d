import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { CliError } from '../cli.errors';

export interface Output {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where an export goes: a file (owner-only, like the store it copies: it holds every deal) or
 * stdout. Writes wait for the stream to drain, so a big export never piles up in memory.
 */
export function openOutput(file: string | undefined): Output {
  const stream: Writable = file === undefined ? process.stdout : createWriteStream(file, { mode: 0o600 });
  const failure =
    file === undefined
      ? undefined
      : once(stream, 'open').then(
          () => undefined,
          (error: Error) => {
            throw new CliError(`Cannot write ${file}: ${error.message}`);
          },
        );
  return {
    async write(text) {
      if (failure) await failure;
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async close() {
      if (file === undefined) return;
      if (failure) await failure;
      stream.end();
      await once(stream, 'finish');
    },
  };
}
