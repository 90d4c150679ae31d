import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { readSettings, readSideStartFailure, SettingsError } from '@stagecraft/config';
import { ReadSideNotPermittedError, ReadSideSchemaTakenError, ReadSideUnrecordedError } from '@stagecraft/projections';

describe('EVENT_STORE_URL', () => {
  it('unset keeps the embedded SQLite store; empty stops start-up rather than switch stores without a word', () => {
    expect(readSettings({}, '/srv').eventStoreUrl).toBeUndefined();
    expect(readSettings({}, '/srv').eventStorePath).toBe('/srv/data/events.db');
    for (const blank of ['', ' ']) expect(() => readSettings({ EVENT_STORE_URL: blank }, '/srv')).toThrow(/^Invalid setting EVENT_STORE_URL: is empty: unset it to keep the events in the embedded SQLite store/);
  });

  it('takes kurrentdb:// and esdb:// connection strings, single node or cluster', () => {
    expect(readSettings({ EVENT_STORE_URL: 'kurrentdb://localhost:2113?tls=false' }).eventStoreUrl).toBe('kurrentdb://localhost:2113?tls=false');
    expect(readSettings({ EVENT_STORE_URL: 'esdb://node1:2113,node2:2113,node3:2113?tls=true' }).eventStoreUrl).toBe('kurrentdb://node1:2113,node2:2113,node3:2113?tls=true');
  });

  it.each(['http://localhost:2113', 'localhost:2113', 'kurrentdb://', 'kurrentdb://localhost:2113?nodePreference=nobody'])('stops start-up on %s, naming the variable', (url) => {
    let error: unknown;
    try {
      readSettings({ EVENT_STORE_URL: url });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ variable: 'EVENT_STORE_URL' });
    expect((error as Error).message).toMatch(/^Invalid setting EVENT_STORE_URL: /);
  });

  it('stops start-up on a deadline no call can meet (defaultDeadline=1: 1 ms), naming the variable, the option and the least it takes', () => {
    expect(() => readSettings({ EVENT_STORE_URL: 'kurrentdb://localhost:2113?tls=false&defaultDeadline=1' })).toThrow(/^Invalid setting EVENT_STORE_URL: gives defaultDeadline=1: it is in milliseconds, and must be at least 100 ms/);
  });

  // The client reads these files when the store is opened, and a missing one was a bare "Failed to
  // load certificate file. File was not found." with a stack trace: no option, no path, no variable.
  describe('the certificate files it names', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'stagecraft-kurrentdb-tls-'));
      for (const name of ['ca.crt', 'user.crt', 'user.key']) writeFileSync(join(dir, name), '-----BEGIN CERTIFICATE-----\n');
      mkdirSync(join(dir, 'folder.crt'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each([
      ['tlsCAFile=<dir>/missing.crt', /tlsCAFile names <dir>\/missing\.crt, which does not exist$/],
      ['tlsCAFile=<dir>/folder.crt', /tlsCAFile names <dir>\/folder\.crt, which is a folder, not a file/],
      ['userCertFile=<dir>/missing.crt&userKeyFile=<dir>/user.key', /userCertFile names <dir>\/missing\.crt, which does not exist$/],
      ['userCertFile=<dir>/user.crt&userKeyFile=<dir>/missing.key', /userKeyFile names <dir>\/missing\.key, which does not exist$/],
      ['userCertFile=<dir>/user.crt', /userCertFile and userKeyFile go together: give userKeyFile too/],
      ['userKeyFile=<dir>/user.key', /userCertFile and userKeyFile go together: give userCertFile too/],
    ])('stops start-up on %s, naming the variable, the option and the file', (options, reason) => {
      const url = `kurrentdb://admin:s3cretpw@127.0.0.1:2113?tls=true&${options.replaceAll('<dir>', dir)}`;
      let error: unknown;
      try {
        readSettings({ EVENT_STORE_URL: url });
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(SettingsError);
      expect(error).toMatchObject({ variable: 'EVENT_STORE_URL' });
      expect((error as Error).message.replaceAll(dir, '<dir>')).toMatch(reason);
      expect((error as Error).message).not.toContain('s3cretpw');
    });

    it('takes files that are there; a CA file without TLS is ignored by the client, and not looked at', () => {
      const url = `kurrentdb://127.0.0.1:2113?tls=true&tlsCAFile=${dir}/ca.crt&userCertFile=${dir}/user.crt&userKeyFile=${dir}/user.key`;
      expect(readSettings({ EVENT_STORE_URL: url }).eventStoreUrl).toBe(url);
      expect(() => readSettings({ EVENT_STORE_URL: `kurrentdb://127.0.0.1:2113?tls=false&tlsCAFile=${dir}/missing.crt` })).not.toThrow();
    });
  });

  it('stops start-up on an option the client does not know, naming it, never the password, and prints nothing', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(() => readSettings({ EVENT_STORE_URL: 'kurrentdb://admin:s3cretpw@127.0.0.1:2113?tls=false&tsl=x' })).toThrow(/^Invalid setting EVENT_STORE_URL: has option\(s\) the KurrentDB client does not know: "tsl"/);
      expect(() => readSettings({ EVENT_STORE_URL: 'kurrentdb://admin:s3cretpw@127.0.0.1:2113?tls=false&tsl=x' })).not.toThrow(/s3cretpw/);
      expect(warn).not.toHaveBeenCalled();
      // Options it knows, in any case, still pass.
      expect(readSettings({ EVENT_STORE_URL: 'kurrentdb://127.0.0.1:2113?TLS=false&nodePreference=leader' }).eventStoreUrl).toBe('kurrentdb://127.0.0.1:2113?TLS=false&nodePreference=leader');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('TRUST_PROXY', () => {
  it('trusts no proxy by default', () => {
    expect(readSettings({}).trustProxy).toBe(false);
    expect(readSettings({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(readSettings({ TRUST_PROXY: 'none' }).trustProxy).toBe(false);
  });

  it('takes proxy addresses and CIDR ranges, or a hop count', () => {
    expect(readSettings({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,fd00::/8, loopback' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', 'fd00::/8', 'loopback']);
    expect(readSettings({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it.each(['true', '*', '10.0.0.300', '10.0.0.0/33', 'fd00::/0', 'proxy.internal', '10.0.0.1/8/1', '11', '0.0.0.0/1, 128.0.0.0/1', '10.0.0.0/7', '::/1', '::ffff:0:0/96', '::ffff:10.0.0.0/100'])('stops start-up on %s, naming the variable', (value) => {
    expect(() => readSettings({ TRUST_PROXY: value })).toThrow(/^Invalid setting TRUST_PROXY: /);
  });
});

describe('AUTH_FAILURES_PER_MINUTE', () => {
  it('is 20 by default; 0 turns the limit off; anything else stops start-up', () => {
    expect(readSettings({}).authFailuresPerMinute).toBe(20);
    expect(readSettings({ AUTH_FAILURES_PER_MINUTE: '0' }).authFailuresPerMinute).toBe(0);
    expect(() => readSettings({ AUTH_FAILURES_PER_MINUTE: '-1' })).toThrow(/AUTH_FAILURES_PER_MINUTE/);
  });
});

describe('JWT settings', () => {
  const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const variableOf = (env: Record<string, string>) => {
    try {
      readSettings(env);
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      return (error as SettingsError).variable;
    }
    return undefined;
  };

  it('pins the algorithm to the key source', () => {
    expect(readSettings({ JWT_SECRET: 'x'.repeat(32) }).auth.jwt).toMatchObject({ algorithms: ['HS256'], clockToleranceSeconds: 30 });
    expect(readSettings({ JWT_PUBLIC_KEY: rsaPem }).auth.jwt?.algorithms).toEqual(['RS256']);
    expect(readSettings({ JWT_PUBLIC_KEY: ecPem }).auth.jwt?.algorithms).toEqual(['ES256']);
    const jwks = readSettings({ JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json', JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'stagecraft' }).auth.jwt;
    expect(jwks).toMatchObject({ jwksUrl: 'https://idp.example/.well-known/jwks.json', jwksMaxAgeSeconds: 60, algorithms: ['RS256', 'ES256'], issuer: 'https://idp.example/', audience: 'stagecraft' });
    expect(readSettings({ JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_MAX_AGE_SECONDS: '5' }).auth.jwt?.jwksMaxAgeSeconds).toBe(5);
    expect(readSettings({ JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'PS256, EdDSA' }).auth.jwt?.algorithms).toEqual(['PS256', 'EdDSA']);
  });

  it.each([
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['JWT_PUBLIC_KEY', { JWT_SECRET: 'x'.repeat(32), JWT_PUBLIC_KEY: rsaPem }],
    ['JWT_JWKS_URL', { JWT_PUBLIC_KEY: rsaPem, JWT_JWKS_URL: 'https://idp.example/jwks' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '/nonexistent/key.pem' }],
    ['JWT_JWKS_URL', { JWT_JWKS_URL: 'idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }],
    ['JWT_JWKS_URL', { JWT_JWKS_URL: 'http://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }],
    ['JWT_ISSUER', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_AUDIENCE: 'a' }],
    ['JWT_AUDIENCE', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i' }],
    ['JWT_ISSUER', { JWT_SECRET: 'x'.repeat(32), JWT_ISSUER: ' ' }],
    ['JWT_ALGORITHMS', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'RS256,HS256' }],
    ['JWT_ALGORITHMS', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_ALGORITHMS: 'none' }],
    ['JWT_ALGORITHMS', { JWT_SECRET: 'x'.repeat(32), JWT_ALGORITHMS: 'RS256' }],
    ['JWT_CLOCK_TOLERANCE_SECONDS', { JWT_SECRET: 'x'.repeat(32), JWT_CLOCK_TOLERANCE_SECONDS: '3600' }],
    ['JWT_JWKS_MAX_AGE_SECONDS', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_MAX_AGE_SECONDS: '0' }],
    ['JWT_JWKS_MAX_AGE_SECONDS', { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_MAX_AGE_SECONDS: '1m' }],
    ['JWT_JWKS_MAX_AGE_SECONDS', { JWT_SECRET: 'x'.repeat(32), JWT_JWKS_MAX_AGE_SECONDS: '60' }],
    ['JWT_JWKS_MAX_AGE_SECONDS', { JWT_JWKS_MAX_AGE_SECONDS: '60' }],
    ['JWT_AUDIENCE', { JWT_AUDIENCE: 'stagecraft' }],
  ])('stops start-up naming %s', (variable, env) => {
    expect(variableOf(env)).toBe(variable);
  });
});

describe('READ_MODELS_URL and READ_MODELS_SCHEMA', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      readSettings(env);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('unset keeps the read models in memory; set, names the database and the schema (default stagecraft)', () => {
    expect(readSettings({}).readModelsPostgres).toBeUndefined();
    for (const blank of ['', '  ']) expect(refusal({ READ_MODELS_URL: blank })).toMatchObject({ variable: 'READ_MODELS_URL', reason: expect.stringMatching(/^is empty: unset it to keep the read models in this service/) });
    expect(readSettings({ READ_MODELS_URL: 'postgres://root@127.0.0.1:5432/stagecraft' }).readModelsPostgres).toEqual({ url: 'postgres://root@127.0.0.1:5432/stagecraft', schema: 'stagecraft' });
    expect(readSettings({ READ_MODELS_URL: 'postgresql://u:p@db/x', READ_MODELS_SCHEMA: 'sales_reporting' }).readModelsPostgres).toEqual({ url: 'postgresql://u:p@db/x', schema: 'sales_reporting' });
  });

  it.each(['http://db/x', 'db:5432/x', 'postgres://', 'postgres://db', 'not a url'])('stops start-up on %s, naming the variable', (url) => {
    const error = refusal({ READ_MODELS_URL: url });
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ variable: 'READ_MODELS_URL' });
  });

  it('never repeats a password in the message', () => {
    expect((refusal({ READ_MODELS_URL: 'mysql://u:secret@db/x' }) as Error).message).not.toContain('secret');
    expect((refusal({ READ_MODELS_URL: 'postgres://u:se cret@db:99999/x' }) as Error).message).not.toContain('se cret');
  });

  it('refuses READ_MODELS_SCHEMA without READ_MODELS_URL (it would be ignored)', () => {
    expect(refusal({ READ_MODELS_SCHEMA: 'sales_reporting' })).toMatchObject({ variable: 'READ_MODELS_SCHEMA', message: expect.stringMatching(/has no effect without READ_MODELS_URL/) });
  });

  it.each(['Stagecraft', 'sales-reporting', '1st', 'a;drop', ''])('refuses the schema name %p', (schema) => {
    expect(refusal({ READ_MODELS_URL: 'postgres://db/x', READ_MODELS_SCHEMA: schema })).toMatchObject({ variable: 'READ_MODELS_SCHEMA' });
  });

  it.each([
    ['public', /PostgreSQL's own or shared schemas/],
    ['information_schema', /PostgreSQL's own or shared schemas/],
    ['pg_catalog', /PostgreSQL's own or shared schemas/],
    ['pg_temp', /PostgreSQL's own or shared schemas/],
    ['stagecraft_rebuild', /ends as the schemas a rebuild makes and drops/],
    ['stagecraft_retired_1764440000000', /ends as the schemas a rebuild makes and drops/],
  ])('refuses %p, which a rebuild would drop whole or take for its own', (schema, reason) => {
    expect(refusal({ READ_MODELS_URL: 'postgres://db/x', READ_MODELS_SCHEMA: schema })).toMatchObject({ variable: 'READ_MODELS_SCHEMA', message: expect.stringMatching(reason) });
  });

  // Unquoted in the SQL the read side writes, a word PostgreSQL reserves would fail start-up on a
  // syntax error deep in a migration instead of naming the setting.
  it.each(['select', 'user', 'order', 'table', 'all', 'left', 'join', 'verbose', 'end', 'default'])('refuses %p, a word PostgreSQL reserves', (schema) => {
    expect(refusal({ READ_MODELS_URL: 'postgres://db/x', READ_MODELS_SCHEMA: schema })).toMatchObject({ variable: 'READ_MODELS_SCHEMA', message: expect.stringMatching(/reserves/) });
  });

  it('names the setting to fix when the read side cannot start: the schema for another application\'s tables, the URL for a server not reached', () => {
    expect(readSideStartFailure(new ReadSideSchemaTakenError('sales', ['customers', 'orders']))).toMatchObject({ variable: 'READ_MODELS_SCHEMA', message: expect.stringMatching(/^Invalid setting READ_MODELS_SCHEMA: the schema sales already holds customers, orders/) });
    for (const error of [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5499'), { code: 'ECONNREFUSED' }), new Error('Connection terminated due to connection timeout'), new Error('Connection terminated unexpectedly')]) {
      expect(readSideStartFailure(error)).toMatchObject({ variable: 'READ_MODELS_URL', message: expect.stringContaining(error.message) });
    }
    expect(readSideStartFailure(new Error('syntax error at or near "x"'))).toBeUndefined();
    // The read side's own schema, its schema_migrations dropped by hand: no setting is at fault.
    expect(readSideStartFailure(new ReadSideUnrecordedError('sales'))).toBeUndefined();
    // The role in the URL lacks a right: the URL names the role, and the message the GRANT to run.
    const notPermitted = new ReadSideNotPermittedError({ role: 'sales_app', database: 'crm', schema: 'stagecraft', schemaExists: false, reason: 'permission denied for database crm' });
    expect(readSideStartFailure(notPermitted)).toMatchObject({ variable: 'READ_MODELS_URL', message: expect.stringContaining('GRANT CREATE ON DATABASE crm TO sales_app') });
  });

  it.each(['stagecraft', 'sales_reporting', 'publicity', 'pgx', 'rebuild_stats', '_x', 'name', 'selected', 'users', 'analytics'])('takes %p', (schema) => {
    expect(readSettings({ READ_MODELS_URL: 'postgres://db/x', READ_MODELS_SCHEMA: schema }).readModelsPostgres?.schema).toBe(schema);
  });
});

// An empty value is most often a template or a secret that was not filled in. Where reading it as
// unset would change what the service does without a word, it stops start-up naming the variable.
describe('empty values', () => {
  it.each([
    ['EVENT_STORE_URL', {}, /is empty: unset it to keep the events in the embedded SQLite store/],
    ['READ_MODELS_URL', {}, /is empty: unset it to keep the read models in this service/],
    ['API_KEYS', {}, /is empty: .*a first start would make and print an admin key/],
    ['JWT_PUBLIC_KEY', {}, /is empty: unset it to accept no JWT/],
    ['JWT_JWKS_URL', { JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'stagecraft' }, /is empty: unset it to accept no JWT/],
    ['RELAY_STATE_PATH', { RELAY_SINKS: 'nats://127.0.0.1:4222' }, /is empty: unset it to keep the relay's state beside the event store/],
  ])('%s stops start-up', (variable, others, reason) => {
    for (const blank of ['', ' \t']) expect(() => readSettings({ ...others, [variable]: blank })).toThrow(new RegExp(`^Invalid setting ${variable}: ${reason.source}`));
  });

  it('are refused, as before, where they were: paths, names, choices, secrets', () => {
    for (const variable of ['EVENT_STORE_PATH', 'READ_MODELS_PATH', 'API_KEYS_FILE', 'PROCESSES_DIR', 'HOST', 'AUTH', 'PROJECTIONS', 'EVENT_STORE_DURABILITY', 'JWT_SECRET']) {
      expect(() => readSettings({ [variable]: '' })).toThrow(new RegExp(`^Invalid setting ${variable}: `));
    }
  });

  it('mean unset where unset is the safe reading, as the README says: a number its default, TRUST_PROXY no proxy, RELAY_SINKS no relay', () => {
    const settings = readSettings({ PORT: '', AUTH_FAILURES_PER_MINUTE: '', RATE_LIMIT_PER_MINUTE: '', TRUST_PROXY: '', RELAY_SINKS: '' });
    expect([settings.port, settings.authFailuresPerMinute, settings.rateLimitPerMinute, settings.trustProxy, settings.relay.sinks]).toEqual([3000, 20, 6000, false, []]);
  });
});

describe('numbers', () => {
  it.each([' ', '  ', '0xD49', '3.4e3', '+5', '5 ', '1_000', '-0'])('refuse %p for a whole-number setting, naming it (Number() would read a number)', (text) => {
    for (const variable of ['PORT', 'AUTH_FAILURES_PER_MINUTE', 'RATE_LIMIT_PER_MINUTE', 'CONFLICT_RETRIES', 'STREAM_CACHE_SIZE', 'READ_YOUR_WRITES_TIMEOUT_MS']) {
      expect(() => readSettings({ [variable]: text })).toThrow(new RegExp(`^Invalid setting ${variable}: must be an integer`));
    }
  });

  it('take decimal digits, leading zeros included, and an empty value as unset', () => {
    expect(readSettings({ PORT: '03401' }).port).toBe(3401);
    expect(readSettings({ PORT: '' }).port).toBe(3000);
  });
});

describe('the files the service writes', () => {
  // Made before the first test, not when the file is collected: a run filtering these tests out would leave it behind.
  let workDir = '';
  beforeAll(() => (workDir = mkdtempSync(join(tmpdir(), 'settings-'))));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));
  const refused = (env: Record<string, string>, cwd = workDir) => {
    try {
      readSettings(env, cwd);
    } catch (error) {
      return error as SettingsError;
    }
    return undefined;
  };

  it.each(['EVENT_STORE_PATH', 'READ_MODELS_PATH', 'STREAM_SNAPSHOTS_PATH', 'API_KEYS_FILE', 'HOST', 'PROCESSES_DIR', 'BOARD_ASSETS_DIR'])('refuse an empty or blank %s (an empty path is the working directory)', (variable) => {
    for (const value of ['', ' ']) expect(refused({ [variable]: value })).toMatchObject({ variable, message: expect.stringMatching(/must not be empty/) });
  });

  it.each(['EVENT_STORE_PATH', 'READ_MODELS_PATH', 'STREAM_SNAPSHOTS_PATH', 'API_KEYS_FILE'])('refuse a folder as %s: a damaged derived file is renamed aside, a folder must never be', (variable) => {
    for (const value of [workDir, '.', '..']) expect(refused({ [variable]: value })).toMatchObject({ variable, message: expect.stringMatching(/is a folder/) });
  });

  it.each([
    ['EVENT_STORE_PATH', 'data/events.db'],
    ['READ_MODELS_PATH', 'data/read-models.db'],
    ['STREAM_SNAPSHOTS_PATH', 'data/stream-snapshots.db'],
    ['API_KEYS_FILE', 'data/api-keys.json'],
  ])('name %s as unset, with the default path it took, when that default is a folder', (variable, defaultPath) => {
    const cwd = mkdtempSync(join(tmpdir(), 'settings-default-'));
    try {
      const path = join(cwd, defaultPath);
      mkdirSync(path, { recursive: true });
      expect(refused({}, cwd)).toMatchObject({ variable, message: `Invalid setting ${variable}: is a folder (${path}, the default while ${variable} is unset); give the path of a file in it` });
      // Written out, it is named as given.
      expect(refused({ [variable]: path }, cwd)).toMatchObject({ variable, message: `Invalid setting ${variable}: is a folder (${path}); give the path of a file in it` });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('name a setting as unset, with its default, when a setting written out names that default file', () => {
    // READ_MODELS_PATH pointed at relay.db beside the events: RELAY_STATE_PATH, never written, is
    // the one refused, so the message must say it stands for its default.
    const events = join(workDir, 'clash', 'events.db');
    const relayDefault = join(workDir, 'clash', 'relay.db');
    expect(refused({ EVENT_STORE_PATH: events, READ_MODELS_PATH: relayDefault })).toMatchObject({
      variable: 'RELAY_STATE_PATH',
      message: `Invalid setting RELAY_STATE_PATH: names ${relayDefault}, the default while RELAY_STATE_PATH is unset, which is READ_MODELS_PATH's file (${relayDefault}) or one of its own (-wal, -shm, -journal); each needs a file of its own`,
    });
    // And the other way round: the earlier setting is the one left at its default.
    expect(refused({ EVENT_STORE_PATH: events, STREAM_SNAPSHOTS_PATH: join(workDir, 'clash', 'read-models.db') })).toMatchObject({
      variable: 'STREAM_SNAPSHOTS_PATH',
      message: expect.stringContaining(`which is READ_MODELS_PATH's file (${join(workDir, 'clash', 'read-models.db')}, the default while READ_MODELS_PATH is unset)`),
    });
  });

  it.each(['EVENT_STORE_PATH', 'READ_MODELS_PATH', 'STREAM_SNAPSHOTS_PATH', 'API_KEYS_FILE'])('refuse %s as a symbolic link no file can be made through, and take one that can', (variable) => {
    const link = join(workDir, `link-${variable}.db`);
    symlinkSync(join(workDir, 'no-such-folder', 'x.db'), link);
    expect(refused({ [variable]: link })).toMatchObject({ variable, message: expect.stringContaining(`to ${join(workDir, 'no-such-folder', 'x.db')}, whose folder ${join(workDir, 'no-such-folder')} does not exist`) });
    const loop = join(workDir, `loop-${variable}.db`);
    symlinkSync(loop, loop);
    expect(refused({ [variable]: loop })).toMatchObject({ variable, message: expect.stringMatching(/loops back on itself/) });
    const made = join(workDir, `later-${variable}.db`);
    symlinkSync(join(workDir, `target-${variable}.db`), made);
    expect(refused({ [variable]: made })).toBeUndefined();
  });

  it('refuse STREAM_SNAPSHOTS_PATH written as off in another case or word, which would be a file of that name', () => {
    for (const value of ['OFF', 'Off', 'none', 'false', 'disabled', ' off ']) {
      expect(refused({ STREAM_SNAPSHOTS_PATH: value })).toMatchObject({ variable: 'STREAM_SNAPSHOTS_PATH', message: expect.stringMatching(/to keep no stream snapshots write off \(lower case\)/) });
    }
    expect(readSettings({ STREAM_SNAPSHOTS_PATH: 'off' }, workDir).streamSnapshotsPath).toBeUndefined();
    expect(readSettings({ STREAM_SNAPSHOTS_PATH: 'snapshots/offline.db' }, workDir).streamSnapshotsPath).toBe(join(workDir, 'snapshots/offline.db'));
  });

  // Only STREAM_SNAPSHOTS_PATH has an off: for every other path, "off" (or none, false…) would be a
  // file or folder of that name in the working directory, and the setting would not be off at all.
  it.each([
    ['EVENT_STORE_PATH', {}],
    ['READ_MODELS_PATH', {}],
    ['API_KEYS_FILE', {}],
    ['RELAY_STATE_PATH', { RELAY_SINKS: 'nats://127.0.0.1:4222' }],
    ['PROCESSES_DIR', {}],
    ['CURRENCIES_FILE', {}],
    ['BOARD_ASSETS_DIR', {}],
  ])('refuse %s written as off (a path of that name by accident), naming the variable and what to do instead', (variable, env) => {
    for (const value of ['off', 'OFF', 'none', 'false', 'disabled', ' no ']) {
      expect(refused({ ...env, [variable]: value })).toMatchObject({ variable, message: expect.stringMatching(new RegExp(`^Invalid setting ${variable}: is "${value}": .*cannot be turned off.*\\./${value.trim()} `)) });
    }
    // Written as a path, a file of that name is meant.
    expect(refused({ ...env, [variable]: './off' })).toBeUndefined();
  });

  it('refuse two of them naming one file (read models written into the event store), its SQLite companions, or it through a link', () => {
    expect(refused({ EVENT_STORE_PATH: 'd/events.db', READ_MODELS_PATH: 'd/events.db' })).toMatchObject({ variable: 'READ_MODELS_PATH', message: expect.stringMatching(/which is EVENT_STORE_PATH's file/) });
    expect(refused({ API_KEYS_FILE: './data/stream-snapshots.db' })).toMatchObject({ variable: 'API_KEYS_FILE', message: expect.stringMatching(/which is STREAM_SNAPSHOTS_PATH's file/) });
    expect(refused({ STREAM_SNAPSHOTS_PATH: 'off', API_KEYS_FILE: './data/stream-snapshots.db' })).toBeUndefined();
    for (const companion of ['-wal', '-shm', '-journal']) {
      expect(refused({ EVENT_STORE_PATH: 'd/events.db', READ_MODELS_PATH: `d/events.db${companion}` })).toMatchObject({ variable: 'READ_MODELS_PATH' });
      expect(refused({ EVENT_STORE_PATH: 'd/events.db', STREAM_SNAPSHOTS_PATH: `d/events.db${companion}` })).toMatchObject({ variable: 'STREAM_SNAPSHOTS_PATH' });
    }
    expect(refused({ EVENT_STORE_PATH: 'd/events.db', RELAY_SINKS: 'nats://127.0.0.1:4222', RELAY_STATE_PATH: 'd/events.db' })).toMatchObject({ variable: 'RELAY_STATE_PATH', message: expect.stringMatching(/which is EVENT_STORE_PATH's file/) });
    mkdirSync(join(workDir, 'real'), { recursive: true });
    writeFileSync(join(workDir, 'real', 'events.db'), '');
    symlinkSync(join(workDir, 'real', 'events.db'), join(workDir, 'link.db'));
    symlinkSync(join(workDir, 'real'), join(workDir, 'linked-folder'));
    expect(refused({ EVENT_STORE_PATH: 'real/events.db', READ_MODELS_PATH: 'link.db' })).toMatchObject({ variable: 'READ_MODELS_PATH' });
    expect(refused({ EVENT_STORE_PATH: 'real/events.db', READ_MODELS_PATH: 'linked-folder/events.db-wal' })).toMatchObject({ variable: 'READ_MODELS_PATH' });
  });
});

// A value pasted wrong (a file's contents in a variable) is quoted in the refusal, but not whole:
// a megabyte on the terminal hides the one line that says what to fix.
describe('a huge value', () => {
  const huge = 'x'.repeat(1_000_000);
  const jwks = { JWT_JWKS_URL: 'https://idp.example/jwks', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' };
  const relay = { RELAY_SINKS: 'https://hook.example/x', RELAY_WEBHOOK_SECRET: 'w'.repeat(40) };
  it.each([
    ['PORT', {}],
    ['AUTH', {}],
    ['PROJECTIONS', {}],
    ['EVENT_STORE_DURABILITY', {}],
    ['EVENT_STORE_URL', {}],
    ['READ_MODELS_URL', {}],
    ['READ_MODELS_SCHEMA', { READ_MODELS_URL: 'postgres://u@h:5432/db' }],
    ['TRUST_PROXY', {}],
    ['JWT_ALGORITHMS', jwks],
    ['JWT_JWKS_URL', { JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }],
    ['JWT_PUBLIC_KEY', {}],
    ['RELAY_SINKS', {}],
    ['RELAY', relay],
    ['RELAY_NEW_SINK_FROM', relay],
    ['RELAY_WEBHOOK_SECRETS', relay],
    ['RELAY_RETRY_BASE_MS', relay],
  ])('given to %s is refused in a message of a few lines, naming the variable', (variable, env) => {
    let refused: unknown;
    try {
      readSettings({ ...env, [variable]: huge });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SettingsError);
    expect((refused as SettingsError).message).toMatch(new RegExp(`^Invalid setting ${variable}: `));
    expect((refused as SettingsError).message.length).toBeLessThan(1_000);
    expect((refused as SettingsError).message).not.toContain('x'.repeat(201));
  });
});

describe('HOST', () => {
  // No address or host name is longer than 253 characters: the resolver answers EINVAL, not "not found".
  it('refuses a value longer than any host name, naming it and cut short', () => {
    expect(() => readSettings({ HOST: 'h'.repeat(300) })).toThrow(/^Invalid setting HOST: is 300 characters long \(h{20}…\); a host name or address has at most 253$/);
    expect(readSettings({ HOST: `${'a'.repeat(63)}.${'b'.repeat(63)}.example` }).host).toHaveLength(135);
  });
});

describe('JWT_SECRET', () => {
  it('counts no spaces at either end toward its 32 characters', () => {
    expect(() => readSettings({ JWT_SECRET: ' '.repeat(32) })).toThrow(/^Invalid setting JWT_SECRET: must be at least 32 characters/);
    expect(() => readSettings({ JWT_SECRET: `  ${'s'.repeat(31)}  ` })).toThrow(/^Invalid setting JWT_SECRET/);
    expect(readSettings({ JWT_SECRET: 's'.repeat(32) }).auth.jwt).toMatchObject({ algorithms: ['HS256'] });
  });
});

describe('JWT_PUBLIC_KEY', () => {
  it('a FIFO or pipe is read as its writer writes it; one nothing writes a key into is refused, not waited on for ever', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-jwt-fifo-'));
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const pemFile = join(dir, 'source.pem');
    writeFileSync(pemFile, pem);
    const fifo = join(dir, 'key.pem');
    execFileSync('mkfifo', [fifo]);
    // A writer that comes a little later, as \`<(vault read …)\` or a sidecar would: waited for.
    const late = spawn('sh', ['-c', `sleep 0.5; cat "${pemFile}" > "${fifo}"`], { stdio: 'ignore' });
    try {
      expect(readSettings({ JWT_PUBLIC_KEY: fifo }).auth.jwt).toMatchObject({ publicKey: pem, algorithms: ['RS256'] });
    } finally {
      late.kill();
    }
    // One that opens it and writes nothing (the read waited for a writer for ever before: this one
    // comes after 2 s, so that the test ends either way), and a device that never ends.
    const silent = spawn('sh', ['-c', `sleep 2; exec 3>"${fifo}"; sleep 1`], { stdio: 'ignore' });
    try {
      expect(() => readSettings({ JWT_PUBLIC_KEY: fifo })).toThrow(/^Invalid setting JWT_PUBLIC_KEY: is neither a PEM key nor a readable file: .*key\.pem is a FIFO, and nothing was written into it/);
    } finally {
      silent.kill();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => readSettings({ JWT_PUBLIC_KEY: '/dev/zero' })).toThrow(/^Invalid setting JWT_PUBLIC_KEY: is neither a PEM key nor a readable file: \/dev\/zero .*more than 4194304 bytes/);
  });

  it('a device that ends at once (/dev/null) is refused at once as empty, not waited on as a FIFO without a writer', () => {
    const started = Date.now();
    expect(() => readSettings({ JWT_PUBLIC_KEY: '/dev/null' })).toThrow(/^Invalid setting JWT_PUBLIC_KEY: is neither a PEM key nor a readable file: \/dev\/null is a device, and nothing was written into it$/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a private key, which it could derive a public key from', () => {
    const privatePem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => readSettings({ JWT_PUBLIC_KEY: privatePem })).toThrow(/^Invalid setting JWT_PUBLIC_KEY: holds a private key/);
  });
});

describe('JWT_JWKS_URL', () => {
  const jwks = (url: string) => ({ JWT_JWKS_URL: url, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'stagecraft' });
  it('takes plain http only to this machine: a name that merely starts with 127. is not', () => {
    expect(readSettings(jwks('http://127.0.0.1:8080/jwks')).auth.jwt).toMatchObject({ jwksUrl: 'http://127.0.0.1:8080/jwks' });
    expect(readSettings(jwks('http://127.1.2.3/jwks')).auth.jwt).toMatchObject({ jwksUrl: 'http://127.1.2.3/jwks' });
    expect(() => readSettings(jwks('http://127.example.com/jwks'))).toThrow(/^Invalid setting JWT_JWKS_URL: must be an https/);
  });

  it('refuses a user or password in the URL, without repeating them', () => {
    expect(() => readSettings(jwks('https://user:s3cret@idp.example/jwks'))).toThrow(/^Invalid setting JWT_JWKS_URL: must not hold a user or password/);
    try {
      readSettings(jwks('https://user:s3cret@idp.example/jwks'));
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
