import { closeSync, constants, openSync, readFileSync, readlinkSync, readSync, statSync } from 'node:fs';
import { MAX_CONFIGURATION_FILE_BYTES } from './utf8-file';

/** How long a FIFO may stay without a writer, or a writer without closing, before start-up gives up on it. */
const WAIT_FOR_WRITER_MS = 10_000;
const POLL_MS = 20;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The text of a setting's file that may come through a pipe (`<(vault read …)`, a FIFO a sidecar
 * writes into) and not only a regular file. A plain read of a FIFO waits for a writer for ever,
 * unmoved by SIGTERM since the event loop is blocked: start-up hung without a word. So a pipe is
 * read without blocking, as its writer writes, until it closes; a writer is waited for at most
 * WAIT_FOR_WRITER_MS, and one that writes nothing, or a device that never ends, is refused.
 */
export function readPipedText(file: string, waitMs = WAIT_FOR_WRITER_MS): string {
  const stats = statSync(file);
  if (stats.isFile()) return readFileSync(file, 'utf8');
  if (stats.isDirectory()) throw new Error(`${file} is a folder, not a file`);
  const unnamed = stats.isFIFO() && isUnnamedPipe(file);
  const kind = unnamed ? 'a pipe' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device';
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const chunks: Buffer[] = [];
  let total = 0;
  let writerSeen = false;
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      let read: number;
      try {
        read = readSync(fd, chunk, 0, chunk.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        read = -1; // a writer is there, and has nothing more yet
      }
      if (read > 0) {
        total += read;
        if (total > MAX_CONFIGURATION_FILE_BYTES) throw new Error(`${file} is ${kind} that gave more than ${MAX_CONFIGURATION_FILE_BYTES} bytes; a key is a few hundred`);
        chunks.push(chunk.subarray(0, read));
        writerSeen = true;
        continue;
      }
      if (read === -1) writerSeen = true;
      // Ended: its writer closed it, or a device (/dev/null) has no more. A FIFO no writer has opened
      // yet reads as ended too: wait for one. Not a pipe of <(…): its writer held it from the start,
      // so ended means that writer is gone, and none can come.
      else if (writerSeen || !stats.isFIFO() || unnamed) break;
      if (Date.now() >= deadline) {
        throw new Error(`${file} is ${kind}, and ${writerSeen ? 'its writer did not finish' : 'nothing opened it to write'} within ${waitMs / 1000} s`);
      }
      sleep(POLL_MS);
    }
  } finally {
    closeSync(fd);
  }
  if (total === 0) {
    throw new Error(unnamed ? `${file} is a pipe whose writer ended without writing anything (the command in <(…) failed, or printed nothing)` : `${file} is ${kind}, and nothing was written into it`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Whether a path is an unnamed pipe handed over as /dev/fd/<n> (bash's `<(…)`), rather than a FIFO
 * made on disk with mkfifo, which a writer may still open later. Linux names it `pipe:[<inode>]`.
 */
function isUnnamedPipe(file: string): boolean {
  try {
    return /^pipe:\[\d+\]$/.test(readlinkSync(file));
  } catch {
    return false; // not a link: a FIFO on disk
  }
}
