import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SettingsError } from '@stagecraft/config';
import { problemWithStoredKey, type StoredApiKey } from './api-key.credentials';

/** Reads a keys file; a missing file is an empty list, a malformed one stops start-up. */
export function readApiKeysFile(file: string): StoredApiKey[] {
  if (!existsSync(file)) return [];
  return parseApiKeys(readFileSync(file, 'utf8'), file);
}

export function parseApiKeys(text: string, source: string): StoredApiKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(source, `is not valid JSON: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new SettingsError(source, 'must hold { "keys": [ … ] }');
  list.forEach((entry, index) => {
    const problem = problemWithStoredKey(entry);
    if (problem) throw new SettingsError(source, `keys[${index}]: ${problem}`);
  });
  return list as StoredApiKey[];
}

/** Writes the keys file owner-only (0600), replacing it atomically. */
export function writeApiKeysFile(file: string, keys: readonly StoredApiKey[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
