import { quotedValue } from '@stagecraft/sales-process';
import { isRole, ROLES, type Role } from './role.names';

/** What `npm run api-keys` was asked to do, its arguments read and checked; nothing read from disk yet. */
export type KeysCommand =
  | { readonly command: 'add'; readonly name: string; readonly roles: readonly Role[]; readonly teams?: readonly string[]; readonly onBehalf: boolean }
  | { readonly command: 'list'; readonly extra: readonly string[] }
  | { readonly command: 'revoke'; readonly id: string };

/** An operator's mistake in the arguments: printed as it is, exit 2. */
export class KeysUsageError extends Error {}

function refuse(message: string): never {
  throw new KeysUsageError(message);
}

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
    if (name !== 'name' && name !== 'roles' && name !== 'teams') refuse(`add does not take ${quotedValue(arg)}; it takes --name, --roles, --teams and --on-behalf`);
    if (found[name] !== undefined) refuse(`add takes --${name} once`);
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--')) refuse(`--${name} needs a value`);
    found[name] = value;
    index += 1;
  }
  return found;
}

/**
 * The command line read without the settings, the keys file or the key's own rules, so that a
 * mistake in it is answered before the CLI loads any of those (most of its start-up time).
 * Throws KeysUsageError.
 */
export function keysCommandOf(args: readonly string[]): KeysCommand {
  const [command, ...rest] = args;
  switch (command) {
    case 'add': {
      const options = addOptions(rest);
      const name = options.name ?? refuse('add needs --name <who uses the key>');
      const roles = (options.roles ?? refuse(`add needs --roles, from ${ROLES.join(', ')}`)).split(',');
      const unknown = roles.filter((role) => !isRole(role));
      // Quoted: an empty one (a stray comma, --roles "") would otherwise be named as nothing at all.
      if (unknown.length > 0) refuse(`unknown role(s) ${unknown.map((role) => quotedValue(role)).join(', ')}; roles are ${ROLES.join(', ')}, separated by commas`);
      if (new Set(roles).size !== roles.length) refuse('--roles names a role twice');
      // Each team once, as POST /admin/api-keys keeps them.
      const teams = options.teams === undefined ? undefined : [...new Set(options.teams.split(','))];
      // As POST /admin/api-keys takes them: ids without spaces (" partners" would be a team of its own).
      if (teams !== undefined && (teams.length === 0 || teams.some((team) => !/^\S+$/.test(team)))) refuse('--teams needs team ids separated by commas, without spaces (leave it out for every team)');
      return { command, name, roles: roles as Role[], ...(teams ? { teams } : {}), onBehalf: options.onBehalf };
    }
    case 'list':
      // Refused once the file is known, which the refusal names.
      return { command, extra: rest };
    case 'revoke': {
      const id = rest[0] ?? refuse('revoke needs the key id (see list)');
      if (rest.length > 1) refuse(`revoke takes one key id (got ${rest.length} arguments)`);
      return { command, id };
    }
    default:
      return refuse('usage: npm run api-keys -- add --name <name> --roles <r1,r2> [--teams t1,t2] [--on-behalf] | list | revoke <id>');
  }
}
