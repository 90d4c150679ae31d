import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventStoreContract } from '../event-store.contract';
import { WrongExpectedRevisionError } from '../event-store.errors';
import type { NewEvent, SubscriptionMessage } from '../event-store.port';
import { getSQLiteEventStore, SQLITE_EVENT_STORE_SCHEMA_VERSION, type SQLiteEventStore, type SQLiteEventStoreOptions } from './sqlite-event-store';

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
});
