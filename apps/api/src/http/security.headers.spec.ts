import fastify from 'fastify';
import { addSecurityHeaders, replyHeadersSymbol, SECURITY_HEADERS } from './security.headers';

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
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers[name]).toBe(value);
        expect(response.headers.etag).toBe('"1"');
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      }
    } finally {
      await app.close();
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
