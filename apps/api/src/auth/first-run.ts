import { existsSync, rmSync } from 'node:fs';
import { SettingsError, type Settings } from '@stagecraft/config';
import { generateApiKey } from './api-key.credentials';
import { readApiKeysFile, updateApiKeysFile, writeApiKeysFile } from './api-keys.file';
import { withFileLockSync } from './file-lock';

/** The first admin key a start made: the key, to show once, and its id, to take it back should it never be shown. */
export interface FirstAdminKey {
  readonly key: string;
  readonly id: string;
}

/**
 * The first `npm start` must work without setup and without leaving the door open: when no key
 * and no JWT key is configured, make an admin key, show it once, and keep only its hash.
 * Returns the key when one was made.
 *
 * Written under the keys file's lock, and only while the file is still missing: two instances
 * started at once on an empty folder make one key between them (the second's used to replace the
 * first's, so the key one of them showed was refused).
 */
export async function ensureFirstAdminKey(settings: Settings, now: Date): Promise<FirstAdminKey | undefined> {
  const { auth } = settings;
  if (auth.mode === 'off' || auth.jwt || auth.inlineApiKeys || existsSync(auth.apiKeysFile)) return undefined;
  const { key, stored } = generateApiKey({ name: 'admin', roles: ['admin'] }, now);
  try {
    const made = await updateApiKeysFile(auth.apiKeysFile, ({ keys, exists }) => (exists ? { keys, result: false } : { keys: [stored], result: true }));
    return made ? { key, id: stored.id } : undefined;
  } catch (error) {
    // A keys file another start made meanwhile that does not read is named as at any start.
    if (error instanceof SettingsError) throw error;
    throw new SettingsError('API_KEYS_FILE', `${auth.apiKeysFile} cannot be written for the first admin key: ${(error as Error).message}`);
  }
}

/**
 * Takes back a first admin key nobody saw (start-up failed or was stopped before the banner): a
 * key nobody knows is of no use, and while it is there no later start makes one to show. Only
 * that key: a key added meanwhile (`npm run api-keys -- add` while a slow start-up ran) is
 * someone else's and stays. The file goes when nothing else is in it, so the next start makes
 * and shows a new key. Synchronous, as it runs while the process ends by a signal.
 */
export function dropFirstAdminKey(file: string, id: string): void {
  withFileLockSync(`${file}.lock`, () => {
    if (!existsSync(file)) return;
    const keys = readApiKeysFile(file);
    const kept = keys.filter((key) => key.id !== id);
    if (kept.length === keys.length) return;
    if (kept.length === 0) rmSync(file, { force: true });
    else writeApiKeysFile(file, kept);
  });
}
