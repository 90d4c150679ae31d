import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { firstRepeatedName, readUtf8, SettingsError } from '@stagecraft/config';
import { makeFolders } from '@stagecraft/event-store';
import { problemWithStoredKey, type StoredApiKey } from './api-key.credentials';
import { withFileLock } from './file-lock';

/** Reads a keys file; a missing file is an empty list, a malformed one stops start-up. */
export function readApiKeysFile(file: string): StoredApiKey[] {
  if (!existsSync(file)) return [];
  let text: string;
  try {
    text = readUtf8(file);
  } catch (error) {
    throw new ApiKeysFileError(file, `cannot be read: ${(error as Error).message}`);
  }
  return parseApiKeys(text, { file });
}

/**
 * Where keys come from: the API_KEYS variable itself, or a file (API_KEYS_FILE). A refusal names
 * the variable to fix, and the file with it: the variable alone does not say which file it took
 * (its default), and the path alone does not say which setting gave it.
 */
export type ApiKeysSource = 'API_KEYS' | { readonly file: string };

export function parseApiKeys(text: string, source: ApiKeysSource): StoredApiKey[] {
  const read = readApiKeysText(text);
  if ('problem' in read) throw source === 'API_KEYS' ? new SettingsError('API_KEYS', read.problem) : new ApiKeysFileError(source.file, read.problem);
  return read.keys;
}

/** A keys file that cannot be used: API_KEYS_FILE and the file named, and the problem alone for answers that must not show the path. */
export class ApiKeysFileError extends SettingsError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super('API_KEYS_FILE', `${file} ${problem}`);
  }
}

/** The keys a keys file's text (or API_KEYS) holds, or what is wrong with it, worded to follow its name. */
export function readApiKeysText(text: string): { readonly keys: StoredApiKey[] } | { readonly problem: string } {
  let parsed: unknown;
  // An editor's byte order mark is not part of the JSON.
  const json = text.replace(/^\uFEFF/, '');
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { problem: `is not valid JSON: ${(error as Error).message}` };
  }
  // JSON.parse keeps the last of a name given twice: {"keys": [ … ], "keys": []} would be no key.
  const repeatedName = firstRepeatedName(json);
  if (repeatedName !== undefined) return { problem: `gives "${repeatedName}" twice in one object; give it once` };
  const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) return { problem: 'must hold { "keys": [ … ] }' };
  const unknown = Array.isArray(parsed) ? undefined : Object.keys(parsed as object).find((name) => name !== 'keys');
  if (unknown !== undefined) return { problem: `holds "${unknown}", which is not part of a keys file: it holds { "keys": [ … ] } alone` };
  for (const [index, entry] of list.entries()) {
    const problem = problemWithStoredKey(entry);
    if (problem) return { problem: `keys[${index}]: ${problem}` };
  }
  const ids = list.map((entry: StoredApiKey) => entry.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined) return { problem: `key id ${repeated} appears twice` };
  return { keys: list as StoredApiKey[] };
}

/**
 * Writes the keys file owner-only (0600), replacing it atomically: readers see the old file or
 * the new one, never a part. The temporary name is unique, so concurrent writers never share one.
 */
export function writeApiKeysFile(file: string, keys: readonly StoredApiKey[]): void {
  const folder = dirname(file);
  makeFolders(folder);
  const temporary = join(folder, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const descriptor = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(descriptor, `${JSON.stringify({ keys }, null, 2)}\n`);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(folder);
}

/** The keys file as a change finds it under the lock: its keys, and whether it is there at all (missing reads as no key). */
export interface KeysFileNow {
  readonly keys: readonly StoredApiKey[];
  readonly exists: boolean;
}

/**
 * Read-modify-write of the keys file under a lock (`<file>.lock`), so writers racing from several
 * processes (the CLI, every API instance) never lose each other's changes. `change` sees the file
 * as it is now; what it returns is written, unless it is the very list it was given (nothing
 * changed: the file is left as it is). A file that does not parse is not overwritten.
 */
export async function updateApiKeysFile<T>(file: string, change: (now: KeysFileNow) => { keys: readonly StoredApiKey[]; result: T }): Promise<T> {
  makeFolders(dirname(file));
  return withFileLock(`${file}.lock`, () => {
    const exists = existsSync(file);
    const current = exists ? readApiKeysFile(file) : [];
    const { keys, result } = change({ keys: current, exists });
    if (keys !== current) writeApiKeysFile(file, keys);
    return result;
  });
}

/** A key list less the key `id`: the same list (nothing to write) when it holds no such key. */
export function withoutKey(keys: readonly StoredApiKey[], id: string): { keys: readonly StoredApiKey[]; result: boolean } {
  const kept = keys.filter((key) => key.id !== id);
  return kept.length === keys.length ? { keys, result: false } : { keys: kept, result: true };
}

// The rename is durable only once the folder's entry is on disk.
function syncFolder(folder: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(folder, 'r');
    fsyncSync(descriptor);
  } catch {
    // Some file systems cannot open or sync a folder; the rename itself is still atomic.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}
