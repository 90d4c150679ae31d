import { isUtf8 } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';

/**
 * A configuration file's text, which must be UTF-8: read with 'utf8' alone, a Latin-1 "été"
 * would become "\uFFFD t\uFFFD" and be recorded so (a process version's name, say), silently.
 */
export function readUtf8(file: string): string {
  assertConfigurationFile(file);
  const bytes = readFileSync(file);
  if (!isUtf8(bytes)) throw new Error('it is not UTF-8 text; save it as UTF-8');
  return bytes.toString('utf8');
}

/** What a configuration file may weigh: far past any real one, and short of what would stall start-up. */
export const MAX_CONFIGURATION_FILE_BYTES = 4 * 1024 * 1024;

/**
 * A regular file of a sensible size: a FIFO in its place would hang start-up for ever (reading
 * waits for a writer), a device or a huge file would stall it.
 */
export function assertConfigurationFile(file: string): void {
  const stats = statSync(file);
  if (!stats.isFile()) throw new Error(`it is ${stats.isDirectory() ? 'a folder' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device'}, not a file`);
  if (stats.size > MAX_CONFIGURATION_FILE_BYTES) throw new Error(`it is ${stats.size} bytes; a configuration file is at most ${MAX_CONFIGURATION_FILE_BYTES} bytes`);
}
