import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Makes sure a SQLite file exists and, when this creates it, that it is readable by its owner only
 * (SQLite gives its -wal and -shm files the database file's permissions). Every SQLite file of
 * Stagecraft holds deal data: the events, the read models, the folded streams.
 */
export function ensureOwnerOnlyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
