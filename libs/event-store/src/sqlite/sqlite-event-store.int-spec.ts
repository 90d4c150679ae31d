import Database from 'better-sqlite3';
import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { eventStoreContract } from '../event-store.contract';
import { EventStoreUnavailableError, WrongExpectedRevisionError } from '../event-store.errors';
import type { NewEvent, StoredEvent, SubscribeToAllOptions, SubscriptionMessage } from '../event-store.port';
import {
  getSQLiteEventStore,
  SQLITE_EVENT_STORE_SCHEMA_VERSION,
  sqliteWriterThreadOf,
  type SQLiteEventStore,
  type SQLiteEventStoreOptions,
} from './sqlite-event-store';

function tempDirectory(): { dir: string; cleanup: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-event-store-'));
  return { dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

eventStoreContract('SQLite on a file', async () => {
  const { dir, cleanup } = tempDirectory();
  return { store: getSQLiteEventStore({ path: join(dir, 'events.db') }), cleanup };
});

describe('SQLite event store', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const opened: SQLiteEventStore[] = [];

  beforeEach(() => {
    ({ dir, cleanup } = tempDirectory());
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await cleanup();
  });

  function open(options: Partial<SQLiteEventStoreOptions> = {}): SQLiteEventStore {
    const store = getSQLiteEventStore({ path: join(dir, 'events.db'), ...options });
    opened.push(store);
    return store;
  }

  const event = (type = 'Happened', data: Record<string, unknown> = {}): NewEvent => ({ id: randomUUID(), type, data, metadata: {} });

  it('keeps events across close and reopen', async () => {
    const first = open({ durability: 'normal' });
    await first.appendToStream('deal-1', [event('Opened', { amount: 10 }), event('Won')], { expectedRevision: 'no_stream' });
    const before = await first.readAll();
    await first.close();

    const reopened = open();
    expect(await reopened.readAll()).toEqual(before);
    expect(await reopened.headPosition()).toBe(before[1].position);
    const next = await reopened.appendToStream('deal-1', [event('Reopened')], { expectedRevision: 1 });
    expect(next.nextRevision).toBe(2);
    expect(next.position).toBeGreaterThan(before[1].position);
  });

  it('creates missing parent directories and an owner-only database file', async () => {
    const path = join(dir, 'nested', 'deeper', 'events.db');
    const store = open({ path });
    await store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });

    expect(statSync(path).mode & 0o777).toBe(0o600);
    // SQLite gives the write-ahead log the database file's permissions.
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
  });

  it('records the schema version and refuses a file from a newer version', async () => {
    await open().close();
    const raw = new Database(join(dir, 'events.db'));
    expect(raw.pragma('user_version', { simple: true })).toBe(SQLITE_EVENT_STORE_SCHEMA_VERSION);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.pragma(`user_version = ${SQLITE_EVENT_STORE_SCHEMA_VERSION + 1}`);
    raw.close();

    expect(() => open()).toThrow(/newer/);
  });

  it('group commit: 100 appends started in the same tick share one transaction and one timestamp', async () => {
    let clockCalls = 0;
    const store = open({
      clock: () => {
        clockCalls += 1;
        return new Date('2030-01-02T03:04:05.000Z');
      },
    });
    const before = store.stats();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.appendToStream(`deal-${i}`, [event()], { expectedRevision: 'no_stream' })),
    );

    expect(store.stats().committedBatches - before.committedBatches).toBe(1);
    expect(store.stats().committedAppends - before.committedAppends).toBe(100);
    expect(clockCalls).toBe(1);
    expect(new Set(results.map((r) => r.position)).size).toBe(100);
    const recorded = await store.readAll();
    expect(recorded).toHaveLength(100);
    expect(new Set(recorded.map((e) => e.recordedAt))).toEqual(new Set(['2030-01-02T03:04:05.000Z']));
  });

  it('in a batch each append sees the appends before it, and a failing one fails alone', async () => {
    const store = open();
    const [created, extended, stale, other] = await Promise.allSettled([
      store.appendToStream('deal-a', [event()], { expectedRevision: 'no_stream' }),
      store.appendToStream('deal-a', [event()], { expectedRevision: 0 }),
      store.appendToStream('deal-a', [event()], { expectedRevision: 0 }),
      store.appendToStream('deal-b', [event()], { expectedRevision: 'no_stream' }),
    ]);

    expect(created).toMatchObject({ status: 'fulfilled', value: { nextRevision: 0 } });
    expect(extended).toMatchObject({ status: 'fulfilled', value: { nextRevision: 1 } });
    expect(stale).toMatchObject({ status: 'rejected', reason: { expected: 0, actual: 1 } });
    expect((stale as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
    expect(other).toMatchObject({ status: 'fulfilled', value: { nextRevision: 0 } });
    expect(store.stats().committedBatches).toBe(1);
    expect((await store.readAll()).map((e) => e.stream)).toEqual(['deal-a', 'deal-a', 'deal-b']);
  });

  it('an append that fails while being written (not refused by a check) fails its whole batch: none is stored in part', async () => {
    const store = open();
    await store.appendToStream('deal-a', [event()], { expectedRevision: 'no_stream' });
    // A failure in the middle of an append's inserts, as an I/O error could cause one.
    const other = new Database(join(dir, 'events.db'));
    other.exec(`CREATE TRIGGER broken BEFORE INSERT ON events WHEN NEW.type = 'Broken' BEGIN SELECT RAISE(ABORT, 'broken'); END`);
    other.close();

    const settled = await Promise.allSettled([
      store.appendToStream('deal-a', [event()], { expectedRevision: 0 }),
      store.appendToStream('deal-b', [event('Fine'), event('Broken')], { expectedRevision: 'no_stream' }),
    ]);

    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toMatch(/broken/);
    expect((await store.readAll()).map((e) => e.stream)).toEqual(['deal-a']);
    await expect(store.appendToStream('deal-a', [event()], { expectedRevision: 0 })).resolves.toMatchObject({ nextRevision: 1 });
  });

  it('rejects malformed input before it can join a batch', async () => {
    const store = open();
    const good = store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });
    const noId = store.appendToStream('deal-2', [{ ...event(), id: '' }], { expectedRevision: 'no_stream' });
    const badRevision = store.appendToStream('deal-3', [event()], { expectedRevision: -2 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const unserialisable = store.appendToStream('deal-4', [event('Cyclic', cyclic)], { expectedRevision: 'no_stream' });

    await expect(noId).rejects.toThrow(TypeError);
    await expect(badRevision).rejects.toThrow(RangeError);
    await expect(unserialisable).rejects.toThrow(TypeError);
    await expect(good).resolves.toMatchObject({ nextRevision: 0 });
    await expect(store.readAll({ maxCount: -1 })).rejects.toThrow(RangeError);
    expect((await store.readAll()).map((e) => e.stream)).toEqual(['deal-1']);
  });

  it('on an empty store: head 0, nothing to read, caughtUp at 0; an empty append to a missing stream reports position 0', async () => {
    const store = open({ path: ':memory:' });

    expect(await store.headPosition()).toBe(0);
    expect(await store.readAll()).toEqual([]);
    expect(await store.readAll({ direction: 'backwards' })).toEqual([]);
    expect(await store.appendToStream('deal-1', [], { expectedRevision: 'any' })).toEqual({ nextRevision: -1, position: 0 });
    const controller = new AbortController();
    const received: SubscriptionMessage[] = [];
    for await (const message of store.subscribeToAll({ signal: controller.signal })) {
      received.push(message);
      controller.abort();
    }
    expect(received).toEqual([{ type: 'caughtUp', position: 0 }]);
  });

  it('positions start at 1 and a subscription with no position replays from the start', async () => {
    const store = open();
    await store.appendToStream('deal-1', [event(), event()], { expectedRevision: 'no_stream' });
    const received: SubscriptionMessage[] = [];
    for await (const message of store.subscribeToAll()) {
      received.push(message);
      if (message.type === 'caughtUp') break;
    }

    expect(received.map((m) => (m.type === 'event' ? m.event.position : `caughtUp@${m.position}`))).toEqual([1, 2, 'caughtUp@2']);
  });

  it('eventTypes leaves other types out in SQL and reports progress past them with checkpoints', async () => {
    const store = open();
    await store.appendToStream('deal-1', [event('Wanted'), event('Other'), event('Wanted'), event('Other')], { expectedRevision: 'no_stream' });
    const received: string[] = [];
    for await (const message of store.subscribeToAll({ eventTypes: ['Wanted'] })) {
      received.push(message.type === 'event' ? `${message.event.type}@${message.event.position}` : `${message.type}@${message.position}`);
      if (message.type === 'caughtUp') await store.appendToStream('deal-1', [event('Other')], { expectedRevision: 3 });
      if (message.type === 'checkpoint') break;
    }

    expect(received).toEqual(['Wanted@1', 'Wanted@3', 'caughtUp@4', 'checkpoint@5']);
  });

  it('an empty append to an existing stream reports its last event', async () => {
    const store = open();
    const written = await store.appendToStream('deal-1', [event(), event()], { expectedRevision: 'no_stream' });
    await store.appendToStream('deal-2', [event()], { expectedRevision: 'no_stream' });

    expect(await store.appendToStream('deal-1', [], { expectedRevision: 1 })).toEqual(written);
  });

  it('a second store on the same file sees the first one’s events by polling', async () => {
    const writer = open();
    const reader = open({ pollIntervalMs: 10 });
    await writer.appendToStream('deal-1', [event('Before')], { expectedRevision: 'no_stream' });
    const subscription = reader.subscribeToAll()[Symbol.asyncIterator]();
    try {
      expect(await subscription.next()).toMatchObject({ value: { type: 'event', event: { type: 'Before' } } });
      expect(await subscription.next()).toMatchObject({ value: { type: 'caughtUp', position: 1 } });

      const waiting = subscription.next();
      await writer.appendToStream('deal-1', [event('After')], { expectedRevision: 0 });
      expect(await waiting).toMatchObject({ value: { type: 'event', event: { type: 'After', revision: 1 } } });
      expect(reader.stats().committedBatches).toBe(0);

      // Both check expectations against the shared file, not their own view.
      await expect(reader.appendToStream('deal-1', [event()], { expectedRevision: 0 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
      await expect(reader.appendToStream('deal-1', [event()], { expectedRevision: 1 })).resolves.toMatchObject({ nextRevision: 2 });
      expect((await writer.readStream('deal-1')).map((e) => e.revision)).toEqual([0, 1, 2]);
    } finally {
      await subscription.return?.();
    }
  });

  it('says it is the sole writer only while its commits find the log where its previous commit left it', async () => {
    const first = open();
    const second = open();
    // Before any commit it cannot know; its first commit has no previous one to compare with.
    expect(first.isSoleWriter()).toBe(false);
    await first.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });
    expect(first.isSoleWriter()).toBe(false);
    await first.appendToStream('deal-1', [event()], { expectedRevision: 0 });
    expect(first.isSoleWriter()).toBe(true);
    // A refused append commits nothing of its own, and still finds the head where it was.
    await expect(first.appendToStream('deal-1', [event()], { expectedRevision: 0 })).rejects.toBeInstanceOf(WrongExpectedRevisionError);
    expect(first.isSoleWriter()).toBe(true);

    // Another connection writes: the first store learns it at its next commit, and not before.
    await second.appendToStream('deal-2', [event()], { expectedRevision: 'no_stream' });
    expect(first.isSoleWriter()).toBe(true);
    await first.appendToStream('deal-3', [event()], { expectedRevision: 'no_stream' });
    expect(first.isSoleWriter()).toBe(false);
    await first.appendToStream('deal-3', [event()], { expectedRevision: 0 });
    expect(first.isSoleWriter()).toBe(true);
  });

  it('leaves no subscription behind after break, abort, return or close', async () => {
    const store = open();
    await store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });

    for await (const message of store.subscribeToAll()) if (message.type === 'caughtUp') break;
    expect(store.stats().activeSubscriptions).toBe(0);

    const controller = new AbortController();
    const aborted = store.subscribeToAll({ signal: controller.signal })[Symbol.asyncIterator]();
    await aborted.next();
    expect(store.stats().activeSubscriptions).toBe(1);
    controller.abort();
    expect(store.stats().activeSubscriptions).toBe(0);

    const returned = store.subscribeToAll()[Symbol.asyncIterator]();
    await returned.next();
    await returned.next();
    const waiting = returned.next();
    await returned.return?.();
    await expect(waiting).resolves.toMatchObject({ done: true });
    expect(store.stats().activeSubscriptions).toBe(0);

    const live = store.subscribeToAll()[Symbol.asyncIterator]();
    await live.next();
    expect(store.stats().activeSubscriptions).toBe(1);
    await store.close();
    expect(store.stats().activeSubscriptions).toBe(0);
    await expect(live.next()).resolves.toMatchObject({ done: true });
  });

  it('reports health, and refuses reads and subscriptions once closed', async () => {
    const path = join(dir, 'events.db');
    const store = open();

    expect(await store.health()).toEqual({ kind: 'sqlite', reachable: true, detail: path });
    await store.close();
    await store.close();
    expect(await store.health()).toEqual({ kind: 'sqlite', reachable: false, detail: path });
    await expect(store.readStream('deal-1')).rejects.toThrow(/closed/);
    await expect(store.headPosition()).rejects.toThrow(/closed/);
    expect(() => store.subscribeToAll()).toThrow(/closed/);
  });

  describe('live subscriptions fed from memory', () => {
    type Append = { readonly stream: string; readonly types: readonly string[]; readonly expected: 'current' | 'stale' | 'any' | 'no_stream'; readonly retryOf?: number };
    const appendArb: fc.Arbitrary<Append> = fc.record(
      {
        stream: fc.constantFrom('deal-1', 'deal-2', 'deal-3', 'other-1'),
        types: fc.array(fc.constantFrom('A', 'B'), { maxLength: 3 }),
        expected: fc.constantFrom('current', 'current', 'stale', 'any', 'no_stream'),
        retryOf: fc.nat(20),
      },
      { requiredKeys: ['stream', 'types', 'expected'] },
    );
    /** Batches of appends sent in one tick each, some by a second store on the same file (another process). */
    const historyArb = fc.array(fc.record({ appends: fc.array(appendArb, { minLength: 1, maxLength: 6 }), byOther: fc.boolean() }), { minLength: 1, maxLength: 6 });

    /** A subscription read as it goes, and a way to wait until it has looked at the log up to a position. */
    function follow(store: SQLiteEventStore, options: SubscribeToAllOptions) {
      const controller = new AbortController();
      const events: StoredEvent[] = [];
      let seen = -1;
      let waiter: { position: number; resolve: () => void } | undefined;
      const done = (async () => {
        for await (const message of store.subscribeToAll({ ...options, signal: controller.signal })) {
          if (message.type === 'event') events.push(message.event);
          seen = message.type === 'event' ? message.event.position : message.position;
          if (waiter && seen >= waiter.position) waiter.resolve();
        }
      })();
      return {
        events,
        reached: (position: number) => (seen >= position ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { position, resolve }))),
        stop: async () => {
          controller.abort();
          await done;
        },
      };
    }

    /** Sends each batch's appends in one tick, against the revisions read just before (some stale, some retries of earlier events). */
    async function send(stores: { own: SQLiteEventStore; other: SQLiteEventStore }, prefix: string, history: readonly { readonly appends: readonly Append[]; readonly byOther: boolean }[]) {
      const sent: NewEvent[][] = [];
      for (const batch of history) {
        const store = batch.byOther ? stores.other : stores.own;
        const revisions = new Map<string, number>();
        for (const { stream } of batch.appends) revisions.set(stream, (await store.readStream(prefix + stream, { direction: 'backwards', maxCount: 1 }))[0]?.revision ?? -1);
        await Promise.allSettled(
          batch.appends.map((append) => {
            const events = append.retryOf !== undefined && sent.length > 0 ? sent[append.retryOf % sent.length]! : append.types.map((type) => event(type, { at: sent.length }));
            sent.push(events);
            const current = revisions.get(append.stream)!;
            const expectedRevision = append.expected === 'current' ? current : append.expected === 'stale' ? current - 1 : append.expected;
            return store.appendToStream(prefix + append.stream, events, { expectedRevision });
          }),
        );
      }
    }

    it('deliver, on random batches, exactly what a read of the log gives, filtered or not; a second writer’s events come from SQLite', async () => {
      // One file, two stores on it (as two processes); each run writes streams of its own after the last run's.
      const own = open({ pollIntervalMs: 20 });
      const other = open({ pollIntervalMs: 20 });
      let run = 0;
      await assertProperty(
        fc.asyncProperty(historyArb, async (history) => {
          const prefix = `run-${(run += 1)}-`;
          const start = await own.headPosition();
          const fedBefore = own.stats().eventsFedFromMemory;
          const filters: readonly SubscribeToAllOptions[] = [{}, { eventTypes: ['A'] }, { streamPrefix: `${prefix}deal-` }, { streamPrefix: `${prefix}deal-`, eventTypes: ['B'] }];
          const readers = filters.map((options) => follow(own, { ...options, fromPosition: start }));
          try {
            await Promise.all(readers.map((reader) => reader.reached(start)));
            await send({ own, other }, prefix, history);
            const head = await own.headPosition();
            await Promise.all(readers.map((reader) => reader.reached(head)));

            const log = await own.readAll({ fromPosition: start + 1 });
            filters.forEach((options, index) => {
              const wanted = log.filter((e) => (!options.eventTypes || options.eventTypes.includes(e.type)) && (!options.streamPrefix || e.stream.startsWith(options.streamPrefix)));
              expect(readers[index]!.events).toEqual(wanted);
            });
            const delivered = readers.reduce((sum, reader) => sum + reader.events.length, 0);
            const fed = own.stats().eventsFedFromMemory - fedBefore;
            expect(fed).toBeLessThanOrEqual(delivered);
            // Only this store writing, every live event came from memory (the poll found nothing more).
            if (history.every((batch) => !batch.byOther)) expect(fed).toBe(delivered);
          } finally {
            await Promise.all(readers.map((reader) => reader.stop()));
          }
        }),
        { numRuns: 40 },
      );
    });

    it('a batch that fails as a whole feeds nothing, and the batches after it are fed as they come', async () => {
      const store = open({ pollIntervalMs: 3_600_000 });
      const reader = follow(store, {});
      await reader.reached(0);
      await store.appendToStream('deal-1', [event('Kept')], { expectedRevision: 'no_stream' });
      // A trigger that rolls the whole transaction back when a 'Doomed' event is inserted.
      const other = new Database(join(dir, 'events.db'));
      other.exec(`CREATE TRIGGER doom BEFORE INSERT ON events WHEN NEW.type = 'Doomed' BEGIN SELECT RAISE(ROLLBACK, 'doomed'); END`);
      other.close();

      const failed = await Promise.allSettled([
        store.appendToStream('deal-2', [event('Lost')], { expectedRevision: 'no_stream' }),
        store.appendToStream('deal-3', [event('Doomed')], { expectedRevision: 'no_stream' }),
      ]);
      expect(failed.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
      await store.appendToStream('deal-1', [event('After'), event('After')], { expectedRevision: 0 });
      const head = await store.headPosition();
      await reader.reached(head);
      await reader.stop();

      expect(reader.events).toEqual(await store.readAll());
      expect(reader.events.map((e) => e.type)).toEqual(['Kept', 'After', 'After']);
      expect(store.stats().eventsFedFromMemory).toBe(3);
    });

    it.each([
      ['after a commit of its own', true],
      ['before any commit of its own', false],
    ])('a poll that finds a batch committed before its reply reached a busy loop leaves it to the reply (%s)', async (_, committedBefore) => {
      const store = open({ pollIntervalMs: 1 });
      const reader = follow(store, {});
      await reader.reached(0);
      if (committedBefore) {
        await store.appendToStream('deal-1', [event('Earlier')], { expectedRevision: 'no_stream' });
        await reader.reached(await store.headPosition());
      }
      const fedBefore = store.stats().eventsFedFromMemory;
      const appended = store.appendToStream('deal-2', [event('Raced'), event('Raced')], { expectedRevision: 'no_stream' });
      await new Promise((resolve) => setImmediate(resolve)); // the batch is sent to the writer thread
      // The loop stays busy until the batch is readable in SQLite, so the writer's reply waits
      // while the 1 ms poll comes due: the next turn of the loop runs the poll's timer first.
      const look = new Database(join(dir, 'events.db'), { readonly: true });
      const count = look.prepare(`SELECT count(*) AS n FROM events WHERE type = 'Raced'`);
      const giveUp = Date.now() + 10_000;
      let committedWhileBusy = false;
      while (!committedWhileBusy && Date.now() < giveUp) committedWhileBusy = (count.get() as { n: number }).n === 2;
      look.close();
      expect(committedWhileBusy).toBe(true);
      await appended;
      await reader.reached(await store.headPosition());
      await reader.stop();

      expect(reader.events).toEqual(await store.readAll());
      // Both events of the raced batch came from memory, not from the poll's read of SQLite.
      expect(store.stats().eventsFedFromMemory - fedBefore).toBe(2);
    });
  });

  describe('writer thread', () => {
    /** Another connection holding the write lock: the store's commits wait for it (busy_timeout). */
    function holdWriteLock(): { release: () => void } {
      const other = new Database(join(dir, 'events.db'));
      other.exec('BEGIN IMMEDIATE');
      return {
        release: () => {
          other.exec('COMMIT');
          other.close();
        },
      };
    }

    const settledState = (promise: Promise<unknown>) => {
      const state = { settled: false };
      promise.then(
        () => (state.settled = true),
        () => (state.settled = true),
      );
      return state;
    };

    it('commits on a thread of its own: while a commit waits for the write lock, this thread keeps reading and its timers run', async () => {
      const store = open();
      await store.appendToStream('deal-1', [event('Before')], { expectedRevision: 'no_stream' });
      expect(sqliteWriterThreadOf(store)).toBeDefined();
      const lock = holdWriteLock();
      const waiting = store.appendToStream('deal-1', [event('After')], { expectedRevision: 0 });
      const state = settledState(waiting);

      // Committed on this thread, the append would block it in SQLite's busy wait until the
      // lock came free or the 5 s busy timeout ran out; here the timer fires first.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(state.settled).toBe(false);
      expect((await store.readStream('deal-1')).map((e) => e.type)).toEqual(['Before']);

      lock.release();
      await expect(waiting).resolves.toMatchObject({ nextRevision: 1 });
      // Read-your-writes: once the append resolved, this thread's connection sees it.
      expect((await store.readStream('deal-1')).map((e) => e.type)).toEqual(['Before', 'After']);
    });

    // Another program holding the write lock past the busy timeout (a sqlite3 shell with a
    // transaction open, a tool writing the file) leaves the store unwritable for a while: that is
    // the store being unavailable (503 with Retry-After; the CLI's import stops with exit 3,
    // rejecting nothing), not a bug reported as SQLite's bare "database is locked" (a 500).
    it('an append that waits out the busy timeout behind another process is refused as the store unavailable, naming the file; the next one is written', async () => {
      const store = open();
      await store.appendToStream('deal-1', [event('Before')], { expectedRevision: 'no_stream' });
      const lock = holdWriteLock();
      let refused: unknown;
      try {
        await store.appendToStream('deal-1', [event('Locked out')], { expectedRevision: 0 });
      } catch (error) {
        refused = error;
      } finally {
        lock.release();
      }
      expect(refused).toBeInstanceOf(EventStoreUnavailableError);
      expect((refused as Error).message).toContain(join(dir, 'events.db'));
      expect((refused as Error).message).toMatch(/locked by another/);
      await expect(store.appendToStream('deal-1', [event('After')], { expectedRevision: 0 })).resolves.toMatchObject({ nextRevision: 1 });
      expect((await store.readStream('deal-1')).map((e) => e.type)).toEqual(['Before', 'After']);
    }, 30_000);

    // Reads go on while another process holds the write lock (WAL), so a ping alone answered
    // healthy while every append was refused 503: /health must say the store cannot write, as it
    // does for a full disk, and stop saying it once the lock is free (without an append first: a
    // load balancer that trusts /health sends none meanwhile).
    it('health says the store cannot write while another process holds its write lock past the busy timeout, and no longer once it lets go', async () => {
      const store = open();
      await store.appendToStream('deal-1', [event('Before')], { expectedRevision: 'no_stream' });
      expect(await store.health()).not.toHaveProperty('cannotWrite');
      const lock = holdWriteLock();
      try {
        await expect(store.appendToStream('deal-1', [event('Locked out')], { expectedRevision: 0 })).rejects.toBeInstanceOf(EventStoreUnavailableError);
        const health = await store.health();
        expect(health).toMatchObject({ kind: 'sqlite', reachable: true, cannotWrite: expect.stringMatching(/locked by another process/) });
        expect(health.cannotWrite).toContain(join(dir, 'events.db'));
        // Still held: asked again, health still says so.
        expect(await store.health()).toHaveProperty('cannotWrite');
      } finally {
        lock.release();
      }
      expect(await store.health()).not.toHaveProperty('cannotWrite');
      await expect(store.appendToStream('deal-1', [event('After')], { expectedRevision: 0 })).resolves.toMatchObject({ nextRevision: 1 });
      expect(await store.health()).not.toHaveProperty('cannotWrite');
    }, 30_000);

    it('appends that arrive while a commit is in flight share the next transaction, each checked against the one before', async () => {
      const store = open();
      const lock = holdWriteLock();
      const first = store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });
      await new Promise((resolve) => setTimeout(resolve, 20)); // the first batch is now in flight
      const later = [
        store.appendToStream('deal-1', [event()], { expectedRevision: 0 }),
        store.appendToStream('deal-1', [event()], { expectedRevision: 0 }),
        store.appendToStream('deal-2', [event()], { expectedRevision: 'no_stream' }),
      ];
      lock.release();
      const settled = await Promise.allSettled([first, ...later]);

      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
      expect(store.stats()).toMatchObject({ committedBatches: 2, committedAppends: 3 });
    });

    it('wakes live subscriptions on its commits, not on the poll', async () => {
      const store = open({ pollIntervalMs: 3_600_000 });
      const subscription = store.subscribeToAll()[Symbol.asyncIterator]();
      try {
        expect(await subscription.next()).toMatchObject({ value: { type: 'caughtUp', position: 0 } });
        const waiting = subscription.next();
        await store.appendToStream('deal-1', [event('Live')], { expectedRevision: 'no_stream' });
        expect(await waiting).toMatchObject({ value: { type: 'event', event: { type: 'Live', position: 1 } } });
      } finally {
        await subscription.return?.();
      }
    });

    it('close() writes every accepted append, also those queued behind a commit in flight', async () => {
      const store = open();
      const lock = holdWriteLock();
      const first = store.appendToStream('deal-0', [event()], { expectedRevision: 'no_stream' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const queued = Array.from({ length: 20 }, (_, i) => store.appendToStream(`deal-${i + 1}`, [event()], { expectedRevision: 'no_stream' }));
      const closing = store.close();
      await expect(store.appendToStream('deal-late', [event()], { expectedRevision: 'no_stream' })).rejects.toThrow(/closed/);
      lock.release();
      await closing;

      await expect(Promise.all([first, ...queued])).resolves.toHaveLength(21);
      const reopened = open();
      expect(new Set((await reopened.readAll()).map((e) => e.stream)).size).toBe(21);
    });

    it('starts its thread from compiled JavaScript too, as the build (dist/) runs it', () => {
      // The sources compiled file by file as tsc does, into a folder with no TypeScript in it,
      // then used by a plain node process (no swc): the thread must load the .js worker file.
      const source = join(__dirname, '..');
      const compiled = join(dir, 'compiled');
      const files = ['event-store.errors.ts', 'event-store.port.ts', 'worker-thread.ts', 'json-depth.ts', 'path-problem.ts', ...readdirSync(join(source, 'sqlite')).filter((f) => !f.includes('spec')).map((f) => join('sqlite', f))];
      for (const file of files) {
        const { outputText } = ts.transpileModule(readFileSync(join(source, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
          fileName: file,
        });
        mkdirSync(dirname(join(compiled, file)), { recursive: true });
        writeFileSync(join(compiled, file.replace(/\.ts$/, '.js')), outputText);
      }
      const script = `
        const { getSQLiteEventStore, sqliteWriterThreadOf } = require(${JSON.stringify(join(compiled, 'sqlite', 'sqlite-event-store.js'))});
        (async () => {
          const store = getSQLiteEventStore({ path: ${JSON.stringify(join(dir, 'compiled.db'))} });
          const appended = await store.appendToStream('deal-1', [{ id: 'e-1', type: 'Opened', data: {}, metadata: {} }], { expectedRevision: 'no_stream' });
          const threaded = sqliteWriterThreadOf(store) !== undefined;
          const types = (await store.readStream('deal-1')).map((e) => e.type);
          await store.close();
          console.log(JSON.stringify({ appended, threaded, types, typescript: Boolean(require.extensions['.ts']) }));
        })().catch((error) => { console.error(error); process.exit(1); });`;
      const child = spawnSync(process.execPath, ['-e', script], {
        env: { ...process.env, NODE_PATH: join(__dirname, '..', '..', '..', '..', 'node_modules'), NODE_OPTIONS: '' },
        encoding: 'utf8',
      });

      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      expect(JSON.parse(child.stdout)).toEqual({ appended: { nextRevision: 0, position: 1 }, threaded: true, types: ['Opened'], typescript: false });
      expect(readdirSync(join(compiled, 'sqlite')).some((f) => f.endsWith('.ts'))).toBe(false);
    });

    it('a writer thread that dies makes every later append fail as unavailable, says so once, and close() still returns', async () => {
      const failures: Error[] = [];
      const store = open({ onWriterFailure: (error) => failures.push(error) });
      await store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });
      // Terminated while idle: terminating a thread inside a better-sqlite3 call aborts the whole
      // process (WiseLibs/better-sqlite3#842), which is why close() asks the thread to stop instead.
      await sqliteWriterThreadOf(store)!.terminate();

      await expect(store.appendToStream('deal-2', [event()], { expectedRevision: 'no_stream' })).rejects.toThrow(
        expect.objectContaining({ code: 'EVENT_STORE.UNAVAILABLE', message: expect.stringMatching(/writer thread stopped/) }),
      );
      expect(failures).toHaveLength(1);
      expect(await store.health()).toMatchObject({ kind: 'sqlite', reachable: false, detail: expect.stringMatching(/writer thread stopped/) });
      // Reads still answer from this thread's connection.
      expect(await store.readStream('deal-1')).toHaveLength(1);
      await store.close();
      expect(failures).toHaveLength(1);
    });

    it('an append already sent to a writer thread that then fails is rejected as unavailable, not left hanging', async () => {
      const path = join(dir, 'events.db');
      const failures: Error[] = [];
      const store = open({ onWriterFailure: (error) => failures.push(error) });
      // The thread opens its own connection as it starts; make that fail: the file is now a directory.
      rmSync(path);
      mkdirSync(path);
      const sent = store.appendToStream('deal-1', [event()], { expectedRevision: 'no_stream' });

      await expect(sent).rejects.toBeInstanceOf(EventStoreUnavailableError);
      expect(failures).toHaveLength(1);
      await store.close();
    });
  });
});
