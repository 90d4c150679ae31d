import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { runKeysCli } from './support/api-keys-cli';

// A value a client sent comes back in a refusal's detail and errors[].message, which operators read
// in logs and consoles: quoted there, it must read as sent, on one line, and short (quotedValue in
// libs/sales-process). JSON.stringify escaped controls but not a right-to-left override, U+0085, a
// line separator or a zero-width character, and several messages quoted the value raw.

/** What acts on a reader rather than shows: none may reach a message raw. */
const ACTS_ON_READER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

interface Hostile {
  readonly name: string;
  /** Short and visible enough that the domain judges it (a name is 1 to 64 characters). */
  readonly value: string;
  /** How a message writes it; undefined for the long one, which is cut. */
  readonly escaped?: string;
}

const HOSTILE: readonly Hostile[] = [
  { name: 'an escape sequence', value: 'a\u001b[31mred', escaped: 'a\\u001b[31mred' },
  { name: 'a line break', value: 'a\r\nb', escaped: 'a\\r\\nb' },
  { name: 'a right-to-left override', value: 'evil\u202etxt.exe', escaped: 'evil\\u202etxt.exe' },
  { name: 'a next line (U+0085)', value: 'a\u0085b', escaped: 'a\\u0085b' },
  { name: 'a line separator (U+2028)', value: 'a\u2028b', escaped: 'a\\u2028b' },
  { name: 'a zero-width space', value: 'a\u200bb', escaped: 'a\\u200bb' },
  { name: 'a very long value', value: 'x'.repeat(5000) },
];

interface Route {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  /** Whether the message quotes a long value at all (a length refusal need not). */
  readonly quotesLong?: boolean;
  readonly send: (api: ApiTestApp, open: string, value: string) => Promise<{ status: number; body: Record<string, unknown> }>;
}

const ROUTES: readonly Route[] = [
  { name: 'a query parameter (asOf)', status: 400, code: 'REQUEST.VALIDATION_FAILED', quotesLong: true, send: (api, _open, value) => api.http.get('/pipeline').query({ asOf: value }) },
  { name: 'a body field (occurredAt)', status: 400, code: 'REQUEST.VALIDATION_FAILED', quotesLong: true, send: (api, _open, value) => api.http.post('/opportunities').send({ title: 'T', processId: 'standard', occurredAt: value }) },
  { name: 'a body field the process judges (a move’s stage)', status: 422, code: 'OPPORTUNITY.UNKNOWN_STAGE', send: (api, open, value) => api.http.post(`/opportunities/${open}/move`).send({ stage: value }) },
  { name: 'a body field the process judges (a lost reason)', status: 422, code: 'OPPORTUNITY.INVALID_LOST_REASON', send: (api, open, value) => api.http.post(`/opportunities/${open}/lose`).send({ reason: value }) },
  { name: 'a body field the domain judges (expectedCloseDate)', status: 400, code: 'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE', send: (api, _open, value) => api.http.post('/opportunities').send({ title: 'T', processId: 'standard', expectedCloseDate: value }) },
  { name: 'a body field’s name', status: 400, code: 'REQUEST.VALIDATION_FAILED', quotesLong: true, send: (api, open, value) => api.http.post(`/opportunities/${open}/move`).send({ stage: 'qualification', [value]: 1 }) },
  { name: 'a path id (a process)', status: 404, code: 'PROCESS.NOT_FOUND', send: (api, _open, value) => api.http.get(`/processes/${encodeURIComponent(value)}`) },
  { name: 'a path id (a projection)', status: 404, code: 'PROJECTION.NOT_FOUND', send: (api, _open, value) => api.http.post(`/admin/projections/${encodeURIComponent(value)}/rebuild`) },
  { name: 'a body field’s name given twice', status: 400, code: 'REQUEST.MALFORMED_JSON', quotesLong: true, send: (api, open, value) => api.http.post(`/opportunities/${open}/move`).set('content-type', 'application/json').send(`{${JSON.stringify(value)}:1,${JSON.stringify(value)}:2}`) },
  { name: 'a query parameter the registry judges (a process version)', status: 404, code: 'PROCESS.VERSION_NOT_FOUND', quotesLong: true, send: (api, _open, value) => api.http.get('/processes/standard').query({ version: value }) },
];

describe('a value a client sent is quoted back escaped and cut short, on every route', () => {
  const dir = temporaryDirectory();
  let api: ApiTestApp;
  let open: string;

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db` });
    open = (await api.http.post('/opportunities').send({ title: 'Open deal', processId: 'standard' }).expect(201)).body.id as string;
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  const cases = ROUTES.flatMap((route) => HOSTILE.map((hostile) => ({ route, hostile, label: `${route.name}: ${hostile.name}` })));

  it.each(cases)('$label', async ({ route, hostile }) => {
    const response = await route.send(api, open, hostile.value);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    const body = response.body as { code: string; detail: string; errors?: { message: string }[] };
    const messages = [body.detail, ...(body.errors ?? []).map((error) => error.message)];
    for (const message of messages) {
      expect(message).not.toMatch(ACTS_ON_READER);
      expect(message).not.toMatch(/x{65}/);
    }
    if (hostile.escaped !== undefined) {
      expect([response.status, body.code]).toEqual([route.status, route.code]);
      expect(body.detail).toContain(hostile.escaped);
    } else if (route.quotesLong) {
      expect(body.detail).toContain('(5000 characters)');
    }
  });

  // A header reaches the service as Latin-1: of the hostile characters, U+0085 (byte 0x85) gets through.
  it.each([
    ['If-Match', (api: ApiTestApp) => api.http.post(`/opportunities/${open}/move`).set('If-Match', '"1"\u0085x').send({ stage: 'qualification' }), 'REQUEST.INVALID_IF_MATCH'],
    ['Accept', (api: ApiTestApp) => api.http.get('/processes').set('Accept', 'text/x\u0085y'), 'REQUEST.NOT_ACCEPTABLE'],
    ['Accept on an analytics route', (api: ApiTestApp) => api.http.get('/pipeline').set('Accept', 'text/x\u0085y'), 'REQUEST.NOT_ACCEPTABLE'],
  ] as const)('a header (%s) is quoted escaped', async (_, send, code) => {
    const response = await send(api);
    expect(response.body.code).toBe(code);
    expect(response.body.detail).not.toMatch(ACTS_ON_READER);
    expect(response.body.detail).toContain('\\u0085');
  });
});

// `npm run api-keys` quotes what the operator typed (an option, a role, a key id), what the keys file
// holds (a key's name: a file written by an earlier version or by hand may hold format characters)
// and the file's path (API_KEYS_FILE) the same way: escaped, one line each.
describe('npm run api-keys quotes what it was given escaped, in one line', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());
  const VALUE = 'a\u001b[31m\u202eb\u0085c\u2028d\u200be\r\nKey revoked';
  const ESCAPED = 'a\\u001b[31m\\u202eb\\u0085c\\u2028d\\u200be\\r\\nKey revoked';

  /** Every line the CLI printed (split where it ends its lines): none holds what acts on a reader. */
  function expectSafe(output: string): void {
    for (const line of output.split('\n')) expect(line).not.toMatch(ACTS_ON_READER);
  }

  const keysFile = () => {
    const file = join(dir.path, 'api-keys.json');
    const { stored } = generateApiKey({ name: 'billing', roles: ['writer'] }, new Date());
    // A name as an earlier version or a hand edit may have left it: format characters, no control.
    writeFileSync(file, JSON.stringify({ keys: [stored, { ...generateApiKey({ name: 'x', roles: ['analyst'] }, new Date()).stored, name: 'evil\u202etxt.exe\u200b\u2028' }] }));
    return file;
  };

  it.each([
    ['an option add does not take', ['add', `--${VALUE}`, 'x'], 'add does not take'],
    ['a role that is none', ['add', '--name', 'ok', '--roles', `writer,${VALUE}`], 'unknown role(s)'],
    ['an argument list does not take', ['list', VALUE], 'list takes no arguments'],
    ['a key id the file does not hold', ['revoke', VALUE], 'no key'],
  ])('%s', async (_what, args, said) => {
    const { code, output } = await runKeysCli(keysFile(), args);
    expect(code).toBe(2);
    expect(output).toContain(said);
    expect(output).toContain(ESCAPED);
    expectSafe(output);
  });

  it('a key name the file holds, in list', async () => {
    const { code, output } = await runKeysCli(keysFile(), ['list']);
    expect(code).toBe(0);
    expect(output).toContain('evil\\u202etxt.exe\\u200b\\u2028');
    expectSafe(output);
  });

  it('the keys file path (API_KEYS_FILE), in what add, list and revoke say', async () => {
    const file = join(dir.path, `keys${VALUE.replace(/[\r\n]/g, '')}.json`);
    const listed = await runKeysCli(file, ['list']);
    expect(listed.output).toContain('No keys file at');
    expectSafe(listed.output);
    const revoked = await runKeysCli(file, ['revoke', 'abcdef012345']);
    expect([revoked.code, revoked.output]).toEqual([2, expect.stringContaining('no keys file at')]);
    expectSafe(revoked.output);
    const added = await runKeysCli(file, ['add', '--name', 'ok', '--roles', 'writer']);
    expect([added.code, added.output]).toEqual([0, expect.stringContaining('added to')]);
    expect(added.output).toContain('\\u202e');
    expectSafe(added.output);
  });
});
