import { existsSync } from 'node:fs';
import { SettingsError, type Settings } from '@stagecraft/config';
import { generateApiKey } from './api-key.credentials';
import { writeApiKeysFile } from './api-keys.file';

/**
 * The first `npm start` must work without setup and without leaving the door open: when no key
 * and no JWT key is configured, make an admin key, show it once, and keep only its hash.
 * Returns the key when one was made.
 */
export function ensureFirstAdminKey(settings: Settings, now: Date): string | undefined {
  const { auth } = settings;
  if (auth.mode === 'off' || auth.jwt || auth.inlineApiKeys || existsSync(auth.apiKeysFile)) return undefined;
  const { key, stored } = generateApiKey({ name: 'admin', roles: ['admin'] }, now);
  try {
    writeApiKeysFile(auth.apiKeysFile, [stored]);
  } catch (error) {
    throw new SettingsError('API_KEYS_FILE', `${auth.apiKeysFile} cannot be written for the first admin key: ${(error as Error).message}`);
  }
  return key;
}
