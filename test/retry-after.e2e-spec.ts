import { Pool } from 'pg';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../libs/projections/src/testing/postgres.testing';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { TcpProxy } from './support/tcp-proxy';

// Every 503 says when to ask again (Retry-After), whichever cause: the problem filter supplies a
// wait to any 503 whose cause names none (apps/api/src/http/problem.filter.spec.ts proves it for
// each 503 code of the catalogue). Here, the causes whose wait comes from that default, provoked on
// a running API: the PostgreSQL read side gone (PROJECTIONS.UNAVAILABLE, and /health). The others
// are provoked where their cause is: EVENT_STORE.ACCESS_DENIED in kurrentdb-faults, AUTH.KEYS_UNAVAILABLE
// in jwt, PROJECTIONS.BEHIND in analytics, the keys file's in disk-full, SERVICE.SHUTTING_DOWN in durability.

const SECONDS = /^[1-9]\d*$/;

describeWithPostgres('Retry-After while the PostgreSQL read side cannot be reached', () => {
  const dir = temporaryDirectory();
  const schema = uniqueSchema('retry_after');
  const target = new URL(POSTGRES_TEST_URL);
  let proxy: TcpProxy;
  let api: ApiTestApp;

  beforeAll(async () => {
    proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    const through = new URL(POSTGRES_TEST_URL);
    through.host = proxy.url;
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { READ_MODELS_URL: through.href, READ_MODELS_SCHEMA: schema } });
  });

  afterAll(async () => {
    await proxy?.restore();
    await api?.close();
    await proxy?.close();
    const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
    await dropReadSideSchemas(pool, schema);
    await pool.end();
    dir.remove();
  });

  it('a read answers 503 PROJECTIONS.UNAVAILABLE with Retry-After, and /health 503 with one', async () => {
    await api.http.get('/pipeline').expect(200);
    await proxy.cut();
    try {
      const read = await api.http.get('/pipeline');
      expect([read.status, read.body.code, read.headers['retry-after']]).toEqual([503, 'PROJECTIONS.UNAVAILABLE', '5']);
      const health = await api.anonymous.get('/health');
      expect([health.status, health.headers['retry-after']]).toEqual([503, expect.stringMatching(SECONDS)]);
    } finally {
      await proxy.restore();
    }
  });
});
