import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { getKurrentDBEventStore, getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { Pool } from 'pg';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { waitFor } from '../../../../test/support/relay-consumers';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { inMemoryReference } from '../queries/analytics-queries.contract';
import { historyArbitrary } from '../testing/history.arbitrary';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { PostgresAnalyticsQueries } from './postgres-analytics.queries';
import { PostgresProjector, projectorLockKey } from './postgres.projector';

// The projector's PostgreSQL session holds the schema's advisory lock: who projects is who holds
// that session. What becomes of it when the event store refuses the projector, and when
// PostgreSQL ends the session while the log is quiet (pg_terminate_backend: nothing is written, so
// no batch would find out), with a standby projector waiting for the lock.

const history = fc.sample(historyArbitrary({ maxSteps: 120 }), { seed: 77, numRuns: 1 })[0]!.events;
/** The history's first half, appended before the fault; its second half after, so the log stays one valid history. */
const before = history.slice(0, Math.floor(history.length / 2));
const after = history.slice(Math.floor(history.length / 2));

async function appendCopies(target: EventStore, copied: readonly { stream: string; type: string; data: unknown }[]): Promise<void> {
  for (const event of copied) {
    await target.appendToStream(event.stream, [{ id: crypto.randomUUID(), type: event.type, data: event.data as Record<string, unknown>, metadata: {} }], { expectedRevision: 'any' });
  }
}

/** The backends of a projector's session and of its reader (their pids). */
function backendsOf(projector: PostgresProjector): number[] {
  const { client, reader } = projector as unknown as Record<'client' | 'reader', { processID: number }>;
  return [client.processID, reader.processID];
}

describeWithPostgres("the PostgreSQL projector's session and lock", () => {
  let pool: Pool;
  const schemas: string[] = [];
  const schema = () => {
    const name = uniqueSchema('session');
    schemas.push(name);
    return name;
  };
  /** The backend that holds the schema's lock, if any. */
  const lockHolder = async (name: string): Promise<number | undefined> => {
    const { rows } = await pool.query<{ pid: number }>(
      "SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objid = (hashtext($1)::bigint & 4294967295)::oid AND l.classid = ((hashtext($1)::bigint >> 32) & 4294967295)::oid",
      [projectorLockKey(name)],
    );
    return rows[0]?.pid;
  };
  const figures = async (name: string, store: EventStore) => {
    const queries = new PostgresAnalyticsQueries(pool, name, { position: () => 0, waitFor: async () => true, status: () => [] });
    const inMemory = inMemoryReference(await store.readAll({ maxCount: 1_000_000 }));
    return [JSON.stringify([await queries.funnel({}), await queries.winLoss({}, 'month')]), JSON.stringify([await inMemory.funnel({}), await inMemory.winLoss({}, 'month')])];
  };

  beforeAll(() => {
    pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
  });
  afterAll(async () => {
    for (const name of schemas) await dropReadSideSchemas(pool, name);
    await pool.end();
  });

  describe('while the event store refuses it or cannot be reached', () => {
    let double: KurrentDbDouble;
    let proxy: TcpProxy;
    let store: EventStore;
    beforeAll(async () => {
      double = await startKurrentDbDouble();
      // The store reached through a proxy, so that it can be taken away and given back.
      proxy = await new TcpProxy('127.0.0.1', double.port).start();
      store = getKurrentDBEventStore({ connectionString: double.url.replace(`:${double.port}`, `:${proxy.port}`), reconnectDelayMs: 10 });
      await appendCopies(store, before);
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await proxy?.close();
      await double?.stop();
    });

    const faults: readonly [string, () => Promise<() => Promise<void>>, RegExp, readonly { stream: string; type: string; data: unknown }[]][] = [
      [
        'refuses its user',
        async () => {
          const allow = double.faults.denyAccess('');
          double.faults.dropSubscriptions(); // following again is refused
          return async () => allow();
        },
        /EVENT_STORE_URL/,
        after.slice(0, Math.floor(after.length / 2)),
      ],
      [
        'cannot be reached',
        async () => {
          await proxy.cut();
          return () => proxy.restore();
        },
        // The store's absence, said as the store's: not as PostgreSQL's, whose name would send the operator to the wrong server.
        /^the event log could not be followed: .*(cannot be reached|unavailable).*; following again once it answers$/i,
        after.slice(Math.floor(after.length / 2)),
      ],
    ];
    it.each(faults)('keeps its session, and so the lock (a standby waits on), while the store %s, and follows again on it once it answers', async (_what, fault, said, more) => {
      const name = schema();
      const failures: string[] = [];
      const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50 });
      projector.onFailure = (reason) => failures.push(reason);
      let standbyWaiting = false;
      const standby = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { onWaitingForLock: () => (standbyWaiting = true) });
      let standbyStarted: Promise<void> | undefined;
      try {
        await projector.start();
        const session = backendsOf(projector);
        expect(await lockHolder(name)).toBe(session[0]);
        standbyStarted = standby.start();
        standbyStarted.catch(() => undefined);
        await waitFor('the standby to wait for the lock', () => standbyWaiting || undefined);

        const allow = await fault();
        await waitFor('the failure reported', () => failures.length > 0 || undefined);
        expect(failures[0]).toMatch(said);
        // Several recovery attempts, each refused: the session stands, so the standby never takes over.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        expect(projector.status()[0]).toMatchObject({ recovering: true });
        expect(backendsOf(projector)).toEqual(session);
        expect(await lockHolder(name)).toBe(session[0]);

        await allow();
        await appendCopies(store, more);
        const head = await store.headPosition();
        await waitFor('following again', () => (projector.position() === head && projector.failure() === undefined) || undefined).catch((error: Error) => {
          throw new Error(`${error.message}: at ${projector.position()} of ${head}, ${projector.failure()}; told ${failures.join(' | ')}`);
        });
        expect(backendsOf(projector)).toEqual(session);
        expect(await lockHolder(name)).toBe(session[0]);
        const [postgres, inMemory] = await figures(name, store);
        expect(postgres).toBe(inMemory);
      } finally {
        await projector.stop();
        await standbyStarted?.catch(() => undefined);
        await standby.stop();
      }
    }, 90_000);
  });

  describe('when PostgreSQL ends its session while the log is quiet', () => {
    let dir: string;
    let store: EventStore;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'stagecraft-pg-session-'));
      store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
      await appendCopies(store, before);
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('notices with no event to write, says so, and a standby takes over; it then waits for the lock, and projects again once the standby stops', async () => {
      const name = schema();
      const failures: string[] = [];
      let waits = 0;
      const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50, onWaitingForLock: () => (waits += 1) });
      first.onFailure = (reason) => failures.push(reason);
      let standbyWaiting = false;
      const standby = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: name }, { batchSize: 50, onWaitingForLock: () => (standbyWaiting = true) });
      let standbyStarted: Promise<void> | undefined;
      try {
        await first.start();
        const session = backendsOf(first);
        standbyStarted = standby.start();
        await waitFor('the standby to wait for the lock', () => standbyWaiting || undefined);

        const ended = await pool.query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM unnest($1::int[]) AS pid', [session]);
        expect(ended.rows).toEqual([{ ended: true }, { ended: true }]);
        // No event comes: the loss is heard on the idle connection, and said in one line naming why.
        await waitFor('the first projector to notice', () => failures.length > 0 || undefined);
        expect(failures).toEqual(["PostgreSQL ended the projector's session (terminating connection due to administrator command), and the schema's lock with it: following the log again once it answers, after taking the lock again (a standby projector may hold it first)"]);
        // The lock went with the session: the standby has it, and the first one waits for it.
        await standbyStarted;
        expect(await lockHolder(name)).toBe(backendsOf(standby)[0]);
        await waitFor('the first projector to wait for the lock', () => waits > 0 || undefined);
        expect(first.status()[0]).toMatchObject({ recovering: true });

        // The standby projects; the first writes nothing meanwhile.
        await appendCopies(store, after);
        const head = await store.headPosition();
        await waitFor('the standby to follow', () => standby.position() === head || undefined).catch((error: Error) => {
          throw new Error(`${error.message}: at ${standby.position()} of ${head}, ${standby.failure()}`);
        });
        expect(first.position()).toBeLessThan(head);

        await standby.stop();
        await waitFor('the first projector to take the lock again and follow', () => (first.position() === head && first.failure() === undefined) || undefined);
        expect(await lockHolder(name)).toBe(backendsOf(first)[0]);
        const [postgres, inMemory] = await figures(name, store);
        expect(postgres).toBe(inMemory);
      } finally {
        await first.stop();
        await standbyStarted?.catch(() => undefined);
        await standby.stop();
      }
    }, 90_000);
  });
});
