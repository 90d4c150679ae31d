import { request as httpRequest } from 'node:http';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// Failed authentication is limited per client address, and the client address is the TCP peer
// unless TRUST_PROXY names the proxy in front: a forged X-Forwarded-For may not reset the count.

type Listening = ApiTestApp & { keys: Record<string, string>; port: number };
interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

const WRONG_KEY = 'sck_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
const DOCUMENTATION_V4 = (i: number) => `203.0.113.${i % 250}`;

/** One request from a chosen loopback address (all of 127.0.0.0/8 reaches the server on Linux). */
function send(api: Listening, options: { from?: string; key?: string; forwardedFor?: string; path?: string }): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: api.port, path: options.path ?? '/processes', localAddress: options.from ?? '127.0.0.1', headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text ? JSON.parse(text) : {} }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function listen(eventStorePath: string, env: Record<string, string>, clock?: () => Date): Promise<Listening> {
  const api = await startApiTestApp({ eventStorePath, env: { AUTH_FAILURES_PER_MINUTE: '20', ...env }, extraKeys: [{ name: 'reader', roles: ['analyst'] }], ...(clock ? { clock } : {}) });
  await api.app.listen(0, '127.0.0.1');
  const address = api.app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return Object.assign(api, { port: address.port });
}

function expectRateLimited(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toMatchObject({ status: 429, code: 'REQUEST.RATE_LIMITED' });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('failed authentication is limited per client address', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('answers 429 with Retry-After after 20 failures from one address, before any key is checked, and leaves other addresses alone', async () => {
    let now = new Date();
    const api = await listen(`${dir.path}/limit.db`, {}, () => now);
    try {
      for (let i = 0; i < 20; i += 1) expect((await send(api, { key: WRONG_KEY })).status).toBe(401);
      expectRateLimited(await send(api, { key: WRONG_KEY }));
      // Limited before the credentials are looked at: even the right key waits from this address.
      expectRateLimited(await send(api, { key: api.keys.reader }));
      // Another address is neither limited nor slowed, and keeps its own count.
      expect((await send(api, { from: '127.0.0.2', key: api.keys.reader })).status).toBe(200);
      expect((await send(api, { from: '127.0.0.2', key: WRONG_KEY })).status).toBe(401);
      // Public routes stay open, and a request without credentials is not a failed attempt.
      expect((await send(api, { path: '/health' })).status).toBe(200);
      for (let i = 0; i < 25; i += 1) expect((await send(api, { from: '127.0.0.3' })).status).toBe(401);
      expect((await send(api, { from: '127.0.0.3', key: api.keys.reader })).status).toBe(200);
      // A minute later the address may try again.
      now = new Date(now.getTime() + 61_000);
      expect((await send(api, { key: api.keys.reader })).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('counts malformed headers and bad tokens as failures too', async () => {
    const api = await listen(`${dir.path}/kinds.db`, { JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters!' });
    try {
      const attempts = ['Basic dXNlcjpwYXNz', 'Bearer not-a-token', 'Bearer a.b.c', `Bearer ${WRONG_KEY}`];
      for (let i = 0; i < 20; i += 1) {
        const answer = await new Promise<number>((resolve, reject) => {
          const request = httpRequest({ host: '127.0.0.1', port: api.port, path: '/processes', headers: { authorization: attempts[i % attempts.length]! }, agent: false }, (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode!));
          });
          request.on('error', reject);
          request.end();
        });
        expect(answer).toBe(401);
      }
      expectRateLimited(await send(api, { key: WRONG_KEY }));
    } finally {
      await api.close();
    }
  });

  it('ignores X-Forwarded-For by default: a new header value per request does not reset the count', async () => {
    const api = await listen(`${dir.path}/untrusted.db`, {});
    try {
      for (let i = 0; i < 20; i += 1) expect((await send(api, { key: WRONG_KEY, forwardedFor: DOCUMENTATION_V4(i) })).status).toBe(401);
      expectRateLimited(await send(api, { key: WRONG_KEY, forwardedFor: '198.51.100.1' }));
      expectRateLimited(await send(api, { key: api.keys.reader, forwardedFor: '198.51.100.2' }));
    } finally {
      await api.close();
    }
  });

  it('ignores X-Forwarded-For from a peer TRUST_PROXY does not name', async () => {
    const api = await listen(`${dir.path}/other-proxy.db`, { TRUST_PROXY: '10.0.0.0/8, 192.0.2.10' });
    try {
      for (let i = 0; i < 20; i += 1) expect((await send(api, { key: WRONG_KEY, forwardedFor: DOCUMENTATION_V4(i) })).status).toBe(401);
      expectRateLimited(await send(api, { key: WRONG_KEY, forwardedFor: '198.51.100.1' }));
    } finally {
      await api.close();
    }
  });

  it.each([
    ['names the proxy by address', '127.0.0.1'],
    ['names the proxy by CIDR', '127.0.0.0/8'],
    ['gives a hop count', '1'],
  ])('counts per forwarded client when TRUST_PROXY %s, whatever is prepended to the header', async (_how, trustProxy) => {
    const api = await listen(`${dir.path}/trusted-${trustProxy.replace(/\W/g, '_')}.db`, { TRUST_PROXY: trustProxy });
    try {
      // The client may prepend anything; the proxy appends the address it saw, which is what counts.
      for (let i = 0; i < 20; i += 1) expect((await send(api, { key: WRONG_KEY, forwardedFor: `${DOCUMENTATION_V4(i)}, 198.51.100.7` })).status).toBe(401);
      expectRateLimited(await send(api, { key: WRONG_KEY, forwardedFor: '198.51.100.7' }));
      expectRateLimited(await send(api, { key: api.keys.reader, forwardedFor: '203.0.113.1, 198.51.100.7' }));
      // Another client behind the same proxy is not affected.
      expect((await send(api, { key: api.keys.reader, forwardedFor: '198.51.100.8' })).status).toBe(200);
    } finally {
      await api.close();
    }
  });

  it('counts an IPv6 client per /64, so rotating addresses within its prefix does not help', async () => {
    const api = await listen(`${dir.path}/ipv6.db`, { TRUST_PROXY: '127.0.0.1' });
    try {
      for (let i = 0; i < 20; i += 1) expect((await send(api, { key: WRONG_KEY, forwardedFor: `2001:db8:1:2::${(i + 1).toString(16)}` })).status).toBe(401);
      expectRateLimited(await send(api, { key: WRONG_KEY, forwardedFor: '2001:db8:1:2:ffff:ffff:ffff:ffff' }));
      expect((await send(api, { key: api.keys.reader, forwardedFor: '2001:db8:1:3::1' })).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
