import { getKurrentDBEventStore, type EventStore, type ReadAllOptions, type SubscribeToAllOptions } from '@stagecraft/event-store';
import { Pool } from 'pg';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { describeWithPostgres, dropReadSideSchemas, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { CATCH_UP_BATCH, PostgresProjector } from './postgres.projector';

// The PostgreSQL projector on KurrentDB, whose positions are byte offsets of records (hundreds a
// event), not event numbers: what the projector decides by "how many events" must count events.

/** Opens a gate and says when something reached it. */
function gate() {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const arrived = new Promise<void>((resolve) => (reached = resolve));
  return { opened, arrived, open, reached };
}

describeWithPostgres('the PostgreSQL projector on KurrentDB', () => {
  let double: KurrentDbDouble;
  let store: EventStore;
  let pool: Pool;
  const schemas: string[] = [];
  const EVENTS = 40;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 10 });
    pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
    const stream = `opportunity-${crypto.randomUUID()}`;
    for (let i = 0; i < EVENTS; i += 1) await store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'NoteAdded', data: { note: 'x'.repeat(50) }, metadata: {} }], { expectedRevision: 'any' });
  }, 60_000);

  afterAll(async () => {
    for (const name of schemas) await dropReadSideSchemas(pool, name).catch(() => undefined);
    await pool?.end();
    await store?.close();
    await double?.stop();
  });

  const deferredNotes = async (schema: string) => Number((await pool.query(`SELECT count(*) FROM ${schema}.deferred_indexes`)).rows[0].count);

  /** The store, with its first subscription held at a gate until the test has looked. */
  function subscriptionHeld(held: ReturnType<typeof gate>): EventStore {
    return Object.assign(Object.create(store) as EventStore, {
      subscribeToAll(options?: SubscribeToAllOptions) {
        return (async function* () {
          held.reached();
          await held.opened;
          yield* store.subscribeToAll(options);
        })();
      },
    });
  }

  /** The store, with the rebuild's first page of the log held at a gate until the test has looked. */
  function rebuildReadHeld(held: ReturnType<typeof gate>): EventStore {
    return Object.assign(Object.create(store) as EventStore, {
      subscribeToAll: (options?: SubscribeToAllOptions) => store.subscribeToAll(options),
      async readAll(options?: ReadAllOptions) {
        if (options?.maxCount === CATCH_UP_BATCH + 1) {
          held.reached();
          await held.opened;
        }
        return store.readAll(options);
      },
    });
  }

  // The log's head position is thousands of bytes past its start, for 40 events: a first fold of
  // it is short, and keeps its query indexes (DEFER_INDEXES_FROM counts events).
  /** The events in the log now (other tests add some). */
  const eventsInLog = async () => (await store.readAll()).length;

  it.each([
    ['a log shorter than the threshold, its indexes kept', 1, 0],
    ['a log as long as the threshold, its indexes deferred', 0, 1],
  ])('first fold of %s', async (_case, beyond, deferring) => {
    const schema = uniqueSchema('kdb_defer');
    schemas.push(schema);
    const deferIndexesFrom = (await eventsInLog()) + beyond;
    expect(await store.headPosition()).toBeGreaterThan(100 * deferIndexesFrom); // positions are not event counts here
    const held = gate();
    const projector = new PostgresProjector(subscriptionHeld(held), { url: POSTGRES_TEST_URL, schema }, { deferIndexesFrom });
    const starting = projector.start();
    try {
      await held.arrived;
      expect((await deferredNotes(schema)) > 0 ? 1 : 0).toBe(deferring);
    } finally {
      held.open();
      await starting;
      await projector.stop();
    }
    expect(await deferredNotes(schema)).toBe(0);
  }, 60_000);

  // A server restored from an older backup and written on since: the projector's last event is
  // still where it was, but its checkpoint (past it, where the server's own records stood) now
  // falls inside a record. The server refuses to follow from there, every time.
  it('starts over, saying why, when its checkpoint falls inside a record of the log its anchor is still in', async () => {
    const schema = uniqueSchema('kdb_inside');
    schemas.push(schema);
    const first = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema });
    await first.start();
    await first.stop();
    double.appendSystemEvent();
    const stream = `opportunity-${crypto.randomUUID()}`;
    const after = await store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'NoteAdded', data: {}, metadata: {} }], { expectedRevision: 'no_stream' });
    await pool.query(`UPDATE ${schema}.checkpoint SET position = $1`, [after.position - 1]); // inside the server's record
    const resets: string[] = [];
    const second = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema }, { onReset: (reason) => resets.push(reason) });
    try {
      await second.start();
      expect(second.failure()).toBeUndefined();
      expect(second.position()).toBe(await store.headPosition());
      expect(resets).toEqual([expect.stringContaining(`its checkpoint (position ${after.position - 1}) falls inside a record`)]);
    } finally {
      await second.stop();
    }
  }, 60_000);

  it.each([
    ['a log shorter than the threshold, its indexes kept', 1, 0],
    ['a log as long as the threshold, its indexes deferred', 0, 1],
  ])('rebuild of %s', async (_case, beyond, deferring) => {
    const schema = uniqueSchema('kdb_rebuild');
    schemas.push(schema);
    const deferIndexesFrom = (await eventsInLog()) + beyond;
    const held = gate();
    const projector = new PostgresProjector(rebuildReadHeld(held), { url: POSTGRES_TEST_URL, schema }, { deferIndexesFrom });
    await projector.start();
    try {
      const rebuilding = projector.rebuild('funnel');
      try {
        await held.arrived;
        expect((await deferredNotes(`${schema}_rebuild`)) > 0 ? 1 : 0).toBe(deferring);
      } finally {
        held.open();
        await rebuilding;
      }
    } finally {
      await projector.stop();
    }
  }, 60_000);
});
