import request, { type Response } from 'supertest';
import { AuthGuard } from '../apps/api/src/auth/auth.guard';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

// The hot command routes are served by plain Fastify handlers (apps/api/src/opportunities/
// direct-command.routes.ts) that run the same guards, pipes, method and error path as Nest's
// router. Here the same requests, in the same order, go to an app serving them directly and to
// one leaving them to Nest: every answer must be the same, status, problem+json body and headers.

type Api = ApiTestApp & { keys: Record<string, string> };

const ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';
const CLOCK = () => new Date('2026-03-02T10:00:00.000Z');
const HEADERS = ['content-type', 'etag', 'location', 'idempotent-replayed', 'www-authenticate', 'retry-after', 'x-correlation-id', 'content-security-policy', 'x-frame-options'];

interface Exchange {
  readonly method: 'post' | 'patch';
  readonly path: string;
  readonly body?: unknown;
  readonly raw?: { readonly contentType: string; readonly text: string };
  readonly as?: 'admin' | 'writer' | 'analyst' | 'anonymous';
  readonly headers?: Record<string, string>;
}

const EXCHANGES: readonly Exchange[] = [
  { method: 'post', path: '/opportunities', body: { id: ID, title: 'Deal', processId: 'standard', teamId: 'direct', amount: 1200 } },
  { method: 'post', path: '/opportunities', body: { id: ID, title: 'Again', processId: 'standard' } },
  { method: 'post', path: '/opportunities', body: { title: 'Bad', processId: 'standard', amount: 'lots' } },
  { method: 'post', path: '/opportunities', body: { title: 'Unknown process', processId: 'nope' } },
  { method: 'post', path: `/opportunities/${ID}/criteria`, body: { criterionId: 'need-confirmed', met: true } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'qualification' } },
  { method: 'post', path: `/opportunities/${ID}/criteria`, body: { criterionId: 'need-confirmed', met: true } },
  { method: 'post', path: `/opportunities/${ID}/criteria`, body: { criterionId: 'need-confirmed', met: true } },
  { method: 'post', path: `/opportunities/${ID}/criteria`, body: { criterionId: 'no-such', met: true } },
  { method: 'post', path: `/opportunities/${ID}/criteria`, body: { criterionId: 'goals' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'negotiation' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 5 } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new', colour: 'red' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: [] },
  { method: 'post', path: '/opportunities/not-a-uuid/move', body: { stage: 5 } },
  { method: 'post', path: '/opportunities//move', body: { stage: 'new' } },
  { method: 'post', path: `/opportunities/${OTHER}/move`, body: { stage: 'new' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, as: 'anonymous' },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { authorization: 'Bearer sck_nope' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, as: 'analyst' },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, as: 'writer', headers: { 'x-actor': 'someone' } },
  { method: 'post', path: `/opportunities/${ID}/migrate`, body: { toVersion: 'v9' }, as: 'writer' },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { 'if-match': 'three' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { 'if-match': '"7"' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new', expectedRevision: 2 }, headers: { 'if-match': '"3"' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new', commandId: 'a' }, headers: { 'idempotency-key': 'b' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { 'idempotency-key': 'move-back' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { 'idempotency-key': 'move-back' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'qualification' }, headers: { 'idempotency-key': 'move-back' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' }, headers: { 'idempotency-key': 'has space' } },
  { method: 'post', path: `/opportunities/${ID}/move`, raw: { contentType: 'text/plain', text: 'stage=new' } },
  { method: 'post', path: `/opportunities/${ID}/move`, raw: { contentType: 'application/json', text: '{"stage":' } },
  { method: 'patch', path: `/opportunities/${ID}`, body: { amount: 'x' } },
  { method: 'patch', path: `/opportunities/${ID}`, body: { amount: 1500, title: 'Bigger deal' }, headers: { 'if-match': '"4"' } },
  { method: 'post', path: `/opportunities/${ID}/win`, body: { note: 'x'.repeat(5000) } },
  { method: 'post', path: `/opportunities/${ID}/lose`, body: { reason: 'no-such-reason' } },
  { method: 'post', path: `/opportunities/${ID}/lose`, body: { reason: 'price' } },
  { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'qualification' } },
  { method: 'post', path: `/opportunities/${ID}/reopen`, body: { stage: 'negotiation' } },
  { method: 'post', path: `/opportunities/${ID}/reopen`, body: {} },
];

describe('command routes served directly answer as Nest served them', () => {
  const dirs = [temporaryDirectory(), temporaryDirectory()];
  let direct: Api;
  let throughNest: Api;
  const extraKeys = [
    { name: 'writer', roles: ['writer'] as const },
    { name: 'analyst', roles: ['analyst'] as const },
  ];

  beforeAll(async () => {
    direct = await startApiTestApp({ eventStorePath: `${dirs[0]!.path}/events.db`, clock: CLOCK, extraKeys });
    throughNest = await startApiTestApp({ eventStorePath: `${dirs[1]!.path}/events.db`, clock: CLOCK, extraKeys, directCommandRoutes: false });
  });
  afterAll(async () => {
    await direct?.close();
    await throughNest?.close();
    for (const dir of dirs) dir.remove();
  });

  async function send(api: Api, exchange: Exchange, index: number): Promise<Response> {
    const server = api.app.getHttpServer();
    const pending = request(server)[exchange.method](exchange.path).set('x-correlation-id', `exchange-${index}`);
    const who = exchange.as ?? 'admin';
    if (who !== 'anonymous') void pending.set('authorization', `Bearer ${api.keys[who === 'admin' ? 'test-service' : who]}`);
    for (const [name, value] of Object.entries(exchange.headers ?? {})) void pending.set(name, value);
    if (exchange.raw) return pending.set('content-type', exchange.raw.contentType).send(exchange.raw.text);
    return pending.send(exchange.body as object);
  }

  const answerOf = (response: Response) => ({
    status: response.status,
    body: response.text,
    headers: Object.fromEntries(HEADERS.map((name) => [name, response.headers[name]])),
  });

  it('the same status, body and headers for every request, accepted or refused', async () => {
    const statuses = new Set<number>();
    for (const [index, exchange] of EXCHANGES.entries()) {
      const expected = answerOf(await send(throughNest, exchange, index));
      const actual = answerOf(await send(direct, exchange, index));
      expect({ index, ...actual }).toEqual({ index, ...expected });
      statuses.add(expected.status);
    }
    // The requests did reach every kind of answer.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 400, 401, 403, 404, 409, 415, 422]));
  });

  it('the direct handler is the one serving the command routes, and only those', async () => {
    // Whoever runs the guards hands them its own kind of ExecutionContext.
    const guard = jest.spyOn(AuthGuard.prototype, 'canActivate');
    const contextOfLastGuard = () => (guard.mock.calls.at(-1)![0] as object).constructor.name;
    try {
      await send(direct, { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' } }, 100);
      expect(contextOfLastGuard()).toBe('DirectExecutionContext');
      await send(direct, { method: 'patch', path: `/opportunities/${ID}`, body: { title: 'Renamed' } }, 101);
      expect(contextOfLastGuard()).toBe('DirectExecutionContext');
      await send(throughNest, { method: 'post', path: `/opportunities/${ID}/move`, body: { stage: 'new' } }, 102);
      expect(contextOfLastGuard()).not.toBe('DirectExecutionContext');
      await request(direct.app.getHttpServer()).get(`/opportunities/${ID}`).set('authorization', `Bearer ${direct.keys['test-service']}`).expect(200);
      expect(contextOfLastGuard()).not.toBe('DirectExecutionContext');
    } finally {
      guard.mockRestore();
    }
  });
});

describe('command routes served directly keep the rate limit', () => {
  const dirs = [temporaryDirectory(), temporaryDirectory()];
  afterAll(() => {
    for (const dir of dirs) dir.remove();
  });

  it('counts commands per caller and answers 429 with Retry-After past the limit, as through Nest', async () => {
    const apps = [
      await startApiTestApp({ eventStorePath: `${dirs[0]!.path}/events.db`, clock: CLOCK, env: { RATE_LIMIT_PER_MINUTE: '3' } }),
      await startApiTestApp({ eventStorePath: `${dirs[1]!.path}/events.db`, clock: CLOCK, env: { RATE_LIMIT_PER_MINUTE: '3' }, directCommandRoutes: false }),
    ];
    try {
      const answers = [];
      for (const api of apps) {
        const seen = [];
        for (let i = 0; i < 5; i += 1) {
          const response = await api.http.post('/opportunities').send({ id: i === 0 ? ID : OTHER, title: 'Deal', processId: 'standard' });
          seen.push({
            status: response.status,
            code: (response.body as { code?: string }).code,
            limit: response.headers['x-ratelimit-limit'],
            remaining: response.headers['x-ratelimit-remaining'],
            retryAfter: response.headers['retry-after'] !== undefined,
          });
        }
        answers.push(seen);
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]!.map((answer) => answer.status)).toEqual([201, 201, 409, 429, 429]);
      expect(answers[0]![3]).toMatchObject({ code: 'REQUEST.RATE_LIMITED', retryAfter: true });
    } finally {
      for (const api of apps) await api.close();
    }
  });
});
