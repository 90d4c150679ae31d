import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStoreUnavailableError, getSQLiteEventStore, type EventStore, type SubscribeToAllOptions, type SubscriptionMessage } from '@stagecraft/event-store';
import type { Projection } from '../projection.types';
import type { ProjectionSnapshot, ProjectionSnapshotStore, SnapshotSave } from './projection-snapshot.store';
import { ProjectionRunner } from './projection.runner';
import { getSQLiteProjectionSnapshotStore } from './sqlite-projection-snapshot.store';

// A small projection whose answer depends on every event and on their order.
type Tally = { counts: Map<string, number>; digest: number };
const tally: Projection<Tally> = {
  name: 'tally',
  handles: new Set(['Ping', 'Pong']),
  initial: () => ({ counts: new Map(), digest: 7 }),
  evolve: (model, event) => {
    model.counts.set(event.stream, (model.counts.get(event.stream) ?? 0) + 1);
    model.digest = (model.digest * 31 + event.position + (event.type === 'Ping' ? 1 : 2)) % 1_000_000_007;
    return model;
  },
};

/** Keeps what was saved in memory, and can forget everything after a given save: a crash. */
class MemorySnapshots implements ProjectionSnapshotStore {
  readonly saves: ProjectionSnapshot[][] = [];
  async load(name: string) {
    return this.saves.at(-1)?.find((snapshot) => snapshot.name === name);
  }
  headers() {
    return (this.saves.at(-1) ?? []).map(({ model: _model, ...header }) => header);
  }
  save(snapshots: readonly ProjectionSnapshot[]): SnapshotSave {
    // Copy, as a real store would: later in-place updates must not leak into a saved snapshot.
    this.saves.push(snapshots.map((snapshot) => ({ ...snapshot, model: structuredClone(snapshot.model) })));
    return { serialized: Promise.resolve(), written: Promise.resolve() };
  }
  async close() {}
}

describe('ProjectionRunner', () => {
  let dir: string;
  let store: EventStore;
  const append = async (count: number) => {
    for (let i = 0; i < count; i += 1) {
      await store.appendToStream(`s-${i % 5}`, [{ id: crypto.randomUUID(), type: i % 3 === 0 ? 'Pong' : 'Ping', data: { i }, metadata: {} }], { expectedRevision: 'any' });
    }
    await store.appendToStream('noise', [{ id: crypto.randomUUID(), type: 'Ignored', data: {}, metadata: {} }], { expectedRevision: 'any' });
  };
  const singleRun = async (): Promise<Tally> => {
    const runner = new ProjectionRunner(store, new MemorySnapshots(), [tally as Projection<unknown>]);
    await runner.start();
    const model = structuredClone(runner.model(tally));
    await runner.stop();
    return model;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('replays the log, then follows live appends, and waits for a position on request', async () => {
    await append(40);
    const runner = new ProjectionRunner(store, new MemorySnapshots(), [tally as Projection<unknown>]);
    await runner.start();
    expect([...runner.model(tally).counts.values()].reduce((a, b) => a + b)).toBe(40);
    expect(runner.isCaughtUp()).toBe(true);

    await append(10);
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 5_000)).toBe(true);
    expect([...runner.model(tally).counts.values()].reduce((a, b) => a + b)).toBe(50);
    expect(runner.status()).toEqual([{ name: 'tally', checkpoint: head, lag: 0, rebuilding: false }]);
    expect(await runner.waitFor(head + 1_000, 50)).toBe(false);
    await runner.stop();
  });

  it('when the store stays away longer than its subscription keeps trying, says so, then follows again from the checkpoint once it answers', async () => {
    await append(20);
    const expected = await singleRun();
    // The first subscription fails after the replay (the store's own retries exhausted); the
    // store then refuses the head read twice more before it answers again.
    let subscriptions = 0;
    let refusals = 2;
    const outage = () => new EventStoreUnavailableError('test store', 'connection refused');
    const flaky: EventStore = Object.assign(Object.create(store) as EventStore, {
      headPosition: async () => {
        if (subscriptions > 0 && refusals > 0) {
          refusals -= 1;
          throw outage();
        }
        return store.headPosition();
      },
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        subscriptions += 1;
        if (subscriptions > 1) return store.subscribeToAll(options);
        return (async function* () {
          for await (const message of store.subscribeToAll(options)) {
            yield message;
            if (message.type === 'caughtUp') throw outage();
          }
        })();
      },
    });
    const runner = new ProjectionRunner(flaky, new MemorySnapshots(), [tally as Projection<unknown>]);
    await runner.start();
    for (let i = 0; i < 100 && runner.failure('tally') === undefined; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runner.failure('tally')).toMatch(/cannot be reached: connection refused; following again once it answers/);

    await append(5); // written while it waits: folded in once, when it follows again
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 10_000)).toBe(true);
    expect(runner.failure('tally')).toBeUndefined();
    expect(subscriptions).toBe(2);
    const counts = [...runner.model(tally).counts.values()].reduce((a, b) => a + b);
    expect(counts).toBe([...expected.counts.values()].reduce((a, b) => a + b) + 5);
    await runner.stop();
  }, 30_000);

  // Away, then back with a failure of its own (an event that no longer reads): following stops for
  // good. The models said they were waiting for the store, which follows again by itself: left
  // so, they would answer PROJECTIONS.UNAVAILABLE ("follows again by itself") for ever.
  it('when the store comes back failing for good while the models wait for it, says they stopped, no longer that they recover', async () => {
    await append(5);
    let subscriptions = 0;
    const flaky: EventStore = Object.assign(Object.create(store) as EventStore, {
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        subscriptions += 1;
        const attempt = subscriptions;
        return (async function* () {
          if (attempt > 1) throw new Error('the event at position 3 cannot be read: the log was altered outside Stagecraft');
          for await (const message of store.subscribeToAll(options)) {
            yield message;
            if (message.type === 'caughtUp') throw new EventStoreUnavailableError('test store', 'connection refused');
          }
        })();
      },
    });
    const told: string[] = [];
    const runner = new ProjectionRunner(flaky, new MemorySnapshots(), [tally as Projection<unknown>]);
    runner.onFailure = (_name, reason) => told.push(reason);
    await runner.start();
    try {
      for (let i = 0; i < 500 && subscriptions < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      for (let i = 0; i < 100 && !/altered/.test(runner.failure('tally') ?? ''); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(runner.failure('tally')).toMatch(/the log was altered outside Stagecraft/);
      expect(runner.status()[0]).not.toHaveProperty('recovering');
      expect(told).toEqual([expect.stringMatching(/connection refused; following again once it answers/), expect.stringMatching(/the log was altered outside Stagecraft/)]);
    } finally {
      await runner.stop();
    }
  }, 30_000);

  // A stop for good is saved with the models even when no event was folded before it (the first
  // page read holds the event that does not read): an API serving the projector's snapshots
  // (PROJECTIONS=external) would otherwise serve their last figures, with 200s, as if the log had
  // not moved, and never say that they stopped.
  it('saves a stop for good with the models at once, even one met before any event was folded', async () => {
    await append(5);
    const unreadable: EventStore = Object.assign(Object.create(store) as EventStore, {
      subscribeToAll(): AsyncIterable<SubscriptionMessage> {
        return (async function* () {
          yield* [];
          throw new Error('the event at position 1 cannot be read: the log was altered outside Stagecraft');
        })();
      },
    });
    const snapshots = new MemorySnapshots();
    const runner = new ProjectionRunner(unreadable, snapshots, [tally as Projection<unknown>]);
    await runner.start();
    try {
      expect(runner.failure('tally')).toMatch(/altered outside Stagecraft/);
      for (let i = 0; i < 100 && snapshots.saves.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(snapshots.headers()).toEqual([expect.objectContaining({ name: 'tally', position: 0, failed: expect.stringMatching(/altered outside Stagecraft/) })]);
    } finally {
      await runner.stop();
    }
  }, 30_000);

  // A snapshot saved while the store is away (the periodic save, or the save of a stop) is a good
  // model at its position: saved as failed, an API serving the projector's snapshots told its
  // callers the read model had stopped and needed a rebuild, until the projector saved again.
  it('saves a model waiting for the store as it stands, not as stopped', async () => {
    await append(20);
    const outage = () => new EventStoreUnavailableError('test store', 'connection refused');
    // Gone halfway through the replay (folded, not yet saved), and away for the rest of the test.
    let gone = false;
    let passed = 0;
    const away: EventStore = Object.assign(Object.create(store) as EventStore, {
      headPosition: async () => {
        if (gone) throw outage();
        return store.headPosition();
      },
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        if (gone) throw outage();
        return (async function* () {
          for await (const message of store.subscribeToAll(options)) {
            yield message;
            if (message.type === 'event' && (passed += 1) === 10) {
              gone = true;
              throw outage();
            }
          }
        })();
      },
    });
    const snapshots = new MemorySnapshots();
    const runner = new ProjectionRunner(away, snapshots, [tally as Projection<unknown>]);
    await runner.start();
    for (let i = 0; i < 500 && runner.failure('tally') === undefined; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runner.status()).toEqual([expect.objectContaining({ name: 'tally', recovering: true })]);
    await runner.stop(); // saves what it folded
    const saved = snapshots.saves.flat().filter((snapshot) => snapshot.name === 'tally');
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.at(-1)!.position).toBeGreaterThan(0);
    expect(saved.flatMap((snapshot) => (snapshot.failed === undefined ? [] : [snapshot.failed]))).toEqual([]);
  }, 30_000);

  it('while the head answers but the log still cannot be followed, stays failed, says so once, and waits longer each time', async () => {
    await append(10);
    let subscriptions = 0;
    const outage = () => new EventStoreUnavailableError('test store', 'connection refused');
    const flaky: EventStore = Object.assign(Object.create(store) as EventStore, {
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        subscriptions += 1;
        const first = subscriptions === 1;
        return (async function* () {
          if (!first) throw outage();
          for await (const message of store.subscribeToAll(options)) {
            yield message;
            if (message.type === 'caughtUp') throw outage();
          }
        })();
      },
    });
    const runner = new ProjectionRunner(flaky, new MemorySnapshots(), [tally as Projection<unknown>]);
    const told: string[] = [];
    runner.onFailure = (_name, reason) => told.push(reason);
    await runner.start();
    const seen = new Set<string | undefined>();
    const started = Date.now();
    while (Date.now() - started < 3_200) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      seen.add(runner.failure('tally') === undefined ? undefined : 'failed');
    }
    await runner.stop();
    // Pauses of 0.5, 1 and 2 s: at most four subscriptions in 3.2 s (not one every half second).
    expect(subscriptions).toBeLessThanOrEqual(4);
    expect([...seen]).toEqual(['failed']); // never reported working while nothing is followed
    expect(told).toHaveLength(1);
  }, 30_000);

  it('after a crash at any save, resumes from it and ends exactly where a single run ends', async () => {
    await append(60);
    const snapshots = new MemorySnapshots();
    const first = new ProjectionRunner(store, snapshots, [tally as Projection<unknown>], { snapshotEveryEvents: 7, replaySaveIntervalMs: 0 });
    await first.start();
    await first.stop();
    await append(30);
    const expected = await singleRun();

    expect(snapshots.saves.length).toBeGreaterThan(5);
    for (let crashAfter = 1; crashAfter <= snapshots.saves.length; crashAfter += 1) {
      const survived = new MemorySnapshots();
      survived.saves.push(...snapshots.saves.slice(0, crashAfter).map((saves) => saves.map((s) => ({ ...s, model: structuredClone(s.model) }))));
      const resumed = new ProjectionRunner(store, survived, [tally as Projection<unknown>]);
      await resumed.start();
      expect(resumed.model(tally)).toEqual(expected);
      await resumed.stop();
    }
  });

  it('while a save reads the models, holds events back (queries see the models as saved), then folds them in; saves never overlap', async () => {
    await append(12);
    let release!: () => void;
    const reading = new Promise<void>((resolve) => (release = resolve));
    const saves: { position: number; count: number; live: Tally }[] = [];
    const gated: ProjectionSnapshotStore = {
      load: async () => undefined,
      headers: () => [],
      save: (snapshots) => {
        const [tallySnapshot] = snapshots;
        const live = tallySnapshot!.model as Tally;
        saves.push({ position: tallySnapshot!.position, count: [...live.counts.values()].reduce((a, b) => a + b), live });
        return { serialized: reading, written: reading };
      },
      close: async () => undefined,
    };
    const runner = new ProjectionRunner(store, gated, [tally as Projection<unknown>], { snapshotEveryMs: 1 });
    await runner.start(); // caught up: the first save starts and waits at `reading`
    expect(saves).toHaveLength(1);

    await append(8);
    const head = await store.headPosition();
    expect(await runner.waitFor(head, 300)).toBe(false);
    const total = () => [...runner.model(tally).counts.values()].reduce((a, b) => a + b);
    expect(total()).toBe(12);
    expect(runner.model(tally)).toBe(saves[0]!.live);
    expect(saves).toHaveLength(1); // the save timer fired meanwhile; the next save waits for this one

    release();
    expect(await runner.waitFor(head, 5_000)).toBe(true);
    expect(total()).toBe(20);
    await runner.stop();
    expect(saves.length).toBeGreaterThan(1);
    expect(saves.at(-1)).toMatchObject({ position: head });
  });

  it('says its saves fail (once to the logs, on cannotSave until one succeeds), and tries again with no further event', async () => {
    await append(5);
    let full = true;
    const saved = new MemorySnapshots();
    const failing: ProjectionSnapshotStore = Object.assign(Object.create(saved) as ProjectionSnapshotStore, {
      save: (snapshots: readonly ProjectionSnapshot[]): SnapshotSave => {
        if (!full) return saved.save(snapshots);
        const refused = Promise.reject(new Error('database or disk is full'));
        return { serialized: refused, written: refused };
      },
    });
    const runner = new ProjectionRunner(store, failing, [tally as Projection<unknown>], { snapshotEveryMs: 20, savedIn: '/data/read-models.db (READ_MODELS_PATH)' });
    const told: string[] = [];
    runner.onSaveFailure = (error) => told.push(error.message);
    expect(runner.cannotSave()).toBeUndefined();
    await runner.start(); // caught up: the first save fails
    for (let i = 0; i < 100 && told.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runner.cannotSave()).toMatch(/^the read models could not be saved in \/data\/read-models\.db \(READ_MODELS_PATH\) since .* \(database or disk is full\)/);
    await new Promise((resolve) => setTimeout(resolve, 200)); // several retries, all failing
    expect(told).toEqual(['database or disk is full']);

    full = false;
    for (let i = 0; i < 200 && runner.cannotSave() !== undefined; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(runner.cannotSave()).toBeUndefined();
    expect(saved.saves.at(-1)![0]!.position).toBe(await store.headPosition());
    await runner.stop();
  });

  it('keeps models and checkpoints in SQLite across restarts', async () => {
    await append(25);
    const path = join(dir, 'read-models.db');
    const first = new ProjectionRunner(store, getSQLiteProjectionSnapshotStore(path), [tally as Projection<unknown>]);
    await first.start();
    await first.stop();
    await append(5);
    const snapshots = getSQLiteProjectionSnapshotStore(path);
    expect((await snapshots.load('tally'))!.position).toBeLessThan(await store.headPosition());
    const second = new ProjectionRunner(store, snapshots, [tally as Projection<unknown>]);
    await second.start();
    expect(second.model(tally)).toEqual(await singleRun());
    await second.stop();
    await snapshots.close();
  });

  it('rebuilds from zero while the old model serves, and the rebuilt model equals the incremental one', async () => {
    await append(200);
    const runner = new ProjectionRunner(store, new MemorySnapshots(), [tally as Projection<unknown>], { rebuildPageSize: 16 });
    await runner.start();
    const before = runner.model(tally);
    const progress: number[] = [];
    const rebuilding = runner.rebuild('tally', ({ position }) => progress.push(position));
    expect(runner.status()[0]!.rebuilding).toBe(true);
    expect(runner.model(tally)).toBe(before); // still the old one while rebuilding
    await append(20); // live events arrive during the rebuild
    await rebuilding;
    await runner.waitFor(await store.headPosition(), 5_000);
    expect(progress.length).toBeGreaterThan(5);
    expect(runner.model(tally)).not.toBe(before);
    expect(runner.model(tally)).toEqual(await singleRun());
    await runner.stop();
  });
});

describe('ProjectionRunner when a projection cannot fold an event', () => {
  let dir: string;
  let store: EventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-fail-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops that projection visibly, keeps the others going, and a rebuild after the fix catches up', async () => {
    let broken = true;
    const fragile: Projection<{ seen: number }> = {
      name: 'fragile',
      handles: new Set(['Ping', 'Poison']),
      initial: () => ({ seen: 0 }),
      evolve: (model, event) => {
        if (event.type === 'Poison' && broken) throw new Error('cannot read this');
        model.seen += 1;
        return model;
      },
    };
    const counter: Projection<{ seen: number }> = {
      name: 'counter',
      handles: new Set(['Ping', 'Poison']),
      initial: () => ({ seen: 0 }),
      evolve: (model) => {
        model.seen += 1;
        return model;
      },
    };
    const append = (type: string) => store.appendToStream('s', [{ id: crypto.randomUUID(), type, data: {}, metadata: {} }], { expectedRevision: 'any' });
    await append('Ping');
    await append('Poison');
    await append('Ping');
    const failures: string[] = [];
    const runner = new ProjectionRunner(store, new MemorySnapshots(), [fragile, counter] as Projection<unknown>[]);
    runner.onFailure = (name) => failures.push(name);
    await runner.start();

    expect(failures).toEqual(['fragile']);
    expect(runner.failure('fragile')).toMatch(/position 2 \(Poison\).*cannot read this/);
    expect(runner.status().find((s) => s.name === 'fragile')).toMatchObject({ checkpoint: 1, failed: expect.any(String) });
    expect(runner.model(counter).seen).toBe(3);
    expect(runner.position()).toBe(3); // the working projections are not held back

    broken = false;
    await append('Ping');
    await runner.waitFor(4, 5_000);
    await runner.rebuild('fragile');
    expect(runner.failure('fragile')).toBeUndefined();
    expect(runner.model(fragile).seen).toBe(4);
    await append('Ping');
    await runner.waitFor(5, 5_000);
    expect(runner.model(fragile).seen).toBe(5);
    await runner.stop();
  });
});

describe('ProjectionRunner with snapshots of another log', () => {
  it('sets them aside and rebuilds from the log it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-other-'));
    const snapshots = getSQLiteProjectionSnapshotStore(join(dir, 'read-models.db'));
    try {
      const stores = [0, 1].map((i) => getSQLiteEventStore({ path: join(dir, `events-${i}.db`) }));
      for (const [index, store] of stores.entries()) {
        for (let i = 0; i < 3 + index * 4; i += 1) await store.appendToStream('s', [{ id: crypto.randomUUID(), type: 'Ping', data: {}, metadata: {} }], { expectedRevision: 'any' });
      }
      const first = new ProjectionRunner(stores[0]!, snapshots, [tally as Projection<unknown>]);
      await first.start();
      await first.stop();
      expect((await snapshots.load('tally'))!.position).toBe(3);

      const discarded: string[] = [];
      const second = new ProjectionRunner(stores[1]!, snapshots, [tally as Projection<unknown>]);
      second.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await second.start();
      expect(discarded).toEqual(['it was built from another event log']);
      expect(second.model(tally).counts.get('s')).toBe(7);
      await second.stop();
      for (const store of stores) await store.close();
    } finally {
      await snapshots.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ProjectionRunner with a snapshot of an older model layout', () => {
  it('sets it aside and rebuilds that projection from the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-layout-'));
    const snapshots = getSQLiteProjectionSnapshotStore(join(dir, 'read-models.db'));
    const store = getSQLiteEventStore({ path: join(dir, 'events.db') });
    try {
      for (let i = 0; i < 4; i += 1) await store.appendToStream('s', [{ id: crypto.randomUUID(), type: 'Ping', data: {}, metadata: {} }], { expectedRevision: 'any' });
      const first = new ProjectionRunner(store, snapshots, [tally as Projection<unknown>]);
      await first.start();
      await first.stop();
      // Tamper with the saved model as an older version would have left it: a count that a rebuild would not give.
      const saved = (await snapshots.load('tally'))!;
      (saved.model as Tally).counts.set('s', 99);
      await snapshots.save([saved]).written;

      // Version 2 of the tally keeps the same columns plus a layout mark the old snapshot lacks.
      const tallyV2: Projection<Tally & { layout?: number }> = { ...tally, initial: () => ({ ...tally.initial(), layout: 2 }), accepts: (model) => (model as { layout?: number }).layout === 2 };
      const discarded: string[] = [];
      const second = new ProjectionRunner(store, snapshots, [tallyV2 as Projection<unknown>]);
      second.onDiscardedSnapshot = (name, reason) => discarded.push(`${name}: ${reason}`);
      await second.start();
      expect(discarded).toEqual(['tally: its model was saved by a version of Stagecraft with other columns']);
      expect(second.model(tally).counts.get('s')).toBe(4);
      await second.stop();
      // Saved again in the new layout: the next start takes it.
      const third = new ProjectionRunner(store, snapshots, [tallyV2 as Projection<unknown>]);
      third.onDiscardedSnapshot = (name, reason) => discarded.push(`${name}: ${reason}`);
      await third.start();
      expect(discarded).toHaveLength(1);
      await third.stop();
    } finally {
      await store.close();
      await snapshots.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ProjectionRunner on a store restored from an older backup and written on since', () => {
  it('sets aside snapshots whose last event the log no longer holds, though its first event and head would pass', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-restored-'));
    const snapshots = getSQLiteProjectionSnapshotStore(join(dir, 'read-models.db'));
    const stores = [0, 1].map((i) => getSQLiteEventStore({ path: join(dir, `events-${i}.db`) }));
    const ping = (id: string = crypto.randomUUID()) => [{ id, type: 'Ping', data: {}, metadata: {} }];
    try {
      // The same first events in both (the backup's), then the original goes on to position 7 and
      // the restored one, written on after the restore, past it to 11.
      const shared = Array.from({ length: 3 }, () => crypto.randomUUID());
      for (const store of stores) for (const id of shared) await store.appendToStream('s', ping(id), { expectedRevision: 'any' });
      for (let i = 0; i < 4; i += 1) await stores[0]!.appendToStream('s', ping(), { expectedRevision: 'any' });
      for (let i = 0; i < 8; i += 1) await stores[1]!.appendToStream('t', ping(), { expectedRevision: 'any' });

      const first = new ProjectionRunner(stores[0]!, snapshots, [tally as Projection<unknown>]);
      await first.start();
      await first.stop();
      expect((await snapshots.load('tally'))!.anchor).toEqual({ position: 7, eventId: (await stores[0]!.readAll()).at(-1)!.id });

      const discarded: string[] = [];
      const second = new ProjectionRunner(stores[1]!, snapshots, [tally as Projection<unknown>]);
      second.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await second.start();
      expect(discarded).toEqual([expect.stringContaining('(position 7, id ') as string]);
      expect(discarded[0]).toContain('is no longer at that position');
      expect([...second.model(tally).counts]).toEqual([
        ['s', 3],
        ['t', 8],
      ]);
      await second.stop();

      // Saved again from this log, the next start takes it.
      const third = new ProjectionRunner(stores[1]!, snapshots, [tally as Projection<unknown>]);
      third.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await third.start();
      expect(discarded).toHaveLength(1);
      expect(third.model(tally).counts.get('t')).toBe(8);
      await third.stop();
    } finally {
      for (const store of stores) await store.close();
      await snapshots.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sets aside snapshots whose checkpoint passed events it does not read, when the restored log has events it reads there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-restored-gap-'));
    const snapshots = getSQLiteProjectionSnapshotStore(join(dir, 'read-models.db'));
    const stores = [0, 1].map((i) => getSQLiteEventStore({ path: join(dir, `events-${i}.db`) }));
    const event = (type: string, id: string = crypto.randomUUID()) => [{ id, type, data: {}, metadata: {} }];
    try {
      // The backup: three pings, then two events no model reads. The original goes on with three
      // more of those (the runner's checkpoint passes them, its anchor stays on the third ping);
      // the restored one is written on with pings from position 6, inside that run.
      const shared = [...Array.from({ length: 3 }, () => event('Ping')), ...Array.from({ length: 2 }, () => event('Noise'))];
      for (const store of stores) for (const events of shared) await store.appendToStream('s', events, { expectedRevision: 'any' });
      for (let i = 0; i < 3; i += 1) await stores[0]!.appendToStream('s', event('Noise'), { expectedRevision: 'any' });
      for (let i = 0; i < 5; i += 1) await stores[1]!.appendToStream('t', event('Ping'), { expectedRevision: 'any' });

      const first = new ProjectionRunner(stores[0]!, snapshots, [tally as Projection<unknown>]);
      await first.start();
      await first.stop();
      const saved = (await snapshots.load('tally'))!;
      expect(saved.position).toBe(8);
      expect(saved.anchor!.position).toBe(3);

      // The unchanged log: the run of unread events after the anchor is no reason to start over.
      const discarded: string[] = [];
      const again = new ProjectionRunner(stores[0]!, snapshots, [tally as Projection<unknown>]);
      again.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await again.start();
      expect(discarded).toEqual([]);
      await again.stop();

      const restored = new ProjectionRunner(stores[1]!, snapshots, [tally as Projection<unknown>]);
      restored.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await restored.start();
      expect(discarded).toEqual([expect.stringContaining('(Ping, position 6) now stands between the event it last took in (position 3) and its checkpoint (position 8)') as string]);
      expect([...restored.model(tally).counts]).toEqual([
        ['s', 3],
        ['t', 5],
      ]);
      await restored.stop();
    } finally {
      for (const store of stores) await store.close();
      await snapshots.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A running runner whose store goes away and comes back as another log: a KurrentDB server
// restored from an older backup (and written on since), or started again empty. Its subscription
// then fails, refused the checkpoint (a position no record of the new log starts at) or cut off;
// either way the models must start over on the log the store now holds, as the PostgreSQL
// projector and the relay do, and as this runner does when it starts — never stay stopped until
// a restart, nor go on from their old checkpoint over a history they did not fold.
describe('ProjectionRunner while its store comes back as another log', () => {
  const ping = (id: string = crypto.randomUUID()) => [{ id, type: 'Ping', data: {}, metadata: {} }];

  /** A store that is `stores[0]` until `replace()`, then `stores[1]`; the subscription under way then fails with `failure`. */
  function replaceable(stores: EventStore[], failure: () => Error) {
    let current = stores[0]!;
    let cut: (() => void) | undefined;
    const store: EventStore = Object.assign(Object.create(stores[0]!) as EventStore, {
      headPosition: () => current.headPosition(),
      readAll: (...args: Parameters<EventStore['readAll']>) => current.readAll(...args),
      subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage> {
        const from = current;
        const broken = new Promise<never>((_resolve, reject) => (cut = () => reject(failure())));
        broken.catch(() => undefined);
        return (async function* () {
          const iterator = from.subscribeToAll(options)[Symbol.asyncIterator]();
          for (;;) {
            const next = await Promise.race([iterator.next(), broken]);
            if (next.done) return;
            yield next.value;
          }
        })();
      },
    });
    return {
      store,
      replace: () => {
        current = stores[1]!;
        cut?.();
      },
    };
  }

  it.each([
    ['refused its checkpoint (KurrentDB: no record of the new log starts there)', () => new Error('3 INVALID_ARGUMENT: Invalid position C:7/P:7: no record starts there')],
    ['cut off (the server restarted)', () => new EventStoreUnavailableError('test store', 'connection refused')],
  ])('starts over on the new log when its subscription is %s', async (_case, failure) => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-runner-replaced-'));
    const stores = [0, 1].map((i) => getSQLiteEventStore({ path: join(dir, `events-${i}.db`), pollIntervalMs: 20 }));
    try {
      // The backup's first events in both; the original goes on to position 7, the restored one,
      // written on after the restore, past it to 11 (its events at 4 to 7 are others).
      const shared = Array.from({ length: 3 }, () => crypto.randomUUID());
      for (const store of stores) for (const id of shared) await store.appendToStream('s', ping(id), { expectedRevision: 'any' });
      for (let i = 0; i < 4; i += 1) await stores[0]!.appendToStream('s', ping(), { expectedRevision: 'any' });
      for (let i = 0; i < 8; i += 1) await stores[1]!.appendToStream('t', ping(), { expectedRevision: 'any' });
      const { store, replace } = replaceable(stores, failure);
      const runner = new ProjectionRunner(store, new MemorySnapshots(), [tally as Projection<unknown>]);
      const discarded: string[] = [];
      runner.onDiscardedSnapshot = (_name, reason) => discarded.push(reason);
      await runner.start();
      expect(runner.position()).toBe(7);

      replace();
      expect(await runner.waitFor(11, 10_000)).toBe(true);
      for (let i = 0; i < 100 && runner.failure('tally') !== undefined; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));

      expect(runner.failure('tally')).toBeUndefined();
      expect([...runner.model(tally).counts]).toEqual([
        ['s', 3],
        ['t', 8],
      ]);
      expect(discarded).toEqual([expect.stringContaining('(position 7, id ') as string]);
      await stores[1]!.appendToStream('t', ping(), { expectedRevision: 'any' });
      expect(await runner.waitFor(12, 10_000)).toBe(true);
      expect(runner.model(tally).counts.get('t')).toBe(9);
      await runner.stop();
    } finally {
      for (const store of stores) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
