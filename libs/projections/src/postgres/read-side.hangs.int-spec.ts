import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type Client } from 'pg';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { ReadModelUnavailableError } from '../queries/analytics-queries.port';
import { describeWithPostgres, POSTGRES_TEST_URL, PostgresTestReadSide, uniqueSchema } from '../testing/postgres.testing';
import { PostgresAnalyticsQueries } from './postgres-analytics.queries';
import { createReadSidePool, PostgresReadSideFollower } from './postgres.projector';
import { openReadSideClient } from './read-side.session';
import { TcpProxy } from '../../../../test/support/tcp-proxy';

// A PostgreSQL that hangs without closing its connections (a network that drops packets, a lock
// held by someone's open transaction): the API's reads answer 503 promptly, saying which, and
// every connection notices a dead peer by itself.

/** The read side of these tests, in a schema named for them. */
class HangsReadSide extends PostgresTestReadSide {
  override readonly schema = uniqueSchema('h_pgside');
}

/** Whether the connection under a node-postgres client asked its socket for TCP keepalive, and after how long. */
const keepAliveOf = (client: Client) => {
  const connection = (client as unknown as { connection: { _keepAlive?: boolean; _keepAliveInitialDelayMillis?: number } }).connection;
  return { keepAlive: connection._keepAlive === true, initialDelayMs: connection._keepAliveInitialDelayMillis ?? 0 };
};

describeWithPostgres('a read side that hangs without closing its connections', () => {
  const readSide = new HangsReadSide();
  const locker = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
  const nowhere = { position: () => 0, waitFor: async () => true, status: () => [] };
  const refusal = (answer: Promise<unknown>) => answer.then(() => undefined, (error: unknown) => error);
  beforeAll(async () => {
    await readSide.reset();
    await readSide.load([], [1]);
  });
  afterAll(async () => {
    await readSide.pool.query(`DROP SCHEMA IF EXISTS ${readSide.schema} CASCADE`);
    await readSide.pool.end();
    await locker.end();
  });

  it("asks for TCP keepalive on every connection: the projector's own and the API's pool", async () => {
    const own = await openReadSideClient(POSTGRES_TEST_URL, 'h_pgside');
    const pool = createReadSidePool({ url: POSTGRES_TEST_URL, schema: readSide.schema }, 1);
    try {
      const pooled = await pool.connect();
      try {
        for (const client of [own, pooled as unknown as Client]) expect(keepAliveOf(client)).toEqual({ keepAlive: true, initialDelayMs: expect.any(Number) });
        expect(keepAliveOf(own).initialDelayMs).toBeGreaterThan(0);
      } finally {
        pooled.release();
      }
    } finally {
      await own.end();
      await pool.end();
    }
  });

  it("a read waiting on a lock another session holds answers PROJECTIONS.UNAVAILABLE after the API's lock wait, naming the lock, not after the statement timeout", async () => {
    const pool = createReadSidePool({ url: POSTGRES_TEST_URL, schema: readSide.schema }, 1);
    // The statement timeout stays the default (60 s): only the lock wait's bound, made short, may end the wait.
    const queries = new PostgresAnalyticsQueries(pool, readSide.schema, nowhere, { lockTimeoutMs: 200 });
    const lock = await locker.connect();
    try {
      await lock.query(`BEGIN; LOCK TABLE ${readSide.schema}.opportunities IN ACCESS EXCLUSIVE MODE`);
      const refused = await refusal(queries.pipeline({}, { includeOpportunities: true }));
      expect(refused).toBeInstanceOf(ReadModelUnavailableError);
      expect(refused).toMatchObject({ code: 'PROJECTIONS.UNAVAILABLE', message: expect.stringContaining('waited for a lock another PostgreSQL session holds on the read models\' tables (canceling statement due to lock timeout: at most 200 ms') });
      await lock.query('ROLLBACK');
      await expect(queries.pipeline({}, { includeOpportunities: true })).resolves.toBeDefined();
    } finally {
      lock.release();
      await pool.end();
    }
  }, 20_000);

  it('a read whose server goes silent (a network that drops packets) answers PROJECTIONS.UNAVAILABLE after the query timeout, and the pool answers again once it is back', async () => {
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(POSTGRES_TEST_URL).port || 5432)).start();
    const url = new URL(POSTGRES_TEST_URL);
    url.host = proxy.url;
    const pool = createReadSidePool({ url: url.toString(), schema: readSide.schema }, 1, { queryTimeoutMs: 300 });
    const queries = new PostgresAnalyticsQueries(pool, readSide.schema, nowhere);
    try {
      await expect(queries.funnel({})).resolves.toBeDefined();
      proxy.freeze();
      const refused = await refusal(queries.funnel({}));
      expect(refused).toBeInstanceOf(ReadModelUnavailableError);
      expect(refused).toMatchObject({ code: 'PROJECTIONS.UNAVAILABLE', message: expect.stringContaining('PostgreSQL did not answer within 300 ms') });
      await proxy.restore();
      // The connection left waiting was let go, not handed to the next read behind its unanswered query.
      await expect(queries.funnel({})).resolves.toBeDefined();
    } finally {
      await pool.end();
      await proxy.close();
    }
  }, 20_000);

  it("an API following another process's projector says the read models are stalled while the checkpoint stays behind the log, and no more once it moves", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'h-pgside-follower-'));
    const store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
    const follower = new PostgresReadSideFollower(store, readSide.pool, readSide.schema, 20, 200);
    const statuses = () => follower.status();
    const until = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      if (!check()) throw new Error(`timed out waiting for ${what}`);
    };
    try {
      await readSide.pool.query(`UPDATE ${readSide.schema}.checkpoint SET position = 0`);
      await store.appendToStream('o-1', [{ id: crypto.randomUUID(), type: 'Noted', data: {}, metadata: {} }], { expectedRevision: 'any' });
      const head = await store.headPosition();
      await follower.start();
      // No projector writes: the checkpoint stays behind the head.
      await until(() => statuses()[0]!.stalled !== undefined, 'the follower to say the read models are stalled');
      expect(statuses()[0]!.stalled).toMatch(new RegExp(`^the projector has written nothing for \\d+ (ms|s) while the log is ahead \\(checkpoint 0, head ${head}\\): is it running\\? Its log says what it waits for`));
      expect(statuses().every((status) => status.stalled !== undefined && status.failed === undefined)).toBe(true);
      await readSide.pool.query(`UPDATE ${readSide.schema}.checkpoint SET position = $1`, [head]);
      await until(() => statuses()[0]!.stalled === undefined, 'the stall to end once the checkpoint moves');
    } finally {
      await follower.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
