import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { spawnApi, type ApiChildProcess } from './support/api-child-process';
import { temporaryDirectory } from './support/api-test-app';
import { runKeysCli } from './support/api-keys-cli';

// Keys added or revoked while the API runs apply to every instance reading the same keys file,
// without a restart: through `npm run api-keys` (the CLI below is what that script runs) or the
// admin endpoint. Two API processes share one data folder, as two instances on one host would.

const EFFECT_BOUND_MS = 10_000; // generous for a loaded CI machine; the README's latency comes from a bench

async function status(api: ApiChildProcess, key: string, path = '/processes'): Promise<number> {
  return (await fetch(`${api.baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } })).status;
}

/** Polls until `check` holds, failing with `what` after the bound. */
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + EFFECT_BOUND_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Not within ${EFFECT_BOUND_MS} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function addedKey(output: string): { id: string; key: string } {
  const key = /Authorization: Bearer (sck_\S+)/.exec(output)?.[1];
  const id = /Key ([0-9a-f]{12}) /.exec(output)?.[1];
  if (!key || !id) throw new Error(`no key in the CLI's output:\n${output}`);
  return { id, key };
}

describe('API keys apply to running instances without a restart', () => {
  const dir = temporaryDirectory();
  const keysFile = `${dir.path}/api-keys.json`;
  const admin = generateApiKey({ name: 'operator', roles: ['admin'] }, new Date());
  let a: ApiChildProcess;
  let b: ApiChildProcess;
  const both = () => [a, b];
  const everywhere = (key: string, expected: number) => async () => (await Promise.all(both().map((api) => status(api, key)))).every((answer) => answer === expected);

  beforeAll(async () => {
    writeFileSync(keysFile, JSON.stringify({ keys: [admin.stored] }), { mode: 0o600 });
    // The polls below present keys not yet (or no longer) valid on purpose: not an attack to limit.
    const env = { AUTH: 'on', AUTH_FAILURES_PER_MINUTE: '0', EVENT_STORE_PATH: `${dir.path}/events.db`, API_KEYS_FILE: keysFile };
    a = await spawnApi({ ...env, READ_MODELS_PATH: `${dir.path}/read-models-a.db` });
    b = await spawnApi({ ...env, READ_MODELS_PATH: `${dir.path}/read-models-b.db` });
  }, 60_000);
  afterAll(async () => {
    for (const api of [a, b].filter(Boolean)) {
      api.child.kill('SIGTERM');
      await api.exited();
    }
    dir.remove();
  });

  it('a key added with npm run api-keys works on both instances; once revoked, both refuse it from then on', async () => {
    const added = await runKeysCli(keysFile, ['add', '--name', 'billing', '--roles', 'writer']);
    expect(added.code).toBe(0);
    const { id, key } = addedKey(added.output);
    await eventually('the new key works on both instances', everywhere(key, 200));

    const revoked = await runKeysCli(keysFile, ['revoke', id]);
    expect(revoked.code).toBe(0);
    await eventually('the revoked key is refused by both instances', everywhere(key, 401));
    for (let i = 0; i < 5; i += 1) expect(await everywhere(key, 401)()).toBe(true);
    expect(await everywhere(admin.key, 200)()).toBe(true);
  }, 60_000);

  it('the CLI refuses what would make a wrong key or an unusable file, and writes nothing then', async () => {
    const before = readFileSync(keysFile, 'utf8');
    for (const args of [
      ['add', '--name', 'crm', '--roles', 'writer', '--team', 'direct'],
      ['add', '--name', 'crm', '--roles', 'writer', '--teams', '--on-behalf'],
      ['add', '--name', '', '--roles', 'writer'],
      ['add', '--name', 'crm\nsck_forged', '--roles', 'writer'],
      ['add', '--name', 'crm', '--roles', 'writer', '--teams', ','],
      ['add', '--name', 'crm', '--roles', 'writer', '--teams', 'direct, partners'],
      ['add', '--name', 'crm', '--roles', 'writer,writer'],
      ['add', '--name', 'crm', '--name', 'other', '--roles', 'writer'],
      ['revoke', '0123456789ab', 'extra'],
      ['list', '--teams', 'direct'],
    ]) {
      const refused = await runKeysCli(keysFile, args);
      expect([args.join(' '), refused.code]).toEqual([args.join(' '), 2]);
      expect(refused.output).not.toMatch(/\n\s+at /);
    }
    // An empty role (a stray comma) is named, not printed as nothing.
    for (const roles of ['writer,', '']) {
      const refused = await runKeysCli(keysFile, ['add', '--name', 'crm', '--roles', roles]);
      expect([roles, refused.code, refused.output.trim()]).toEqual([roles, 2, 'unknown role(s) ""; roles are writer, analyst, auditor, admin, separated by commas']);
    }
    expect(readFileSync(keysFile, 'utf8')).toBe(before);
    // A revoke on an install with no keys file does not make an empty one (the API would start with no key).
    const missing = `${dir.path}/no-such-keys.json`;
    const revoke = await runKeysCli(missing, ['revoke', '0123456789ab']);
    expect([revoke.code, existsSync(missing)]).toEqual([2, false]);
  }, 60_000);

  it('the admin endpoint adds, lists and revokes keys, without ever showing a stored secret, and the other instance follows', async () => {
    const created = await fetch(`${a.baseUrl}/admin/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'direct-desk', roles: ['writer'], teams: ['direct'] }),
    });
    expect(created.status).toBe(201);
    const { id, key, ...shown } = (await created.json()) as { id: string; key: string; [field: string]: unknown };
    expect(key).toMatch(/^sck_/);
    expect(shown).toMatchObject({ name: 'direct-desk', roles: ['writer'], teams: ['direct'], mayActOnBehalf: false });
    // The server log says which admin gave which powers (the key's events will name its holder).
    expect(a.output()).toMatch(new RegExp(`Key ${id} \\("direct-desk", roles writer; teams direct\\) made by "[^"]+" \\(api-key:[0-9a-f]+\\)`));

    await eventually('the key made on one instance works on the other', async () => (await status(b, key)) === 200);
    const foreign = await fetch(`${b.baseUrl}/opportunities`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Elsewhere', processId: 'standard', teamId: 'partners' }),
    });
    expect(foreign.status).toBe(403);

    const listing = await fetch(`${b.baseUrl}/admin/api-keys`, { headers: { authorization: `Bearer ${admin.key}` } });
    expect(listing.status).toBe(200);
    const text = await listing.text();
    const { keys } = JSON.parse(text) as { keys: Record<string, unknown>[] };
    expect(keys).toEqual(expect.arrayContaining([expect.objectContaining({ id, name: 'direct-desk', roles: ['writer'], teams: ['direct'] })]));
    for (const entry of keys) expect(Object.keys(entry)).not.toEqual(expect.arrayContaining(['salt']));
    expect(text).not.toMatch(/salt|hash|sck_/);
    expect(text).not.toContain(key.slice(-43));

    // Key administration is for admins only.
    expect(await status(b, key, '/admin/api-keys')).toBe(403);
    const refused = await fetch(`${a.baseUrl}/admin/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', roles: ['superuser'] }),
    });
    expect(refused.status).toBe(400);

    const deleted = await fetch(`${b.baseUrl}/admin/api-keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.key}` } });
    expect(deleted.status).toBe(204);
    await eventually('the revocation in the server log, with who revoked it', async () => new RegExp(`Key ${id} revoked by "[^"]+" \\(api-key:[0-9a-f]+\\)`).test(b.output()));
    await eventually('the key revoked on one instance is refused by the other', async () => (await status(a, key)) === 401);
    const again = await fetch(`${a.baseUrl}/admin/api-keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin.key}` } });
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ code: 'API_KEY.NOT_FOUND' });
  }, 60_000);

  it('racing writers lose no key: CLI processes and both instances adding at once', async () => {
    const viaCli = Array.from({ length: 4 }, (_, i) => runKeysCli(keysFile, ['add', '--name', `race-cli-${i}`, '--roles', 'analyst']));
    const viaHttp = Array.from({ length: 4 }, (_, i) =>
      fetch(`${both()[i % 2]!.baseUrl}/admin/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `race-http-${i}`, roles: ['analyst'] }),
      }).then(async (response) => {
        expect(response.status).toBe(201);
        return ((await response.json()) as { key: string }).key;
      }),
    );
    const keys = [...(await Promise.all(viaCli)).map((result) => addedKey(result.output).key), ...(await Promise.all(viaHttp))];
    const stored = (JSON.parse(readFileSync(keysFile, 'utf8')) as { keys: { name: string }[] }).keys.map((entry) => entry.name);
    expect(stored).toEqual(expect.arrayContaining(['operator', ...[0, 1, 2, 3].flatMap((i) => [`race-cli-${i}`, `race-http-${i}`])]));
    for (const key of keys) await eventually('every raced key works on both instances', everywhere(key, 200));
  }, 90_000);

  it('a half-written, invalid or missing keys file keeps the last good keys and logs a warning; the next good file applies', async () => {
    const warnings = () => a.output().split('\n').filter((line) => line.includes('keys file')).length;
    for (const [what, damage] of [
      ['half written', () => writeFileSync(keysFile, '{ "keys": [ { "id": "0123456789ab", "na')],
      ['an invalid entry', () => writeFileSync(keysFile, JSON.stringify({ keys: [{ id: 'nothex', name: 'x', roles: ['admin'] }] }))],
      ['not a key list', () => writeFileSync(keysFile, '{}')],
      ['removed', () => rmSync(keysFile)],
    ] as const) {
      const before = warnings();
      damage();
      await eventually(`a warning about the keys file (${what})`, async () => warnings() > before);
      expect(await everywhere(admin.key, 200)()).toBe(true);
      if (what === 'half written') {
        // Not overwritten by a key added meanwhile: 503, saying why, without the server's paths.
        const refused = await fetch(`${a.baseUrl}/admin/api-keys`, { method: 'POST', headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', roles: ['writer'] }) });
        const problem = (await refused.json()) as { code: string; detail: string };
        expect([refused.status, problem.code]).toEqual([503, 'API_KEY.FILE_UNUSABLE']);
        expect(problem.detail).toMatch(/not valid JSON/);
        expect(problem.detail).not.toContain(dir.path);
      }
      if (what === 'removed') {
        // Not made again holding one key (every other one revoked without a word), nor by a
        // revoke that then answers 404: both refused, saying what to do.
        const authorization = `Bearer ${admin.key}`;
        const listed = (await (await fetch(`${a.baseUrl}/admin/api-keys`, { headers: { authorization } })).json()) as { keys: { id: string }[] };
        const known = listed.keys[0]!.id; // still accepted by this instance
        for (const [method, path, body] of [
          ['POST', '/admin/api-keys', JSON.stringify({ name: 'x', roles: ['writer'] })],
          ['DELETE', `/admin/api-keys/${known}`, undefined],
          ['DELETE', '/admin/api-keys/abcdef012345', undefined],
        ] as const) {
          const refused = await fetch(`${a.baseUrl}${path}`, { method, headers: body === undefined ? { authorization } : { authorization, 'content-type': 'application/json' }, body });
          const problem = (await refused.json()) as { code: string; detail: string };
          expect([method, path, refused.status, problem.code]).toEqual([method, path, 503, 'API_KEY.FILE_UNUSABLE']);
          expect(problem.detail).toMatch(/keys file is missing, and this instance still accepts the \d+ key\(s\) it last read from it.*write \{"keys": \[\]\}/);
        }
        expect(existsSync(keysFile)).toBe(false);
        expect(await everywhere(admin.key, 200)()).toBe(true);
      }
    }

    const next = generateApiKey({ name: 'next', roles: ['auditor'] }, new Date());
    writeFileSync(`${keysFile}.tmp`, JSON.stringify({ keys: [next.stored] }));
    // An editor's atomic save: write a temporary file, then rename it over the old one.
    const { renameSync } = await import('node:fs');
    renameSync(`${keysFile}.tmp`, keysFile);
    await eventually('the next good file applies on both instances', everywhere(next.key, 200));
    await eventually('keys no longer in the file are refused', everywhere(admin.key, 401));
  }, 60_000);
});
