import fastify from 'fastify';
import { addSecurityHeaders, PLAIN_HTTP_HEADERS, replyHeadersSymbol, SECURITY_HEADERS } from './security.headers';

describe('security headers', () => {
  // Written straight into Fastify's own headers of the answer (not header by header): every answer
  // must still carry each of them, exactly, beside the headers the route and Fastify add.
  it('are on every answer, the first and the later ones, beside those the route sets', async () => {
    const app = fastify();
    addSecurityHeaders(app);
    app.get('/', async (_request, reply) => {
      void reply.header('ETag', '"1"');
      return { ok: true };
    });
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await app.inject({ method: 'GET', url: '/' });
        expect(response.statusCode).toBe(200);
        for (const [name, value] of Object.entries(PLAIN_HTTP_HEADERS)) expect(response.headers[name]).toBe(value);
        expect(response.headers.etag).toBe('"1"');
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      }
    } finally {
      await app.close();
    }
  });

  // HSTS means nothing over plain HTTP (a browser ignores it there), and upgrade-insecure-requests
  // sent the docs page's own scripts to https:// on a port that speaks HTTP. Over TLS, both; a
  // client's own X-Forwarded-Proto counts only through a proxy the service trusts.
  it('hold HSTS and the upgrade of insecure requests for answers over TLS', async () => {
    for (const [trustProxy, forwardedProto, overTls] of [
      [false, undefined, false],
      [false, 'https', false],
      ['10.0.0.1', 'https', false],
      ['127.0.0.1', 'https', true],
      ['127.0.0.1', 'http', false],
    ] as const) {
      const app = fastify({ trustProxy });
      addSecurityHeaders(app);
      app.get('/', async () => 'ok');
      try {
        const response = await app.inject({ method: 'GET', url: '/', headers: forwardedProto ? { 'x-forwarded-proto': forwardedProto } : {} });
        const context = { trustProxy, forwardedProto };
        expect({ ...context, hsts: response.headers['strict-transport-security'] }).toEqual({ ...context, hsts: overTls ? SECURITY_HEADERS['strict-transport-security'] : undefined });
        expect({ ...context, upgrades: String(response.headers['content-security-policy']).includes('upgrade-insecure-requests') }).toEqual({ ...context, upgrades: overTls });
        expect(response.headers['content-security-policy']).toContain("default-src 'self'");
        expect(response.headers['x-content-type-options']).toBe('nosniff');
      } finally {
        await app.close();
      }
    }
  });

  it('leave a header the route sets itself to the route', async () => {
    const app = fastify();
    addSecurityHeaders(app);
    app.get('/', async (_request, reply) => {
      void reply.header('X-Frame-Options', 'DENY');
      return 'ok';
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await app.close();
    }
  });

  // The one-step copy needs Fastify's own headers object; without it every header goes through
  // reply.header (same answer, slower). Says so when a Fastify upgrade moves it.
  it('find the answer headers Fastify keeps, with this Fastify', async () => {
    const app = fastify();
    let found: symbol | undefined;
    app.get('/', async (_request, reply) => {
      found = replyHeadersSymbol(reply);
      return 'ok';
    });
    try {
      await app.inject({ method: 'GET', url: '/' });
      expect(found).toEqual(expect.any(Symbol));
    } finally {
      await app.close();
    }
  });
});
