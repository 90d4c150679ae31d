// npm run api-keys -- add --name billing-service --roles writer [--teams direct,partners] [--on-behalf]
// npm run api-keys -- list
// npm run api-keys -- revoke <key id>
// Works on the keys file the API reads (API_KEYS_FILE, default ./data/api-keys.json), under its
// lock; running API instances apply the change within about a second, without a restart.
import { readSettings, SettingsError } from '@stagecraft/config';
import { generateApiKey } from './api-key.credentials';
import { readApiKeysFile, updateApiKeysFile } from './api-keys.file';
import { FileLockTimeoutError } from './file-lock';
import { isRole, ROLES, type Role } from './roles';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

async function main(args: string[]): Promise<void> {
  const file = readSettings().auth.apiKeysFile;
  const [command, ...rest] = args;
  switch (command) {
    case 'add': {
      const name = option(rest, 'name') ?? fail('add needs --name <who uses the key>');
      const roles = (option(rest, 'roles') ?? fail(`add needs --roles, from ${ROLES.join(', ')}`)).split(',');
      const unknown = roles.filter((role) => !isRole(role));
      if (unknown.length > 0) fail(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
      const teams = option(rest, 'teams')?.split(',').filter(Boolean);
      const { key, stored } = generateApiKey({ name, roles: roles as Role[], ...(teams ? { teams } : {}), mayActOnBehalf: rest.includes('--on-behalf') }, new Date());
      await updateApiKeysFile(file, (keys) => ({ keys: [...keys, stored], result: undefined }));
      console.log(`Key ${stored.id} for ${name} (${roles.join(', ')}${teams ? `; teams ${teams.join(', ')}` : ''}) added to ${file}.`);
      console.log('It is shown once; only its hash is stored. Running API instances accept it within about a second.\n');
      console.log(`  Authorization: Bearer ${key}\n`);
      return;
    }
    case 'list': {
      const keys = readApiKeysFile(file);
      if (keys.length === 0) console.log(`No keys in ${file}.`);
      for (const key of keys) {
        console.log(`${key.id}  ${key.name.padEnd(24)} ${key.roles.join(',').padEnd(28)} ${key.teams ? `teams=${key.teams.join(',')}` : 'all teams'}${key.mayActOnBehalf ? '  on-behalf' : ''}  created ${key.createdAt}`);
      }
      return;
    }
    case 'revoke': {
      const id = rest[0] ?? fail('revoke needs the key id (see list)');
      const found = await updateApiKeysFile(file, (keys) => ({ keys: keys.filter((key) => key.id !== id), result: keys.some((key) => key.id === id) }));
      if (!found) fail(`no key ${id} in ${file}`);
      console.log(`Key ${id} revoked; running API instances refuse it within about a second.`);
      return;
    }
    default:
      fail('usage: npm run api-keys -- add --name <name> --roles <r1,r2> [--teams t1,t2] [--on-behalf] | list | revoke <id>');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof SettingsError || error instanceof FileLockTimeoutError) fail(error.message);
  throw error;
});
