import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// A disk that fills up, for the specs of what a full disk does: a small tmpfs, which only root can
// mount on Linux. Elsewhere those specs are skipped with the reason this gives.

/** Mounts a tmpfs of `size` (mount's notation, "2m") at `mountPoint`; the reason it cannot here, or undefined once mounted. */
export function mountSmallDisk(mountPoint: string, size: string): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux to mount a small tmpfs';
  try {
    mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `mounting a tmpfs failed here (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Fills the file system with one file until it is full, to the last byte that fits; returns the file to free it later. */
export function fillDisk(folder: string): string {
  const filler = join(folder, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (const size of [64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}
