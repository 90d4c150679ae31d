import { pathProblem } from '@stagecraft/event-store';

// pathProblem lives beside the SQLite files' checks, which word a path the same way; said from here too.
export { pathProblem };

/** Characters of a path a message prints: a path of thousands is cut, saying how long it was. */
const SHOWN_PATH_LENGTH = 200;

/** A path as a message prints it. */
export function shownPath(path: string): string {
  return path.length <= SHOWN_PATH_LENGTH ? path : `${path.slice(0, SHOWN_PATH_LENGTH)}… (${path.length} characters)`;
}

/**
 * Why a configuration file could not be read, for a person: the system's refusals (a link to
 * nothing, one that loops, a folder of its path denied) in the words path settings use, rather
 * than as an error code and a system call; the reader's own refusals (a FIFO, not UTF-8) as said.
 */
export function unreadableFileReason(file: string, error: unknown): string {
  const worded = (error as NodeJS.ErrnoException).code !== undefined ? pathProblem(file, 'file') : undefined;
  return worded ?? `cannot be read: ${(error as Error).message}`;
}
