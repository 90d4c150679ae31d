import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawnApi } from './support/api-child-process';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Tokens are made here with node:crypto alone, independently of the library the API verifies
// them with, and the JWKS is served by a plain node:http server as an identity provider would.

type Api = ApiTestApp & { keys: Record<string, string> };
type Alg = 'HS256' | 'RS256' | 'ES256' | 'none';

const SECRET = 'a-shared-secret-of-at-least-32-characters';
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function jwt(claims: Record<string, unknown>, options: { alg?: Alg; key?: KeyObject | string; kid?: string } = {}): string {
  const alg = options.alg ?? 'HS256';
  const header = { alg, typ: 'JWT', ...(options.kid !== undefined ? { kid: options.kid } : {}) };
  const input = `${encode(header)}.${encode(claims)}`;
  if (alg === 'none') return `${input}.`;
  if (alg === 'HS256') return `${input}.${createHmac('sha256', (options.key as string | undefined) ?? SECRET).update(input).digest('base64url')}`;
  const key = options.key as KeyObject;
  const signature = alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const inAnHour = (now: number = Date.now()) => Math.floor(now / 1000) + 3600;

async function call(api: Api, token: string, request: { method?: 'get' | 'post'; path?: string; body?: object } = {}) {
  const method = request.method ?? 'get';
  const pending = api.anonymous[method](request.path ?? '/processes').set('Authorization', `Bearer ${token}`);
  return request.body ? pending.send(request.body) : pending;
}

function expectUnauthenticated(response: { status: number; body: Record<string, unknown> }, mentioning: RegExp): void {
  expect(response.status).toBe(401);
  expect(response.body).toMatchObject({ status: 401, code: 'AUTH.UNAUTHENTICATED' });
  expect(response.body.detail).toMatch(mentioning);
}

describe('JWT claims are checked, not coerced', () => {
  const dir = temporaryDirectory();
  let api: Api;
  const open = (token: string, teamId: string) => call(api, token, { method: 'post', path: '/opportunities', body: { title: 'By token', processId: 'standard', teamId } });

  beforeAll(async () => {
    api = await startApiTestApp({ eventStorePath: `${dir.path}/claims.db`, env: { JWT_SECRET: SECRET } });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it.each([
    ['null', null],
    ['an object', {}],
    ['a number', 5],
    ['a boolean', true],
    ['an empty string', ''],
    ['a list with a number', ['direct', 2]],
    ['a list with an empty string', ['']],
    ['a list of lists', [['direct']]],
  ])('refuses "teams" as %s, naming the claim, instead of granting every team', async (_shape, teams) => {
    const token = jwt({ sub: 'svc', roles: ['writer'], teams, exp: inAnHour() });
    expectUnauthenticated(await open(token, 'partners'), /"teams"/);
    expectUnauthenticated(await call(api, token), /"teams"/);
  });

  it.each([
    ['null', null],
    ['an object', { writer: true }],
    ['a number', 1],
    ['an empty string', ''],
    ['a list with a number', ['writer', 1]],
    ['an empty list', []],
    ['a list of unknown roles only', ['superuser']],
  ])('refuses "roles" as %s, naming the claim', async (_shape, roles) => {
    expectUnauthenticated(await call(api, jwt({ sub: 'svc', roles, exp: inAnHour() })), /"roles"/);
  });

  it('refuses "act_on_behalf" that is not a boolean, and "sub" that is not a non-empty string', async () => {
    expectUnauthenticated(await call(api, jwt({ sub: 'svc', roles: ['writer'], act_on_behalf: 'yes', exp: inAnHour() })), /"act_on_behalf"/);
    for (const sub of [undefined, '', 42, ['svc']]) expectUnauthenticated(await call(api, jwt({ sub, roles: ['writer'], exp: inAnHour() })), /"sub"/);
  });

  it('refuses a "sub" or team id that could not be recorded, or would forge a log line, naming the claim', async () => {
    for (const sub of ['svc\u0000', 'svc\ud800', 'svc\nadmin', 'svc\u001b[31m', 'svc\u2028x', 'svc\u202e', 'sv\u200bc', 'admin ', ' admin']) {
      expectUnauthenticated(await open(jwt({ sub, roles: ['writer'], exp: inAnHour() }), 'direct'), /"sub"/);
    }
    for (const teams of [['direct', 'x\u0000'], 'dir\udc00ect', ['direct\r']]) {
      expectUnauthenticated(await open(jwt({ sub: 'svc', roles: ['writer'], teams, exp: inAnHour() }), 'direct'), /"teams"/);
    }
    // Another application's role names are ignored whatever they hold: they are never recorded.
    expect((await open(jwt({ sub: 'svc', roles: ['writer', 'odd\u0000role'], exp: inAnHour() }), 'direct')).status).toBe(201);
  });

  it('refuses a team no deal could have (as an API key\'s teams are refused when it is made), with a 401 naming the claim', async () => {
    for (const teams of [['🙂'], 'x'.repeat(5_000), ['direct', 'Sales EMEA']]) {
      const token = jwt({ sub: 'svc', roles: ['writer'], teams, exp: inAnHour() });
      for (const response of [await open(token, 'direct'), await call(api, token)]) {
        expectUnauthenticated(response, /claim "teams" must hold team ids as a deal's teamId is/);
        expect(response.body.claim).toBe('teams');
      }
    }
  });

  it('refuses a claim that only looks like "teams", rather than reading "teams" as absent (every team)', async () => {
    for (const name of ['Teams', 'TEAMS', 'team', 'Team', 'teams_', 'team_ids', 'teamIds', 'https://example.com/teams', '\uff54\uff45\uff41\uff4d\uff53', 'te\u0430ms', '\u0442\u0435\u0430\u043c\u0455', 'te\u03b1ms', 't\u00e9ams', 'te\u0301ams', 'te\u200bams', 'tea\u00adms', '\u1d1b\u1d07\u1d00\u1d0ds']) {
      const token = jwt({ sub: 'svc', roles: ['writer'], [name]: ['direct'], exp: inAnHour() });
      // Quoted as it was sent, but a zero-width space or a soft hyphen written as its escape: it would hide in the detail.
      const shown = name.replace(/[\u200b\u00ad]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expectUnauthenticated(await open(token, 'partners'), new RegExp(`"${shown.replace(/[\\/.]/g, '\\$&')}"`));
    }
  });

  it('refuses a claim named like an object\'s prototype, and more teams than an API key may name, with a 401 naming the claim', async () => {
    // Copied into an object (Object.assign, a merge), a "__proto__" claim holding "teams" would be read as the token's teams.
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const token = jwt({ sub: 'svc', roles: ['writer'], [name]: { teams: [] }, exp: inAnHour() });
      const response = await open(token, 'partners');
      expectUnauthenticated(response, new RegExp(`claim "${name}" is refused`));
      expect(response.body.claim).toBe(name);
    }
    const crowded = await open(jwt({ sub: 'svc', roles: ['writer'], teams: Array.from({ length: 1001 }, (_, i) => `t${i}`), exp: inAnHour() }), 't1');
    expectUnauthenticated(crowded, /claim "teams" names 1001 teams; at most 1000/);
  });

  it('refuses a claim or header name given twice, which readers that keep the first and the last would read as two tokens', async () => {
    // JSON.stringify cannot repeat a name: the parts are written by hand, then signed.
    const signed = (header: string, payload: string) => {
      const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    };
    const exp = inAnHour();
    const header = '{"alg":"HS256","typ":"JWT"}';
    for (const [payload, claim] of [
      [`{"sub":"svc","roles":["writer"],"teams":["direct"],"teams":["direct","partners"],"exp":${exp}}`, 'teams'],
      [`{"sub":"svc","roles":["writer"],"teams":["direct"],"exp":${exp},"te\\u0061ms":[]}`, 'teams'],
      [`{"sub":"svc","roles":["writer"],"roles":["admin"],"teams":["direct"],"exp":${exp}}`, 'roles'],
      [`{"sub":"svc","roles":["writer"],"teams":["direct"],"exp":${exp},"exp":${exp + 86400 * 365}}`, 'exp'],
    ]) {
      const response = await open(signed(header, payload!), 'partners');
      expectUnauthenticated(response, new RegExp(`the claim "${claim}" twice`));
      expect(response.body.claim).toBe(claim);
    }
    const twoAlgs = signed('{"alg":"none","alg":"HS256"}', `{"sub":"svc","roles":["writer"],"teams":["direct"],"exp":${exp}}`);
    expectUnauthenticated(await open(twoAlgs, 'direct'), /header gives "alg" twice/);
    // The same names once each, and a name repeated in two different objects, are a token as any other.
    expect((await open(signed(header, `{"sub":"svc","roles":["writer"],"teams":["direct"],"exp":${exp},"x":{"teams":1},"y":{"teams":2}}`), 'direct')).status).toBe(201);
  });

  it('takes a single string as a one-element list: one team, one role — never as "no limit"', async () => {
    const token = jwt({ sub: 'svc', roles: 'writer', teams: 'direct', exp: inAnHour() });
    expect((await open(token, 'direct')).status).toBe(201);
    const foreign = await open(token, 'partners');
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('AUTH.TEAM_FORBIDDEN');
    // The one role is all it has.
    expect((await call(api, token, { path: '/analytics/funnel' })).status).toBe(403);
  });

  it('takes a list naming one team twice as that one team, implied where one team is', async () => {
    const token = jwt({ sub: 'svc', roles: ['writer'], teams: ['direct', 'direct'], exp: inAnHour() });
    expect((await call(api, token, { path: '/me' })).body.teams).toEqual(['direct']);
    expect((await call(api, token, { path: '/pipeline?processId=standard' })).status).toBe(200);
  });

  it('keeps the meaning of an absent "teams": every team; an empty list: none', async () => {
    expect((await open(jwt({ sub: 'svc', roles: ['writer'], exp: inAnHour() }), 'partners')).status).toBe(201);
    const none = jwt({ sub: 'svc', roles: ['writer'], teams: [], exp: inAnHour() });
    for (const team of ['direct', 'partners']) {
      const refused = await open(none, team);
      expect(refused.status).toBe(403);
      // Nothing to choose from, said so (not "limited to the teams , not …").
      expect(refused.body).toMatchObject({ code: 'AUTH.TEAM_FORBIDDEN', allowedTeams: [], detail: 'This caller may open or change no opportunity: its key or token names no team.' });
    }
    // Its figures: none to ask for, said so (not "sees only the teams ;").
    const analyst = jwt({ sub: 'svc', roles: ['analyst'], teams: [], exp: inAnHour() });
    for (const path of ['/analytics/funnel', '/analytics/funnel?teamId=direct']) {
      const refused = await call(api, analyst, { path });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatchObject({ code: 'AUTH.TEAM_FORBIDDEN', allowedTeams: [] });
      expect(refused.body.detail).toBe("This caller may see no team's figures: its key or token names no team.");
    }
  });

  it('ignores role names it does not know beside one it knows', async () => {
    const token = jwt({ sub: 'svc', roles: ['offline_access', 'analyst'], exp: inAnHour() });
    expect((await call(api, token, { path: '/analytics/funnel' })).status).toBe(200);
    expect((await open(token, 'direct')).status).toBe(403);
  });

  it('refuses a token without exp, and one signed with "none"', async () => {
    expectUnauthenticated(await call(api, jwt({ sub: 'svc', roles: ['writer'] })), /exp/);
    expectUnauthenticated(await call(api, jwt({ sub: 'svc', roles: ['admin'], exp: inAnHour() }, { alg: 'none' })), /./);
  });

  it('refuses an "exp" or "nbf" that no clock reaches (1e400 reads as Infinity; 1e300 is no date): a token that would never expire', async () => {
    // Written as JSON text: JSON.stringify cannot write a number beyond a double.
    const signed = (payload: string) => {
      const input = `${encode({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
    };
    for (const payload of ['{"sub":"svc","roles":["writer"],"exp":1e400}', '{"sub":"svc","roles":["writer"],"exp":1e300}', `{"sub":"svc","roles":["writer"],"exp":${inAnHour()},"nbf":-1e400}`]) {
      const response = await call(api, signed(payload));
      expectUnauthenticated(response, /"(exp|nbf)"/);
    }
    expect((await call(api, signed(`{"sub":"svc","roles":["writer"],"exp":${inAnHour()}}`))).status).toBe(200);
  });
});

describe('JWT issuer, audience, time and algorithm', () => {
  const dir = temporaryDirectory();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let api: Api;
  const valid = () => ({ sub: 'svc', roles: ['writer'], iss: 'https://idp.example', aud: 'stagecraft', exp: inAnHour() });

  beforeAll(async () => {
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/pem.db`,
      env: { JWT_PUBLIC_KEY: publicPem, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'stagecraft', JWT_CLOCK_TOLERANCE_SECONDS: '30' },
    });
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('accepts an RS256 token for this issuer and audience (also in an audience list), and a just-expired one within the tolerance', async () => {
    expect((await call(api, jwt(valid(), { alg: 'RS256', key: rsa.privateKey }))).status).toBe(200);
    expect((await call(api, jwt({ ...valid(), aud: ['other', 'stagecraft'] }, { alg: 'RS256', key: rsa.privateKey }))).status).toBe(200);
    expect((await call(api, jwt({ ...valid(), exp: Math.floor(Date.now() / 1000) - 5 }, { alg: 'RS256', key: rsa.privateKey }))).status).toBe(200);
  });

  it.each([
    ['another issuer', { iss: 'https://evil.example' }, /iss/],
    ['no issuer', { iss: undefined }, /iss/],
    ['another audience', { aud: 'other-app' }, /aud/],
    ['no audience', { aud: undefined }, /aud/],
    ['no expiry', { exp: undefined }, /exp/],
    ['an expiry past the tolerance', { exp: Math.floor(Date.now() / 1000) - 120 }, /exp/],
    ['a not-before in the future', { nbf: inAnHour() }, /nbf/],
  ])('refuses %s', async (_name, change, reason) => {
    expectUnauthenticated(await call(api, jwt({ ...valid(), ...change }, { alg: 'RS256', key: rsa.privateKey })), reason);
  });

  it('pins the algorithm to the key: no HS256 signed with the public key, no ES256, no "none"', async () => {
    expectUnauthenticated(await call(api, jwt(valid(), { alg: 'HS256', key: publicPem })), /./);
    expectUnauthenticated(await call(api, jwt(valid(), { alg: 'ES256', key: ec.privateKey })), /./);
    expectUnauthenticated(await call(api, jwt(valid(), { alg: 'none' })), /./);
  });
});

/** An identity provider's JWKS endpoint: serves whatever keys the test publishes, counting requests. */
class JwksServer {
  requests = 0;
  failing = false;
  private keys: object[] = [];
  private readonly server: Server = createServer((request, response) => {
    this.requests += 1;
    if (this.failing) {
      response.writeHead(500).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.keys }));
  });

  publish(...keys: { kid: string; alg: 'RS256' | 'ES256'; publicKey: KeyObject }[]): void {
    this.keys = keys.map(({ kid, alg, publicKey }) => ({ ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' }));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('JWT_JWKS_URL: keys an identity provider publishes', () => {
  const dir = temporaryDirectory();
  const first = { kid: 'key-2026-01', alg: 'RS256' as const, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
  const second = { kid: 'key-ec-1', alg: 'ES256' as const, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
  const rotated = { kid: 'key-2026-02', alg: 'RS256' as const, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
  const idp = new JwksServer();
  let now = Date.now();
  let api: Api;
  const claims = () => ({ sub: 'svc', roles: ['analyst'], iss: 'https://idp.example', aud: 'stagecraft', exp: inAnHour(now) });
  const signedBy = (key: { kid: string; alg: 'RS256' | 'ES256'; privateKey: KeyObject }, kid: string = key.kid) => jwt(claims(), { alg: key.alg, key: key.privateKey, kid });

  beforeAll(async () => {
    idp.publish(first, second);
    const url = await idp.start();
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/jwks.db`,
      env: { JWT_JWKS_URL: url, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'stagecraft' },
      clock: () => new Date(now),
    });
  });
  afterAll(async () => {
    await api?.close();
    await idp?.stop();
    dir.remove();
  });

  it('verifies tokens signed by any published key, chosen by kid', async () => {
    expect((await call(api, signedBy(first))).status).toBe(200);
    expect((await call(api, signedBy(second))).status).toBe(200);
    // A key is used only for the algorithm it was published for.
    expectUnauthenticated(await call(api, jwt(claims(), { alg: 'HS256', key: JSON.stringify(first.publicKey.export({ format: 'jwk' })), kid: first.kid })), /./);
    expectUnauthenticated(await call(api, signedBy(second, first.kid)), /./);
  });

  it('a flood of unknown kids fetches the key set at most once per cooldown', async () => {
    const before = idp.requests;
    for (let i = 0; i < 40; i += 1) expectUnauthenticated(await call(api, signedBy(first, `made-up-${i}`)), /./);
    expect(idp.requests - before).toBeLessThanOrEqual(1);
    expect((await call(api, signedBy(first))).status).toBe(200);
  });

  it('follows a rotation: a token with a new kid refetches the set (after the cooldown); a key taken out stops working', async () => {
    idp.publish(rotated, second);
    now += 60_000;
    const before = idp.requests;
    expect((await call(api, signedBy(rotated))).status).toBe(200);
    expect(idp.requests).toBe(before + 1);
    expect((await call(api, signedBy(rotated))).status).toBe(200);
    expect(idp.requests).toBe(before + 1); // cached
    expectUnauthenticated(await call(api, signedBy(first)), /./);
  });

  it('keeps the last key set when the provider fails, and refreshes it once the cache is old', async () => {
    idp.failing = true;
    now += 11 * 60_000;
    expect((await call(api, signedBy(rotated))).status).toBe(200);
    idp.failing = false;
    idp.publish(second);
    now += 60_000;
    expect((await call(api, signedBy(second))).status).toBe(200);
    now += 11 * 60_000;
    expect((await call(api, signedBy(second))).status).toBe(200);
    expectUnauthenticated(await call(api, signedBy(rotated)), /./);
  });

  it('a key the provider takes out stops verifying once the set is a minute old, though no token asked for a new kid', async () => {
    idp.publish(second, rotated);
    now += 11 * 60_000;
    expect((await call(api, signedBy(rotated))).status).toBe(200); // the set was old: fetched again, rotated is back
    idp.publish(second); // rotated taken out (leaked, say): nothing new to prompt a fetch
    now += 30_000;
    expect((await call(api, signedBy(rotated))).status).toBe(200); // within the set's max age (60 s by default)
    now += 31_000;
    expectUnauthenticated(await call(api, signedBy(rotated)), /./);
    expect((await call(api, signedBy(second))).status).toBe(200);
  });

  it('answers 503, not 401 or 500, while no key set could be fetched at all', async () => {
    const down = new JwksServer();
    down.failing = true;
    const url = await down.start();
    const other = await startApiTestApp({ eventStorePath: `${dir.path}/jwks-down.db`, env: { JWT_JWKS_URL: url, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'stagecraft' } });
    try {
      const response = await call(other, signedBy(first));
      expect(response.status).toBe(503);
      expect(response.body.code).toBe('AUTH.KEYS_UNAVAILABLE');
      // No sooner than the key set is fetched again (at most every 30 s): a retry before gets this same 503.
      expect(response.headers['retry-after']).toBe('30');
    } finally {
      await other.close();
      await down.stop();
    }
  });

  it('a token without kid is verified by whichever published key of its algorithm signed it, also when the set holds two (a rotation)', async () => {
    idp.publish(first, rotated, second);
    now += 61_000; // the set is fetched again
    const unsigned = (key: KeyObject) => jwt(claims(), { alg: 'RS256', key });
    expect((await call(api, unsigned(rotated.privateKey))).status).toBe(200);
    expect((await call(api, unsigned(first.privateKey))).status).toBe(200);
    // Neither published key signed it: refused as any bad signature is.
    expectUnauthenticated(await call(api, unsigned(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)), /signature does not verify/);
  });

  it('a token without kid signed by a key the provider just rotated in is accepted at once (a bounded refetch), not once the set is a minute old', async () => {
    const unsigned = (key: KeyObject) => jwt(claims(), { alg: 'RS256', key });
    // The set holds two RS256 keys (first, rotated), neither of which signed the token.
    const fresh = { kid: 'key-2026-03', alg: 'RS256' as const, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
    idp.publish(fresh, second);
    now += 31_000; // past the cooldown, within the set's max age (60 s)
    let before = idp.requests;
    expect((await call(api, unsigned(fresh.privateKey))).status).toBe(200);
    expect(idp.requests).toBe(before + 1);
    expect((await call(api, unsigned(fresh.privateKey))).status).toBe(200);
    expect(idp.requests).toBe(before + 1); // cached
    // Again, with one RS256 key cached (fresh), which jose hands back alone rather than as candidates.
    const fresher = { kid: 'key-2026-04', alg: 'RS256' as const, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) };
    idp.publish(fresher, second);
    now += 31_000;
    before = idp.requests;
    expect((await call(api, unsigned(fresher.privateKey))).status).toBe(200);
    expect(idp.requests).toBe(before + 1);
    expectUnauthenticated(await call(api, unsigned(fresh.privateKey)), /signature does not verify/);
  });

  it('a token whose kid the provider reused for a new key is accepted at once (a bounded refetch); a flood of forged ones under a known kid fetches at most once per cooldown', async () => {
    // Some providers rotate the key behind an unchanged kid: the cached key of that kid fails the
    // signature, and only a fetch can tell a rotation from a forgery.
    const reused = { kid: second.kid, alg: 'ES256' as const, ...generateKeyPairSync('ec', { namedCurve: 'P-256' }) };
    idp.publish(first, reused);
    now += 31_000; // past the cooldown, within the set's max age (60 s)
    let before = idp.requests;
    expect((await call(api, signedBy(reused))).status).toBe(200);
    expect(idp.requests).toBe(before + 1);
    expectUnauthenticated(await call(api, signedBy(second)), /signature does not verify/);
    now += 31_000;
    before = idp.requests;
    const forger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    for (let i = 0; i < 20; i += 1) {
      expectUnauthenticated(await call(api, jwt({ ...claims(), jti: `forged-${i}` }, { alg: 'ES256', key: forger, kid: reused.kid })), /signature does not verify/);
    }
    expect(idp.requests - before).toBe(1);
    expect((await call(api, signedBy(reused))).status).toBe(200);
    idp.publish(first, second);
    now += 61_000; // the set is a minute old: fetched again, as the later tests expect
    expect((await call(api, signedBy(second))).status).toBe(200);
  });

  it('a flood of tokens without kid whose signature no key verifies fetches the key set at most once per cooldown', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const strangerEc = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    now += 31_000;
    const before = idp.requests;
    for (let i = 0; i < 40; i += 1) {
      const token = i % 2 === 0 ? jwt({ ...claims(), jti: `flood-${i}` }, { alg: 'RS256', key: stranger }) : jwt({ ...claims(), jti: `flood-${i}` }, { alg: 'ES256', key: strangerEc });
      expectUnauthenticated(await call(api, token), /signature does not verify/);
    }
    // The first asks the provider once (it may have rotated); the others wait out the cooldown.
    expect(idp.requests - before).toBe(1);
    expect((await call(api, jwt(claims(), { alg: 'ES256', key: second.privateKey }))).status).toBe(200);
  });
});

describe('JWT settings', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it.each([
    ['JWT_PUBLIC_KEY', { JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n' }],
    ['JWT_JWKS_URL', { JWT_JWKS_URL: 'not a url', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a' }],
    ['JWT_ISSUER', { JWT_JWKS_URL: 'https://idp.example/jwks.json', JWT_AUDIENCE: 'a' }],
    ['JWT_JWKS_MAX_AGE_SECONDS', { JWT_JWKS_URL: 'https://idp.example/jwks.json', JWT_ISSUER: 'i', JWT_AUDIENCE: 'a', JWT_JWKS_MAX_AGE_SECONDS: '0' }],
  ])('a bad %s stops start-up naming it', async (variable, env) => {
    const started = spawnApi({ AUTH: 'on', EVENT_STORE_PATH: `${dir.path}/settings-${variable}.db`, API_KEYS_FILE: `${dir.path}/keys.json`, ...env });
    // Should it start after all, stop it rather than leave it running.
    started.then(
      (api) => api.child.kill('SIGTERM'),
      () => undefined,
    );
    await expect(started).rejects.toThrow(new RegExp(`Stagecraft did not start\\.\\s+Invalid setting ${variable}: `));
  }, 60_000);
});
