// npm run api-keys -- add --name billing-service --roles writer [--teams direct,partners] [--on-behalf]
// npm run api-keys -- list
// npm run api-keys -- revoke <key id>
// Works on the keys file the API reads (API_KEYS_FILE, default ./data/api-keys.json), under its
// lock; running API instances apply the change within about a second, without a restart.
import { readSettings, SettingsError } from '@stagecraft/config';
import { escapeUnseen, quotedValue } from '@stagecraft/sales-process';
import { existsSync } from 'node:fs';
import { generateApiKey, problemWithNewKey } from './api-key.credentials';
import { readApiKeysFile, updateApiKeysFile, withoutKey } from './api-keys.file';
import { FileLockTimeoutError } from './file-lock';
import { isRole, ROLES, type Role } from './roles';

/**
 * The options of `add`, read strictly: an unknown one (`--team` for `--teams`) must not pass as
 * absent, which would make a key for every team; a value is never another option.
 */
function addOptions(args: readonly string[]): { name?: string; roles?: string; teams?: string; onBehalf: boolean } {
  const found: { name?: string; roles?: string; teams?: string; onBehalf: boolean } = { onBehalf: false };
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--on-behalf') {
      found.onBehalf = true;
      continue;
    }
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name !== 'name' && name !== 'roles' && name !== 'teams') fail(`add does not take ${quotedValue(arg)}; it takes --name, --roles, --teams and --on-behalf`);
    if (found[name] !== undefined) fail(`add takes --${name} once`);
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--')) fail(`--${name} needs a value`);
    found[name] = value;
    index += 1;
  }
  return found;
}

/**
 * What the operator typed or the keys file holds, shown bare in a line (a key's name, the file's
 * path): each character a terminal acts on rather than shows (ESC, a line break, a bidirectional
 * override, a zero-width character) written as its escape, as the API and the stagecraft CLI show
 * text; the joiners and a flag's tags are part of a name and stay. A value quoted goes through quotedValue.
 */
function shown(text: string): string {
  return escapeUnseen(text, { keepPartsOfText: true });
}

function fail(message: string): never {
  // Escaped whole as well: an error's own words (a lock's, the file system's) may name the path.
  console.error(escapeUnseen(message));
  process.exit(2);
}

async function main(args: string[]): Promise<void> {
  const file = readSettings().auth.apiKeysFile;
  const [command, ...rest] = args;
  switch (command) {
    case 'add': {
      const options = addOptions(rest);
      const name = options.name ?? fail('add needs --name <who uses the key>');
      const roles = (options.roles ?? fail(`add needs --roles, from ${ROLES.join(', ')}`)).split(',');
      const unknown = roles.filter((role) => !isRole(role));
      // Quoted: an empty one (a stray comma, --roles "") would otherwise be named as nothing at all.
      if (unknown.length > 0) fail(`unknown role(s) ${unknown.map((role) => quotedValue(role)).join(', ')}; roles are ${ROLES.join(', ')}, separated by commas`);
      if (new Set(roles).size !== roles.length) fail('--roles names a role twice');
      // Each team once, as POST /admin/api-keys keeps them.
      const teams = options.teams === undefined ? undefined : [...new Set(options.teams.split(','))];
      // As POST /admin/api-keys takes them: ids without spaces (" partners" would be a team of its own).
      if (teams !== undefined && (teams.length === 0 || teams.some((team) => !/^\S+$/.test(team)))) fail('--teams needs team ids separated by commas, without spaces (leave it out for every team)');
      const { key, stored } = generateApiKey({ name, roles: roles as Role[], ...(teams ? { teams } : {}), mayActOnBehalf: options.onBehalf }, new Date());
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
      if (rest.length > 0) fail(`list takes no arguments (got ${rest.map((arg) => quotedValue(arg)).join(' ')}); it lists every key in ${shown(file)}`);
      const keys = readApiKeysFile(file);
      if (!existsSync(file)) console.log(`No keys file at ${shown(file)} (API_KEYS_FILE). A running API instance whose file went missing still accepts the keys it last read from it.`);
      else if (keys.length === 0) console.log(`No keys in ${shown(file)}.`);
      for (const key of keys) {
        console.log(`${key.id}  ${shown(key.name).padEnd(24)} ${key.roles.join(',').padEnd(28)} ${key.teams ? `teams=${shown(key.teams.join(','))}` : 'all teams'}${key.mayActOnBehalf ? '  on-behalf' : ''}  created ${key.createdAt}`);
      }
      return;
    }
    case 'revoke': {
      const id = rest[0] ?? fail('revoke needs the key id (see list)');
      if (rest.length > 1) fail(`revoke takes one key id (got ${rest.length} arguments)`);
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
    default:
      fail('usage: npm run api-keys -- add --name <name> --roles <r1,r2> [--teams t1,t2] [--on-behalf] | list | revoke <id>');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SettingsError || error instanceof FileLockTimeoutError) fail(error.message);
  // A file this user may not read or write, a full disk: one line, no stack.
  if ((error as NodeJS.ErrnoException)?.code !== undefined) fail(`the keys file cannot be used: ${(error as Error).message}`);
  throw error;
});
