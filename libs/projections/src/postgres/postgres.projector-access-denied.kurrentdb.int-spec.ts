import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { Pool } from 'pg';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { waitFor } from '../../../../test/support/relay-consumers';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { PostgresProjector } from './postgres.projector';

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
});
