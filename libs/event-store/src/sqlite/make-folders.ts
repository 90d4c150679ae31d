import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one folder at a time, from the deepest one that exists. Node's recursive mkdirSync
 * loops for ever on a path under /proc (each level keeps answering ENOENT), so a setting naming a
 * file there hung start-up with no output; here the first folder that cannot be made throws its
 * own error (ENOENT, ENOTDIR, EACCES…). A folder made meanwhile by another process is fine.
 * Beside the SQLite files' code: the writer thread loads that folder's files alone.
 */
export function makeFolders(path: string): void {
  const missing: string[] = [];
  for (let at = resolve(path); !existsSync(at); ) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
