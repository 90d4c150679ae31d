import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { waitFor } from '../../../../test/support/relay-consumers';
import type { Projection } from '../projection.types';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import { ProjectionRunner } from './projection.runner';

// A KurrentDB server that starts refusing the projections' user while they run (a password
// rotated, an ACL changed): the models keep their checkpoints, say which setting to correct, and
// follow again by themselves once the server lets them in, as after an outage.

const count: Projection<number> = { name: 'count', handles: new Set(['Ping']), initial: () => 0, evolve: (model) => model + 1 };
const nowhere: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: () => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };
const pings = (n: number) => Array.from({ length: n }, (_, i) => ({ id: crypto.randomUUID(), type: 'Ping', data: { i }, metadata: {} }));

describe('ProjectionRunner on a KurrentDB server that starts denying its user', () => {
  let double: KurrentDbDouble;
  let store: EventStore;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 10 });
    await store.appendToStream('s', pings(5), { expectedRevision: 'no_stream' });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await double?.stop();
  });

  it('keeps its checkpoint, names EVENT_STORE_URL and access denied while recovering, and follows again once let in', async () => {
    const failures: string[] = [];
    const runner = new ProjectionRunner(store, nowhere, [count as Projection<unknown>]);
    runner.onFailure = (_name, reason) => failures.push(reason);
    await runner.start();
    try {
      const checkpoint = runner.position();
      const allow = double.faults.denyAccess('');
      double.faults.dropSubscriptions(); // the server ends the subscription: following again is refused
      const [status] = await waitFor('the refusal reported', async () => (runner.status()[0]!.failed !== undefined ? runner.status() : undefined));
      expect(status).toMatchObject({ checkpoint, recovering: true });
      expect(status!.failed).toContain('EVENT_STORE_URL');
      expect(status!.failed).toContain('denied');
      expect(failures).toHaveLength(1);
      expect(runner.model(count)).toBe(5);
      allow();
      await store.appendToStream('s', pings(3), { expectedRevision: 'any' });
      await waitFor('following again', async () => (runner.model(count) === 8 && runner.status()[0]!.failed === undefined ? true : undefined));
      expect(runner.status()[0]).not.toHaveProperty('recovering');
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
