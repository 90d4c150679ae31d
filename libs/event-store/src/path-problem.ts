import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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

/** A file system refusal (ENOENT, ELOOP, ENAMETOOLONG…) in the words a path's problem is said in. */
export function reasonOf(error: NodeJS.ErrnoException): string {
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
