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
          (error: NodeJS.ErrnoException) => {
            throw new CliError(`Cannot write ${file}: ${whyNotWritable(error, file)}`);
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
      // Nothing to remove when it could not be made (a missing folder, one that is a file): the
      // refusal that brought us here is what to report, not this.
      try {
        rmSync(partial, { force: true });
      } catch {
        // it was never made
      }
    },
  };
}

/** Why the file cannot be made, in the words of `--out` (the error names the hidden .partial file it is written as first). */
function whyNotWritable(error: NodeJS.ErrnoException, file: string): string {
  const folder = dirname(file);
  switch (error.code) {
    case 'ENOENT':
      return `its folder ${folder} does not exist; make it first, or give another path.`;
    case 'ENOTDIR':
      return `${folder} is not a folder.`;
    case 'EACCES':
    case 'EPERM':
      return `this user may not write in ${folder}.`;
    case 'EROFS':
      return `${folder} is on a read-only file system.`;
    case 'ENOSPC':
      return 'the disk is full.';
    default:
      return error.message.replaceAll(join(folder, `.${basename(file)}.partial-${process.pid}`), file);
  }
}
