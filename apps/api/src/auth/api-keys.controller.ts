import { existsSync } from 'node:fs';
import { Body, Controller, Delete, Get, HttpCode, Inject, Logger, Param, Post } from '@nestjs/common';
import { SettingsError } from '@stagecraft/config';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { ApiProblem } from '../http/problem';
import { CLOCK, type Clock } from '../settings/api-settings.token';
import { generateApiKey, type StoredApiKey } from './api-key.credentials';
import { ApiKeyStore } from './api-key.store';
import { ApiKeysFileError, readApiKeysFile, updateApiKeysFile, withoutKey } from './api-keys.file';
import { CreateApiKeyDto } from './api-keys.dto';
import { CurrentPrincipal } from './current-principal.decorator';
import { FileLockTimeoutError } from './file-lock';
import { assertUnlimited, callerInLog, type Principal } from './principal';
import { ROLES_SCHEMA, TEAMS_LIMIT_SCHEMA } from './caller.answer-schemas';
import { Allow } from './roles';
import { AUDIT_CONTEXT } from '../start-up.logger';

/** What may be shown of a key: never its salt or hash, and the secret only once, when made. */
function describeKey(key: StoredApiKey, source: 'file' | 'API_KEYS') {
  return { id: key.id, name: key.name, roles: key.roles, teams: key.teams ?? null, mayActOnBehalf: key.mayActOnBehalf === true, createdAt: key.createdAt, source };
}

/** A key as the listing and the answer that makes it describe it (never a secret, salt or hash). */
const KEY_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'roles', 'teams', 'mayActOnBehalf', 'createdAt', 'source'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    roles: ROLES_SCHEMA,
    teams: TEAMS_LIMIT_SCHEMA,
    mayActOnBehalf: { type: 'boolean' },
    createdAt: { type: 'string', format: 'date-time' },
    source: { type: 'string', enum: ['file', 'API_KEYS'] },
  },
} satisfies SchemaObject;

/**
 * Key administration over HTTP, the same changes as `npm run api-keys`: written to the keys file
 * under its lock, so every instance reading that file applies them within about a second.
 */
/** An admin limited to teams could otherwise make itself a key without that limit. */
/**
 * What a key may do, as its audit line says it: every power, naming an empty team list (it sees no
 * team: a blank would read as a slip) and the power to act for others (X-Actor), as wide as its roles.
 */
function powersInLog(key: StoredApiKey): string {
  const teams = key.teams === undefined ? 'all' : key.teams.length === 0 ? 'none' : key.teams.join(', ');
  return `${JSON.stringify(key.name)}, roles ${key.roles.join(', ')}; teams ${teams}${key.mayActOnBehalf ? '; acts on behalf of others with X-Actor' : ''}`;
}

// Another writer lets go of the file within moments.
const RETRY_AFTER_BUSY = { 'retry-after': '1' };
// A file an operator must look at (or a full disk under it): as long as the store's full disk asks.
const RETRY_AFTER_OPERATOR = { 'retry-after': '30' };

const MANAGING_KEYS = 'Managing API keys (a key made here could reach every team)';

@ApiTags('operations')
@ApiBearerAuth()
@Allow()
@Controller('admin/api-keys')
export class ApiKeysController {
  private readonly logger = new Logger('ApiKeys');
  private readonly audit = new Logger(AUDIT_CONTEXT);

  constructor(
    @Inject(ApiKeyStore) private readonly store: ApiKeyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOkResponse({ description: 'The keys in force', schema: { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: KEY_SCHEMA } } } })
  @ApiOperation({ summary: 'The keys in force: id, name, roles, teams, where they are configured (never a secret or hash)' })
  list(@CurrentPrincipal() caller: Principal) {
    assertUnlimited(caller, MANAGING_KEYS);
    const inline = new Set(this.store.inlineKeys.map((key) => key.id));
    return { keys: [...this.store.keys.values()].map((key) => describeKey(key, inline.has(key.id) ? 'API_KEYS' : 'file')) };
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({
    description: 'The key made, with its secret: shown this once',
    schema: { ...KEY_SCHEMA, required: [...KEY_SCHEMA.required, 'key'], properties: { ...KEY_SCHEMA.properties, key: { type: 'string' } } },
  })
  @ApiOperation({ summary: 'Make a key; the answer shows it once (only its hash is stored). Applies to every instance within about a second.' })
  async create(@CurrentPrincipal() caller: Principal, @Body() body: CreateApiKeyDto) {
    assertUnlimited(caller, MANAGING_KEYS);
    const { key, stored } = generateApiKey(
      { name: body.name, roles: body.roles, ...(body.teams ? { teams: [...new Set(body.teams)] } : {}), mayActOnBehalf: body.mayActOnBehalf === true },
      this.clock(),
    );
    await this.write(({ keys }) => ({ keys: [...keys, stored], result: undefined }));
    // Who gave which powers to whom: a key's events name the key's holder, not the admin who made it.
    this.audit.log(`Key ${stored.id} (${powersInLog(stored)}) made by ${callerInLog(caller)}`);
    return { ...describeKey(stored, 'file'), key };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiOperation({ summary: 'Revoke a key: every instance refuses it within about a second' })
  async revoke(@CurrentPrincipal() caller: Principal, @Param('id') id: string): Promise<void> {
    assertUnlimited(caller, MANAGING_KEYS);
    if (this.store.inlineKeys.some((key) => key.id === id)) {
      throw new ApiProblem('API_KEY.NOT_IN_FILE', `Key ${id} is configured in API_KEYS, not in the keys file: remove it there and restart the instances.`);
    }
    // The file as it stands is the truth (this instance's copy may lag it): a key it does not hold
    // is 404 without taking the lock, which a full disk or a read-only folder would refuse. A
    // file that is missing or unreadable tells nothing, and the write below says why.
    if (keysFileLacks(this.store.keysFile, id)) throw new ApiProblem('API_KEY.NOT_FOUND', `There is no key ${id}; GET /admin/api-keys lists them.`);
    const found = await this.write(({ keys }) => withoutKey(keys, id));
    if (!found) throw new ApiProblem('API_KEY.NOT_FOUND', `There is no key ${id}; GET /admin/api-keys lists them.`);
    this.audit.log(`Key ${id} revoked by ${callerInLog(caller)}`);
  }

  private async write<T>(change: Parameters<typeof updateApiKeysFile<T>>[1]): Promise<T> {
    try {
      return await updateApiKeysFile(this.store.keysFile, (now) => {
        // Gone while this instance still accepts the keys it last read from it: a file written
        // now would hold the change alone, every other key revoked without a word. Someone must
        // put it back (or write {"keys": []} to revoke them all) first.
        const kept = this.store.keysLastReadFromFile;
        if (!now.exists && kept > 0) throw new MissingKeysFileError(kept);
        return change(now);
      });
    } catch (error) {
      if (error instanceof FileLockTimeoutError) {
        // The log names the lock and its holder, which the answer does not (the server's paths are the operator's).
        this.logger.warn(`The keys file cannot be changed: ${error.message}`);
        throw new ApiProblem('API_KEY.FILE_BUSY', 'Another writer holds the keys file; retry shortly. If this lasts, the server log names the lock file and the process holding it.', {}, RETRY_AFTER_BUSY);
      }
      if (error instanceof MissingKeysFileError) {
        this.logger.warn(`The keys file ${this.store.keysFile} is missing: key changes are refused until it is back`);
        throw new ApiProblem(
          'API_KEY.FILE_UNUSABLE',
          `The keys file is missing, and this instance still accepts the ${error.kept} key(s) it last read from it: a change written now would revoke all of them. An operator must restore the file, or write {"keys": []} into it to revoke every key (the server log names the file).`,
          {},
          RETRY_AFTER_OPERATOR,
        );
      }
      // A keys file that does not parse is not overwritten: someone must look at it first. The
      // answer says why without the file's path (the server's layout is the operator's; the log has it).
      const reason = error instanceof ApiKeysFileError ? error.problem : error instanceof SettingsError ? error.reason : 'it cannot be read or written';
      this.logger.warn(`The keys file cannot be updated: ${(error as Error).message}`);
      throw new ApiProblem('API_KEY.FILE_UNUSABLE', `The keys file cannot be updated: ${reason}. An operator must look at it (the server log names the file).`, {}, RETRY_AFTER_OPERATOR);
    } finally {
      this.store.check();
    }
  }
}

/**
 * True when the keys file can be read now and holds no key `id`. Read without the lock: a writer
 * replaces the file whole (a rename), so a read sees it before or after, never half.
 */
function keysFileLacks(file: string, id: string): boolean {
  try {
    return existsSync(file) && !readApiKeysFile(file).some((key) => key.id === id);
  } catch {
    return false;
  }
}

class MissingKeysFileError extends Error {
  constructor(readonly kept: number) {
    super('the keys file is missing');
  }
}
