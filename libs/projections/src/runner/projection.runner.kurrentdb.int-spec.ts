import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import type { Projection } from '../projection.types';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import { ProjectionRunner } from './projection.runner';

// The runner on KurrentDB, whose positions are byte offsets of records, not event numbers: the
// replay progress `stagecraft rebuild` prints "every 10,000 events" must come by events there too.

const count: Projection<number> = { name: 'count', handles: new Set(['Ping']), initial: () => 0, evolve: (model) => model + 1 };
const nowhere: ProjectionSnapshotStore = { load: async () => undefined, headers: () => [], save: () => ({ serialized: Promise.resolve(), written: Promise.resolve() }), close: async () => undefined };

describe('ProjectionRunner on KurrentDB', () => {
  let double: KurrentDbDouble;
  let store: EventStore;
  const EVENTS = 45;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    store = getKurrentDBEventStore({ connectionString: double.url });
    const events = Array.from({ length: EVENTS }, (_, i) => ({ id: crypto.randomUUID(), type: 'Ping', data: { i }, metadata: {} }));
    await store.appendToStream('s', events, { expectedRevision: 'no_stream' });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await double?.stop();
  });

  it('tells its replay progress every so many events, wherever their positions fall', async () => {
    const progress: number[] = [];
    const runner = new ProjectionRunner(store, nowhere, [count as Projection<unknown>], { replayProgressEveryEvents: 10, onReplayProgress: ({ position }) => progress.push(position) });
    await runner.start();
    await runner.stop();
    const events = await store.readAll({ maxCount: EVENTS });
    expect(runner.model(count)).toBe(EVENTS);
    expect(progress).toEqual([events[9]!.position, events[19]!.position, events[29]!.position, events[39]!.position]);
  }, 60_000);
});
