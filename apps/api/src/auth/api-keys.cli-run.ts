import { readSettings, SettingsError } from '@stagecraft/config';
import { escapeUnseen, quotedValue } from '@stagecraft/sales-process';
import { existsSync } from 'node:fs';
import { generateApiKey, problemWithNewKey } from './api-key.credentials';
import type { KeysCommand } from './api-keys.cli-arguments';
import { readApiKeysFile, updateApiKeysFile, withoutKey } from './api-keys.file';
import { FileLockTimeoutError } from './file-lock';

/**
 * What the operator typed or the keys file holds, shown bare in a line (a key's name, the file's
 * path): each character a terminal acts on rather than shows (ESC, a line break, a bidirectional
 * override, a zero-width character) written as its escape, as the API and the stagecraft CLI show
 * text; the joiners and a flag's tags are part of a name and stay. A value quoted goes through quotedValue.
 */
function shown(text: string): string {
  return escapeUnseen(text, { keepPartsOfText: true });
}

/** Runs a command `keysCommandOf` read on the keys file the settings name; `fail` prints a refusal and exits 2. */
export async function runKeysCommand(command: KeysCommand, fail: (message: string) => never): Promise<void> {
  try {
    await run(command, fail);
  } catch (error) {
    if (error instanceof SettingsError || error instanceof FileLockTimeoutError) fail(error.message);
    // A file this user may not read or write, a full disk: one line, no stack.
    if ((error as NodeJS.ErrnoException)?.code !== undefined) fail(`the keys file cannot be used: ${(error as Error).message}`);
    throw error;
  }
}

async function run(command: KeysCommand, fail: (message: string) => never): Promise<void> {
  const file = readSettings().auth.apiKeysFile;
  switch (command.command) {
    case 'add': {
      const { name, roles, teams, onBehalf } = command;
      const { key, stored } = generateApiKey({ name, roles: [...roles], ...(teams ? { teams: [...teams] } : {}), mayActOnBehalf: onBehalf }, new Date());
      // What the API and this tool will read back: an entry they refuse would make the file unusable.
      const problem = problemWithNewKey(stored);
      if (problem !== undefined) fail(`cannot add this key: ${problem}`);
      const made = await updateApiKeysFile(file, ({ keys, exists }) => ({ keys: [...keys, stored], result: !exists }));
      console.log(`Key ${stored.id} for ${shown(name)} (${roles.join(', ')}${teams ? `; teams ${shown(teams.join(', '))}` : ''}) added to ${shown(file)}.`);
      // A running API that lost its file keeps the keys it last read; this file replaces them all.
      if (made) console.log(`There was no keys file: ${shown(file)} now holds this key alone, and API instances that read keys from that path accept only it (and any key in API_KEYS).`);
      console.log('It is shown once; only its hash is stored. Running API instances accept it within about a second.\n');
      console.log(`  Authorization: Bearer ${key}\n`);
      return;
    }
    case 'list': {
      // As revoke's extra arguments: `list --teams direct` would otherwise pass for a filter and list every key.
      if (command.extra.length > 0) fail(`list takes no arguments (got ${command.extra.map((arg) => quotedValue(arg)).join(' ')}); it lists every key in ${shown(file)}`);
      const keys = readApiKeysFile(file);
      if (!existsSync(file)) console.log(`No keys file at ${shown(file)} (API_KEYS_FILE). A running API instance whose file went missing still accepts the keys it last read from it.`);
      else if (keys.length === 0) console.log(`No keys in ${shown(file)}.`);
      for (const key of keys) {
        console.log(`${key.id}  ${shown(key.name).padEnd(24)} ${key.roles.join(',').padEnd(28)} ${key.teams ? `teams=${shown(key.teams.join(','))}` : 'all teams'}${key.mayActOnBehalf ? '  on-behalf' : ''}  created ${key.createdAt}`);
      }
      return;
    }
    case 'revoke': {
      const { id } = command;
      // Not made by a revoke: an empty keys file would start the API with no key and no way in.
      if (!existsSync(file)) {
        fail(
          `no keys file at ${shown(file)} (API_KEYS_FILE): there is no key ${quotedValue(id)} to revoke in it. A running API instance whose file went missing still accepts the keys it last read from it: restore the file and revoke again, or write {"keys": []} into it to revoke every key`,
        );
      }
      const found = await updateApiKeysFile(file, ({ keys }) => withoutKey(keys, id));
      if (!found) fail(`no key ${quotedValue(id)} in ${shown(file)}`);
      console.log(`Key ${id} revoked; running API instances refuse it within about a second.`);
      return;
    }
  }
}
