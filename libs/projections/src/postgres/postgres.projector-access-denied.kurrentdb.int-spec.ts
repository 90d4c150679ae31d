import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { Client, Pool } from 'pg';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { waitFor } from '../../../../test/support/relay-consumers';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { PostgresProjector, projectorLockKey } from './postgres.projector';

// A KurrentDB server that starts refusing the PostgreSQL projector's user while it runs (a
// password rotated, an ACL changed): it keeps its checkpoint, names the setting to correct (not
// PostgreSQL, which answers all along), and follows again by itself once the server lets it in.

describeWithPostgres('the PostgreSQL projector on a KurrentDB server that starts denying its user', () => {
  let double: KurrentDbDouble;
  let store: EventStore;
  let pool: Pool;
  const schema = uniqueSchema('kdb_denied');
  const stream = `opportunity-${crypto.randomUUID()}`;
  const note = () => store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'NoteAdded', data: { note: 'x' }, metadata: {} }], { expectedRevision: 'any' });

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 10 });
    pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
    for (let i = 0; i < 3; i += 1) await note();
  }, 60_000);

  afterAll(async () => {
    await dropReadSideSchemas(pool, schema).catch(() => undefined);
    await pool?.end();
    await store?.close();
    await double?.stop();
  });

  it('keeps its checkpoint, names EVENT_STORE_URL and access denied while recovering, and follows again once let in', async () => {
    const failures: string[] = [];
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema });
    projector.onFailure = (reason) => failures.push(reason);
    await projector.start();
    try {
      const checkpoint = projector.position();
      expect(checkpoint).toBeGreaterThan(0);
      const allow = double.faults.denyAccess('');
      double.faults.dropSubscriptions(); // the server ends the subscription: following again is refused
      await waitFor('the refusal reported', () => (projector.failure() !== undefined ? true : undefined));
      // Its retries (opening again, reading the log) are refused too: what it says stays the refusal.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const [status] = projector.status();
      expect(status).toMatchObject({ checkpoint, recovering: true });
      expect(status!.failed).toContain('EVENT_STORE_URL');
      expect(status!.failed).toContain('denied');
      expect(status!.failed).not.toContain('PostgreSQL does not answer');
      expect(failures.every((reason) => reason.includes('EVENT_STORE_URL'))).toBe(true);
      allow();
      await note();
      const head = await store.headPosition();
      await waitFor('following again', () => (projector.position() >= head && projector.failure() === undefined ? true : undefined), 60_000);
      expect(projector.status()[0]).not.toHaveProperty('recovering');
    } finally {
      await projector.stop();
    }
  }, 90_000);

  it('keeps its PostgreSQL connections and the schema\'s lock while the server refuses it: only the subscription is retried', async () => {
    const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema });
    // The session that holds the schema's advisory lock (pg_advisory_lock(hashtext(key)): objid holds its low 32 bits).
    const lockHolder = async () => {
      const { rows } = await pool.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = (hashtext($1)::bigint & 4294967295)::oid`,
        [projectorLockKey(schema)],
      );
      return rows.map((row) => row.pid);
    };
    await projector.start();
    const connects = jest.spyOn(Client.prototype, 'connect');
    const queries = jest.spyOn(Client.prototype, 'query');
    const reads = jest.spyOn(store, 'readAll');
    // The projector's connections (the test's own pool connects too).
    const projectorConnects = () => connects.mock.contexts.filter((client) => /^stagecraft-projector/.test((client as { connectionParameters: { application_name?: string } }).connectionParameters.application_name ?? ''));
    try {
      const holder = await lockHolder();
      expect(holder).toHaveLength(1);
      const allow = double.faults.denyAccess('');
      double.faults.dropSubscriptions();
      await waitFor('the refusal reported', () => (projector.failure() !== undefined ? true : undefined));
      reads.mockClear();
      // Two recoveries refused by the server (each reads the log's first event before anything else).
      await waitFor('two refused recoveries', () => (reads.mock.calls.length >= 2 && projector.failure()?.includes('denied') ? true : undefined), 30_000);
      const lockTaken = queries.mock.calls.filter(([sql]) => typeof sql === 'string' && /pg_(try_)?advisory_lock/.test(sql));
      expect(lockTaken).toEqual([]);
      expect(projectorConnects()).toEqual([]);
      expect(await lockHolder()).toEqual(holder);
      allow();
      await note();
      const head = await store.headPosition();
      await waitFor('following again', () => (projector.position() >= head && projector.failure() === undefined ? true : undefined), 60_000);
      // Let in again, it follows on the same session, still holding the lock.
      expect(await lockHolder()).toEqual(holder);
      expect(projectorConnects()).toEqual([]);
    } finally {
      connects.mockRestore();
      queries.mockRestore();
      reads.mockRestore();
      await projector.stop();
    }
  }, 90_000);
});
