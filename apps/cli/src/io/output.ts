import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { CliError } from '../cli.errors';

export interface Output {
  write(text: string): Promise<void>;
  /** Ends the output: a file takes its name only now. */
  close(): Promise<void>;
  /** Drops what was written to a file (a failed export leaves the file as it was, or none). */
  abandon(): void;
}

/**
 * Where an export goes: a file (owner-only, like the store it copies: it holds every deal) or
 * stdout. Writes wait for the stream to drain, so a big export never piles up in memory. A file is
 * written beside its name and renamed over it once complete: an export that fails half-way, or
 * that reads what `--out` names, never empties an existing file first.
 */
export function openOutput(file: string | undefined): Output {
  const partial = file === undefined ? undefined : join(dirname(file), `.${basename(file)}.partial-${process.pid}`);
  const stream: Writable = partial === undefined ? process.stdout : createWriteStream(partial, { mode: 0o600, flags: 'wx' });
  const failure =
    file === undefined
      ? undefined
      : once(stream, 'open').then(
          () => undefined,
          (error: Error) => {
            throw new CliError(`Cannot write ${file}: ${error.message}`);
          },
        );
  failure?.catch(() => undefined); // awaited by write and close
  return {
    async write(text) {
      if (failure) await failure;
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async close() {
      if (file === undefined || partial === undefined) return;
      if (failure) await failure;
      stream.end();
      await once(stream, 'finish');
      renameSync(partial, file);
    },
    abandon() {
      if (partial === undefined) return;
      stream.destroy();
      rmSync(partial, { force: true });
    },
  };
}
