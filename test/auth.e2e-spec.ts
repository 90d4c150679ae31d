import { randomUUID } from 'node:crypto';
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'supertest';
import { spawnApi } from './support/api-child-process';
import { SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';

type Role = 'writer' | 'analyst' | 'auditor' | 'admin';
const ROLES: Role[] = ['writer', 'analyst', 'auditor', 'admin'];
const JWT_SECRET = 'test-secret-with-more-than-32-characters!';

type Api = ApiTestApp & { keys: Record<string, string> };
type Prepared = { path: string; body?: object };

const openDeal = async (api: Api, body: object = {}) =>
  (await api.http.post('/opportunities').send({ title: 'Deal', processId: 'standard', teamId: 'direct', ...body }).expect(201)).body.id as string;
const openWinnable = async (api: Api) => {
  const id = (await api.http.post('/opportunities').send({ title: 'Quick', processId: 'inside-sales', teamId: 'inside' }).expect(201)).body.id;
  await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'contact-made', met: true }).expect(200);
  await api.http.post(`/opportunities/${id}/move`).send({ stage: 'quote' }).expect(200);
  await api.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'quote-sent', met: true }).expect(200);
  return id;
};

/**
 * Who may call what, written down independently of the code, with a request that succeeds for
 * an allowed caller. Admin may call everything. Every route of the OpenAPI document is listed.
 */
/** Opportunities opened on an older version of "standard", to migrate; and an older inside-sales version. */
const onOldVersion: string[] = [];
let oldInsideSales = '';

/** Records older versions of both shipped processes (renamed) and opens deals on the older "standard". */
async function seedOlderVersions(eventStorePath: string, dir: string): Promise<void> {
  const processesDir = join(dir, 'old-processes');
  mkdirSync(processesDir);
  for (const name of ['standard', 'inside-sales']) {
    writeFileSync(join(processesDir, `${name}.yaml`), readFileSync(join(SHIPPED_PROCESSES, `${name}.yaml`), 'utf8').replace(/^name: (.*)$/m, 'name: $1 (last year)'));
  }
  const old = await startApiTestApp({ eventStorePath, processesDir });
  oldInsideSales = (await old.http.get('/processes/inside-sales').expect(200)).body.version;
  for (let i = 0; i < 12; i += 1) onOldVersion.push(await openDeal(old));
  await old.close();
}

const POLICY: Record<string, { roles: Role[] | 'public'; prepare: (api: Api) => Promise<Prepared> }> = {
  'GET /health': { roles: 'public', prepare: async () => ({ path: '/health' }) },
  'POST /opportunities': { roles: ['writer'], prepare: async () => ({ path: '/opportunities', body: { title: 'New', processId: 'standard', teamId: 'direct' } }) },
  'POST /opportunities/{id}/criteria': {
    roles: ['writer'],
    prepare: async (api) => {
      const id = await openDeal(api);
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      return { path: `/opportunities/${id}/criteria`, body: { criterionId: 'goals', met: true } };
    },
  },
  'POST /opportunities/{id}/move': { roles: ['writer'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}/move`, body: { stage: 'qualification' } }) },
  'POST /opportunities/{id}/win': { roles: ['writer'], prepare: async (api) => ({ path: `/opportunities/${await openWinnable(api)}/win`, body: {} }) },
  'POST /opportunities/{id}/lose': { roles: ['writer'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}/lose`, body: { reason: 'price' } }) },
  'POST /opportunities/{id}/reopen': {
    roles: ['writer'],
    prepare: async (api) => {
      const id = await openDeal(api);
      await api.http.post(`/opportunities/${id}/lose`).send({ reason: 'timing' }).expect(200);
      return { path: `/opportunities/${id}/reopen`, body: {} };
    },
  },
  'PATCH /opportunities/{id}': { roles: ['writer'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}`, body: { amount: 5 } }) },
  'GET /opportunities/{id}': { roles: ['writer', 'analyst', 'auditor'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}?asOf=2999-01-01T00:00:00Z` }) },
  'GET /opportunities/{id}/history': { roles: ['writer', 'analyst', 'auditor'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}/history?view=timeline` }) },
  'GET /opportunities/{id}/verify': { roles: ['auditor'], prepare: async (api) => ({ path: `/opportunities/${await openDeal(api)}/verify` }) },
  'POST /opportunities/{id}/migrate': {
    roles: [],
    prepare: async (api) => ({ path: `/opportunities/${onOldVersion.pop()}/migrate`, body: { toVersion: (await api.http.get('/processes/standard').expect(200)).body.version } }),
  },
  'POST /processes/{id}/migrate': {
    roles: [],
    prepare: async (api) => ({ path: '/processes/inside-sales/migrate', body: { fromVersion: oldInsideSales, toVersion: (await api.http.get('/processes/inside-sales').expect(200)).body.version } }),
  },
  'GET /processes': { roles: ['writer', 'analyst', 'auditor'], prepare: async () => ({ path: '/processes' }) },
  'GET /processes/{id}': { roles: ['writer', 'analyst', 'auditor'], prepare: async () => ({ path: '/processes/standard' }) },
  'GET /processes/{id}/machine': { roles: ['writer', 'analyst', 'auditor'], prepare: async () => ({ path: '/processes/standard/machine' }) },
  'GET /me': { roles: ['writer', 'analyst', 'auditor'], prepare: async () => ({ path: '/me' }) },
  // A rep's board: writers read the pipeline too (team-limited ones their teams' only).
  'GET /pipeline': { roles: ['analyst', 'writer'], prepare: async () => ({ path: '/pipeline?include=opportunities' }) },
  'GET /opportunities': { roles: ['analyst', 'writer'], prepare: async () => ({ path: '/opportunities?q=a' }) },
  'GET /analytics/win-loss': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/win-loss?groupBy=team' }) },
  'GET /analytics/stage-durations': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/stage-durations' }) },
  'GET /analytics/funnel': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/funnel?format=csv' }) },
  'GET /analytics/transitions': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/transitions' }) },
  'GET /analytics/win-probability/calibration': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/win-probability/calibration' }) },
  'GET /analytics/forecast': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/forecast' }) },
  'GET /analytics/forecast-accuracy': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/forecast-accuracy' }) },
  'GET /analytics/rotting': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/rotting' }) },
  'GET /analytics/waterfall': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/waterfall?by=stage' }) },
  'GET /analytics/velocity': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/velocity?groupBy=team' }) },
  'GET /analytics/cohorts': { roles: ['analyst'], prepare: async () => ({ path: '/analytics/cohorts?by=month' }) },
  'GET /admin/projections': { roles: [], prepare: async () => ({ path: '/admin/projections' }) },
  'POST /admin/projections/{name}/rebuild': { roles: [], prepare: async () => ({ path: '/admin/projections/transitions/rebuild', body: {} }) },
  'GET /admin/api-keys': { roles: [], prepare: async () => ({ path: '/admin/api-keys' }) },
  'POST /admin/api-keys': { roles: [], prepare: async () => ({ path: '/admin/api-keys', body: { name: 'made-by-policy-test', roles: ['analyst'] } }) },
  'DELETE /admin/api-keys/{id}': {
    roles: [],
    prepare: async (api) => ({ path: `/admin/api-keys/${(await api.http.post('/admin/api-keys').send({ name: 'to-revoke', roles: ['analyst'] }).expect(201)).body.id}` }),
  },
};

function call(api: Api, route: string, prepared: Prepared, key?: string): Test {
  const method = route.split(' ')[0]!.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
  let request = api.anonymous[method](prepared.path);
  if (key) request = request.set('Authorization', `Bearer ${key}`);
  return prepared.body ? request.send(prepared.body) : request;
}

function expectProblem(body: Record<string, unknown>, status: number, code: string): void {
  expect(body).toMatchObject({ status, code, detail: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+|node_modules|\/work\//);
}

describe('authentication and roles', () => {
  const dir = temporaryDirectory();
  let api: Api;

  beforeAll(async () => {
    await seedOlderVersions(`${dir.path}/events.db`, dir.path);
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      extraKeys: [
        ...ROLES.map((role) => ({ name: role, roles: [role] })),
        { name: 'direct-writer', roles: ['writer' as const], teams: ['direct'] },
        { name: 'direct-analyst', roles: ['analyst' as const, 'auditor' as const], teams: ['direct'] },
        // As a keys file written by hand (or by `api-keys add --teams direct,direct`) may hold it.
        { name: 'direct-twice', roles: ['analyst' as const], teams: ['direct', 'direct'] },
        { name: 'crm', roles: ['writer' as const], mayActOnBehalf: true },
      ],
      env: { JWT_SECRET },
    });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('has a policy for every route the API describes, and nothing more', async () => {
    const document = (await api.anonymous.get('/docs/openapi.json').expect(200)).body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(Object.keys(POLICY).sort());
  });

  describe.each(Object.entries(POLICY))('%s', (route, policy) => {
    it.each(ROLES)('as %s', async (role) => {
      const response = await call(api, route, await policy.prepare(api), api.keys[role]);
      const allowed = policy.roles === 'public' || role === 'admin' || policy.roles.includes(role);
      if (allowed) {
        expect(response.status).toBeGreaterThanOrEqual(200);
        expect(response.status).toBeLessThan(300);
      } else {
        expect(response.status).toBe(403);
        expectProblem(response.body, 403, 'AUTH.FORBIDDEN');
        // The roles that would do, never an empty list (an admin-only route names admin).
        expect(response.body.requiredRoles).toEqual(policy.roles.length === 0 ? ['admin'] : policy.roles);
        expect(response.body.detail).not.toMatch(/roles +\(/);
        expect(response.body.detail).not.toMatch(/\badmin\b.*\(or admin\)/); // admin named once
      }
    });

    it('without credentials, and with a wrong key', async () => {
      const prepared = await policy.prepare(api);
      const anonymous = await call(api, route, prepared);
      const forged = await call(api, route, prepared, `${api.keys.admin!.slice(0, -4)}AAAA`);
      if (policy.roles === 'public') {
        expect(anonymous.status).toBe(200);
        return;
      }
      for (const response of [anonymous, forged]) {
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate'] ?? 'Bearer').toMatch(/Bearer/);
        expectProblem(response.body, 401, 'AUTH.UNAUTHENTICATED');
      }
    });
  });

  it('refuses malformed Authorization headers and unknown key ids alike', async () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer sck_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer not-a-key']) {
      const response = await api.anonymous.get('/processes').set('Authorization', header);
      expect(response.status).toBe(401);
    }
  });

  describe('team limits', () => {
    it('let a writer limited to "direct" open and move only direct opportunities', async () => {
      const writer = api.keys['direct-writer']!;
      const own = await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${writer}`).send({ title: 'Mine', processId: 'standard', teamId: 'direct' }).expect(201);
      await api.anonymous.post(`/opportunities/${own.body.id}/move`).set('Authorization', `Bearer ${writer}`).send({ stage: 'qualification' }).expect(200);

      const foreign = await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${writer}`).send({ title: 'Theirs', processId: 'standard', teamId: 'partners' });
      expectProblem(foreign.body, 403, 'AUTH.TEAM_FORBIDDEN');
      const teamless = await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${writer}`).send({ title: 'Nobody', processId: 'standard' });
      expectProblem(teamless.body, 403, 'AUTH.TEAM_FORBIDDEN');

      const partners = await openDeal(api, { teamId: 'partners' });
      // Another team's deal is not found, as an unknown id is: an id confirms nothing (issue 13).
      const move = await api.anonymous.post(`/opportunities/${partners}/move`).set('Authorization', `Bearer ${writer}`).send({ stage: 'qualification' });
      expectProblem(move.body, 404, 'OPPORTUNITY.NOT_FOUND');
      const transfer = await api.anonymous.patch(`/opportunities/${own.body.id}`).set('Authorization', `Bearer ${writer}`).send({ teamId: 'partners' });
      expectProblem(transfer.body, 403, 'AUTH.TEAM_FORBIDDEN');
      // Nothing was appended by the refused commands.
      expect((await api.http.get(`/opportunities/${partners}`).expect(200)).body.revision).toBe(0);
    });

    it('answers a stale revision on an unknown id as it answers one on another team\'s deal: not found', async () => {
      const writer = api.keys['direct-writer']!;
      const partners = await openDeal(api, { teamId: 'partners' });
      const unknown = randomUUID();
      const answers = [];
      for (const id of [partners, unknown]) {
        const asked = { ifMatch: await api.anonymous.post(`/opportunities/${id}/move`).set('Authorization', `Bearer ${writer}`).set('If-Match', '"7"').send({ stage: 'qualification' }) };
        const inBody = await api.anonymous.post(`/opportunities/${id}/criteria`).set('Authorization', `Bearer ${writer}`).send({ criterionId: 'goals', met: true, expectedRevision: 7 });
        const patched = await api.anonymous.patch(`/opportunities/${id}`).set('Authorization', `Bearer ${writer}`).send({ title: 'x', expectedRevision: 7 });
        answers.push([asked.ifMatch, inBody, patched].map((response) => [response.status, response.body.code]));
      }
      expect(answers[0]).toEqual([[404, 'OPPORTUNITY.NOT_FOUND'], [404, 'OPPORTUNITY.NOT_FOUND'], [404, 'OPPORTUNITY.NOT_FOUND']]);
      expect(answers[1]).toEqual(answers[0]);
    });

    it('let a writer limited to "direct" read its own team\'s pipeline (the rep\'s board) and say who it is, not another team\'s', async () => {
      const writer = api.keys['direct-writer']!;
      const me = await api.anonymous.get('/me').set('Authorization', `Bearer ${writer}`).expect(200);
      expect(me.body).toEqual({ name: 'direct-writer', roles: ['writer'], teams: ['direct'] });
      expect((await api.anonymous.get('/me').set('Authorization', `Bearer ${api.keys.analyst!}`).expect(200)).body).toEqual({ name: 'analyst', roles: ['analyst'], teams: null });
      // No team named: its one team is implied.
      const own = await api.anonymous.get('/pipeline?processId=standard').set('Authorization', `Bearer ${writer}`).expect(200);
      const named = await api.anonymous.get('/pipeline?processId=standard&teamId=direct').set('Authorization', `Bearer ${writer}`).expect(200);
      expect(own.body).toEqual(named.body);
      const foreign = await api.anonymous.get('/pipeline?processId=standard&teamId=partners').set('Authorization', `Bearer ${writer}`);
      expectProblem(foreign.body, 403, 'AUTH.TEAM_FORBIDDEN');
      // The history of its own team's deal (the board's timeline), not another team's.
      const mine = (await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${writer}`).send({ title: 'Rep timeline', processId: 'standard', teamId: 'direct' }).expect(201)).body.id;
      expect((await api.anonymous.get(`/opportunities/${mine}/history`).set('Authorization', `Bearer ${writer}`).expect(200)).body.events.map((event: { type: string }) => event.type)).toEqual(['OpportunityOpened']);
      const theirs = await openDeal(api, { teamId: 'partners' });
      expectProblem((await api.anonymous.get(`/opportunities/${theirs}/history`).set('Authorization', `Bearer ${writer}`)).body, 404, 'OPPORTUNITY.NOT_FOUND');
      // The other analytics stay an analyst's.
      expectProblem((await api.anonymous.get('/analytics/funnel').set('Authorization', `Bearer ${writer}`)).body, 403, 'AUTH.FORBIDDEN');
    });

    it('treat a key whose teams name one team twice as limited to that one team: it is implied, as for any one-team key', async () => {
      const twice = api.keys['direct-twice']!;
      expect((await api.anonymous.get('/me').set('Authorization', `Bearer ${twice}`).expect(200)).body.teams).toEqual(['direct']);
      const implied = await api.anonymous.get('/pipeline?processId=standard').set('Authorization', `Bearer ${twice}`).expect(200);
      expect(implied.body).toEqual((await api.anonymous.get('/pipeline?processId=standard&teamId=direct').set('Authorization', `Bearer ${twice}`).expect(200)).body);
      await api.anonymous.get('/analytics/funnel').set('Authorization', `Bearer ${twice}`).expect(200);
      const foreign = await api.anonymous.get('/analytics/funnel?teamId=partners').set('Authorization', `Bearer ${twice}`);
      expectProblem(foreign.body, 403, 'AUTH.TEAM_FORBIDDEN');
      expect(foreign.body.allowedTeams).toEqual(['direct']);
    });

    it('let an analyst limited to "direct" read only direct opportunities and their history', async () => {
      const analyst = api.keys['direct-analyst']!;
      const direct = await openDeal(api, { teamId: 'direct' });
      const partners = await openDeal(api, { teamId: 'partners' });
      await api.anonymous.get(`/opportunities/${direct}`).set('Authorization', `Bearer ${analyst}`).expect(200);
      await api.anonymous.get(`/opportunities/${direct}/history`).set('Authorization', `Bearer ${analyst}`).expect(200);
      expectProblem((await api.anonymous.get(`/opportunities/${partners}`).set('Authorization', `Bearer ${analyst}`)).body, 404, 'OPPORTUNITY.NOT_FOUND');
      expectProblem((await api.anonymous.get(`/opportunities/${partners}/history`).set('Authorization', `Bearer ${analyst}`)).body, 404, 'OPPORTUNITY.NOT_FOUND');
    });
  });

  describe('the actor on events', () => {
    it('is the authenticated key, whatever the request claims', async () => {
      const id = (await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${api.keys.writer}`).send({ title: 'Who', processId: 'standard' }).expect(201)).body.id;
      const history = (await api.http.get(`/opportunities/${id}/history`).expect(200)).body;
      expect(history.events[0].metadata).toMatchObject({ actor: 'writer', authenticatedBy: expect.stringMatching(/^api-key:/) });
    });

    it('refuses a forged X-Actor from a key without on-behalf rights, and records it for one that has them', async () => {
      const forged = await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${api.keys.writer}`).set('X-Actor', 'the-ceo').send({ title: 'Forged', processId: 'standard' });
      expectProblem(forged.body, 403, 'AUTH.ON_BEHALF_FORBIDDEN');
      const id = (await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${api.keys.crm}`).set('X-Actor', 'ana').send({ title: 'For Ana', processId: 'standard' }).expect(201)).body.id;
      const history = (await api.http.get(`/opportunities/${id}/history`).expect(200)).body;
      expect(history.events[0].metadata).toMatchObject({ actor: 'crm', onBehalfOf: 'ana' });
    });
  });

  describe('JWT bearer tokens', () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = (claims: object) => {
      const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
      return `${input}.${createHmac('sha256', JWT_SECRET).update(input).digest('base64url')}`;
    };
    const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

    it('authenticate with the roles, teams and name the token carries', async () => {
      const jwt = token({ sub: 'quoting-service', roles: ['writer'], teams: ['direct'], exp: inAnHour() });
      const opened = await api.anonymous.post('/opportunities').set('Authorization', `Bearer ${jwt}`).send({ title: 'Via JWT', processId: 'standard', teamId: 'direct' }).expect(201);
      expect((await api.http.get(`/opportunities/${opened.body.id}/history`).expect(200)).body.events[0].metadata).toMatchObject({ actor: 'quoting-service', authenticatedBy: 'jwt' });
      // Its roles bound it like a key's: a writer does not verify hash chains (the auditor's check).
      expectProblem((await api.anonymous.get(`/opportunities/${opened.body.id}/verify`).set('Authorization', `Bearer ${jwt}`)).body, 403, 'AUTH.FORBIDDEN');
    });

    it('are refused when expired, unsigned or without a role', async () => {
      for (const jwt of [
        token({ sub: 's', roles: ['writer'], exp: Math.floor(Date.now() / 1000) - 3600 }),
        `${encode({ alg: 'none' })}.${encode({ sub: 's', roles: ['admin'], exp: inAnHour() })}.`,
        token({ sub: 's', roles: ['superuser'], exp: inAnHour() }),
      ]) {
        expectProblem((await api.anonymous.get('/processes').set('Authorization', `Bearer ${jwt}`)).body, 401, 'AUTH.UNAUTHENTICATED');
      }
    });
  });

  it('sends security headers on answers and refusals alike', async () => {
    for (const response of [await api.http.get('/processes').expect(200), await api.anonymous.get('/processes').expect(401), await api.http.get('/no-such-route').expect(404)]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      // Over plain HTTP, as the tests speak: HSTS is for answers over TLS (http/security.headers.spec.ts).
      expect(response.headers['strict-transport-security']).toBeUndefined();
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['content-security-policy']).toContain("default-src 'self'");
      expect(response.headers['content-security-policy']).toContain("object-src 'none'");
    }
  });
});

describe('rate limits', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('answer 429 with Retry-After past the limit, per caller', async () => {
    const api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      for (let i = 0; i < 5; i += 1) await api.http.get('/processes').expect(200);
      const limited = await api.http.get('/processes').expect(429);
      expectProblem(limited.body, 429, 'REQUEST.RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await api?.close();
    }
  });

  it('counts every route of a caller against one limit, not a limit per route', async () => {
    const api = await startApiTestApp({ eventStorePath: `${dir.path}/events-routes.db`, env: { RATE_LIMIT_PER_MINUTE: '5' } });
    try {
      for (const path of ['/processes', '/me', '/pipeline', '/processes/standard', '/me']) await api.http.get(path).expect(200);
      for (const path of ['/processes', '/pipeline', '/analytics/funnel']) {
        expectProblem((await api.http.get(path).expect(429)).body, 429, 'REQUEST.RATE_LIMITED');
      }
      const command = await api.http.post('/opportunities').send({ title: 'Deal', processId: 'standard' }).expect(429);
      expect(Number(command.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await api?.close();
    }
  });
});

describe('first run', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('creates an admin key, prints it once, stores only its hash with mode 0600; AUTH=off says so loudly', async () => {
    const keysFile = `${dir.path}/api-keys.json`;
    const env = { AUTH: 'on', EVENT_STORE_PATH: `${dir.path}/events.db`, API_KEYS_FILE: keysFile };
    const first = await spawnApi(env);
    let key: string;
    try {
      key = /Authorization: Bearer (sck_\S+)/.exec(first.output())![1]!;
      const secret = key.slice('sck_'.length + 13);
      expect(secret).toHaveLength(43);
      expect(readFileSync(keysFile, 'utf8')).not.toContain(secret);
      expect(statSync(keysFile).mode & 0o777).toBe(0o600);
      // The event store is a file only on SQLite; on KurrentDB the server keeps it.
      if (E2E_STORE === 'sqlite') expect(statSync(`${dir.path}/events.db`).mode & 0o777).toBe(0o600);
      expect((await fetch(`${first.baseUrl}/processes`)).status).toBe(401);
      expect((await fetch(`${first.baseUrl}/processes`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited();
    }

    const second = await spawnApi(env);
    try {
      expect(second.output()).not.toContain('Authorization: Bearer');
      expect((await fetch(`${second.baseUrl}/processes`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited();
    }

    const open = await spawnApi({ ...env, AUTH: 'off' });
    try {
      expect(open.output()).toMatch(/AUTH=off: authentication is DISABLED/);
      expect((await fetch(`${open.baseUrl}/processes`)).status).toBe(200);
    } finally {
      open.child.kill('SIGTERM');
      await open.exited();
    }
  }, 60_000);
});
