import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Characters of a path a message prints: a path of thousands is cut, saying how long it was. */
const SHOWN_PATH_LENGTH = 200;

/** A path as a message prints it. */
export function shownPath(path: string): string {
  return path.length <= SHOWN_PATH_LENGTH ? path : `${path.slice(0, SHOWN_PATH_LENGTH)}… (${path.length} characters)`;
}

/**
 * What keeps a setting's path from being the file or folder it must be, worded to follow the path
 * ("does not exist", "is a symbolic link that loops back on itself"…), or undefined when it is one.
 * A symbolic link is told apart from a missing path: a link to nothing is someone's mistake, and
 * was reported as a file that "does not exist", or skipped where a missing file is optional.
 */
export function pathProblem(path: string, kind: 'file' | 'folder'): string | undefined {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch (error) {
    return reasonOf(error as NodeJS.ErrnoException);
  }
  try {
    const stats = statSync(path);
    if (kind === 'folder' && !stats.isDirectory()) return 'is a file, not a folder';
    if (kind === 'file' && stats.isDirectory()) return 'is a folder, not a file';
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (link && code === 'ELOOP') return 'is a symbolic link that loops back on itself';
    if (link && code === 'ENOENT') return `is a symbolic link to ${targetOf(path)}, which does not exist`;
    return reasonOf(error as NodeJS.ErrnoException);
  }
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

function reasonOf(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENAMETOOLONG':
      return 'is longer than a path may be';
    case 'ENOTDIR':
      return 'has a file where a folder of its path should be';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be reached: permission denied on a folder of its path (check their owner and mode)';
    case 'ELOOP':
      return 'goes through symbolic links that loop back on themselves';
    default:
      return `cannot be used: ${error.message}`;
  }
}

function targetOf(link: string): string {
  try {
    return resolve(dirname(link), readlinkSync(link));
  } catch {
    return 'a path';
  }
}
