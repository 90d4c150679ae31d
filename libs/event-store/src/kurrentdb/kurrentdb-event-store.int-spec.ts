import { randomUUID } from 'node:crypto';
import { binaryEvent, jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client';
import { DOUBLE_MODES, modeFromEnvironment } from '../../../../test/kurrentdb-double/double-modes';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { TcpProxy } from '../../../../test/support/tcp-proxy';
import { eventStoreContract, type EventStoreCapabilities, type EventStoreContractSubject, type EventStoreFaults } from '../event-store.contract';
import { EventStoreOutcomeUnknownError, EventStoreUnavailableError, PositionNotInLogError, UnreadableEventError } from '../event-store.errors';
import { anchorOf, filteredReadingLost, logStillHolds, NO_ANCHOR } from '../log-anchor';
import type { EventStore, NewEvent, SubscriptionMessage } from '../event-store.port';
import { normaliseKurrentDBConnectionString } from './kurrentdb-connection-string';
import { getKurrentDBEventStore, KURRENTDB_MAX_EVENT_BYTES } from './kurrentdb-event-store';

// `npm test` runs this file once per server version the double plays (jest projects
// "kurrentdb-22.10" … "kurrentdb-25.1", KURRENTDB_DOUBLE_MODE): the contract, and the faults a real
// server has, per version.
const MODE = modeFromEnvironment();

// KurrentDB keeps no index of event ids: an id is only known within its stream. Appends up to 25.0
// take 1 MiB (25.1: 256 MiB, not worth a test); no version takes an event larger than a log record.
function capabilities(maxAppendSize: number | undefined, faults: readonly (keyof EventStoreFaults)[]): EventStoreCapabilities {
  return { eventIdsUniqueAcrossStreams: false, maxAppendBytes: maxAppendSize !== undefined && maxAppendSize <= 1024 * 1024 ? maxAppendSize : undefined, maxEventBytes: KURRENTDB_MAX_EVENT_BYTES, faults };
}

const DOUBLE_FAULTS: readonly (keyof EventStoreFaults)[] = ['staleReplica', 'slowIndexing', 'breakAfterNextWrite', 'refuseAppends', 'notLeader', 'denyAccess', 'deleteStream', 'truncateStream', 'dropSubscriptions'];

/**
 * The adapter on a double, connected as a cluster client preferring followers would be, so that
 * reads not asking for the leader really go to the (possibly lagging) follower.
 */
function onDouble(double: KurrentDbDouble): EventStoreContractSubject {
  return {
    store: getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower`, reconnectDelayMs: 10 }),
    faults: {
      staleReplica: () => double.faults.freezeFollower(),
      slowIndexing: (indexMs, timeoutMs) => double.faults.slowIndexing(indexMs, timeoutMs),
      breakAfterNextWrite: () => double.faults.breakAfterNextWrite(),
      refuseAppends: (reason, count) => double.faults.refuseAppends(reason, count),
      notLeader: (count) => double.faults.notLeader(count),
      denyAccess: (prefix) => double.faults.denyAccess(prefix),
      deleteStream: async (stream) => double.faults.deleteStream(stream),
      truncateStream: async (stream, revision) => double.faults.truncateBefore(stream, revision),
      dropSubscriptions: () => double.faults.dropSubscriptions(),
    },
  };
}

// `npm run test:kurrentdb` with KURRENTDB_TEST_URL set runs the same contract against a real
// server (see README, "Running on KurrentDB"). The suite uses unique stream names and only
// compares positions, so the server may hold other data. Deleting and truncating streams are the
// faults a real server can be asked for.
const REAL_SERVER = process.env.KURRENTDB_TEST_URL;
if (REAL_SERVER) {
  describe('KurrentDB event store on a real server (KURRENTDB_TEST_URL)', () => {
    let admin: KurrentDBClient;
    beforeAll(() => {
      admin = KurrentDBClient.connectionString(normaliseKurrentDBConnectionString(REAL_SERVER));
    });
    afterAll(async () => {
      await admin?.dispose();
    });
    eventStoreContract(
      'KurrentDB adapter on a real server',
      async () => ({
        store: getKurrentDBEventStore({ connectionString: REAL_SERVER }),
        faults: {
          deleteStream: async (stream) => void (await admin.tombstoneStream(stream)),
          truncateStream: async (stream, revision) => void (await admin.setStreamMetadata(stream, { truncateBefore: revision })),
        },
      }),
      capabilities(undefined, ['deleteStream', 'truncateStream']),
    );
  });
}

const event = (type = 'Happened', metadata: Record<string, unknown> = {}): NewEvent => ({ id: randomUUID(), type, data: { at: type }, metadata });

// Servers before 21.10 (and clients with per-call credentials) append through Streams.Append,
// which reports a conflict in its response message and other failures as bare statuses: the
// adapter must not care.
describe(`KurrentDB event store on a test double playing ${MODE}, without batch append`, () => {
  let double: KurrentDbDouble;
  beforeAll(async () => {
    double = await startKurrentDbDouble({ mode: MODE, advertiseBatchAppend: false });
  });
  afterAll(async () => {
    expect(double.calls['Streams.BatchAppend']).toBeUndefined();
    expect(double.calls['Streams.Append']).toBeGreaterThan(0);
    await double?.stop();
  });

  eventStoreContract(`KurrentDB ${MODE} adapter appending through Streams.Append`, async () => onDouble(double), capabilities(MODE === '25.1' ? undefined : 1024 * 1024, DOUBLE_FAULTS));
});

describe(`KurrentDB event store on a test double playing ${MODE}`, () => {
  let double: KurrentDbDouble;
  beforeAll(async () => {
    double = await startKurrentDbDouble({ mode: MODE });
  });
  afterAll(async () => {
    await double?.stop();
  });

  eventStoreContract(`KurrentDB ${MODE} adapter`, async () => onDouble(double), capabilities(MODE === '25.1' ? undefined : 1024 * 1024, DOUBLE_FAULTS));

  describe('adapter', () => {
    let store: EventStore;
    beforeAll(() => {
      store = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 10 });
    });
    afterAll(async () => {
      await store?.close();
    });

    // What the contract cannot ask of every store: $maxCount, $maxAge and a soft delete, set
    // through the client as an operator would. $all still shows the events; verify --all reports them.
    it('reports what hides a stream from readers: $maxCount, $maxAge (by the server’s clock), a soft delete; nothing for a stream without metadata', async () => {
      let now = Date.parse('2026-03-01T12:00:00Z');
      const aging = await startKurrentDbDouble({ mode: MODE, clock: () => now });
      const admin = KurrentDBClient.connectionString(aging.url);
      const aged = getKurrentDBEventStore({ connectionString: aging.url });
      try {
        const [counted, old, deleted, plain] = ['counted', 'old', 'deleted', 'plain'].map((label) => `hiding-${label}-${randomUUID()}`);
        for (const stream of [counted, old, deleted, plain]) await aged.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
        now += 60_000;
        await aged.appendToStream(old, [event()], { expectedRevision: 1 });
        await admin.setStreamMetadata(counted, { maxCount: 1 });
        await admin.setStreamMetadata(old, { maxAge: 30 });
        await admin.deleteStream(deleted);

        expect(await aged.streamHiding!(counted)).toEqual({ stream: counted, maxCount: 1, softDeleted: false, tombstoned: false, firstReadableRevision: 1 });
        expect(await aged.streamHiding!(old)).toEqual({ stream: old, maxAgeSeconds: 30, softDeleted: false, tombstoned: false, firstReadableRevision: 2 });
        expect(await aged.streamHiding!(deleted)).toEqual({ stream: deleted, softDeleted: true, tombstoned: false });
        expect(await aged.streamHiding!(plain)).toBeUndefined();
        expect((await aged.streamsHidingEvents!()).map((hiding) => hiding.stream).sort()).toEqual([counted, old, deleted].sort());
      } finally {
        await aged.close();
        await admin.dispose();
        await aging.stop();
      }
    });

    // A server restored from an older backup (or started again empty) and written on since: a
    // reader's anchor or checkpoint may now fall inside a record, a position the server refuses to
    // read or subscribe from. That is the answer to "does the log still hold my last event?" (no),
    // never an error that keeps the relay, the PostgreSQL projector or the read models retrying
    // the same check for ever.
    it('a position no record starts at (another log): reads and subscriptions say so with a typed error, and an anchor there does not hold', async () => {
      const stream = `anchor-${randomUUID()}`;
      await store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
      const [stored] = await store.readStream(stream);
      const inside = stored!.position + 1; // within that event's record

      await expect(store.readAll({ fromPosition: inside, maxCount: 1 })).rejects.toBeInstanceOf(PositionNotInLogError);
      await expect(logStillHolds(store, { position: inside, eventId: stored!.id })).resolves.toBe(false);
      await expect(logStillHolds(store, { position: stored!.position, eventId: stored!.id })).resolves.toBe(true);
      const subscribing = (async () => {
        for await (const message of store.subscribeToAll({ fromPosition: inside })) if (message.type === 'caughtUp') return message;
      })();
      await expect(subscribing).rejects.toBeInstanceOf(PositionNotInLogError);
    });

    // The same, for a checkpoint past the reader's anchor: a reader's checkpoint may stand after the
    // last event it took in (it passed events of other types, or the server's records), and its
    // anchor may still hold on a log that was restored and written on since, while the checkpoint
    // now falls inside a record. Following from it is refused every time: the reader must hear that
    // its reading is lost (and start over), not try the same subscription again for ever.
    it('a checkpoint no record starts at, its anchor still in place: the reading is lost, whatever the reader passes by', async () => {
      const stream = `checkpoint-${randomUUID()}`;
      await store.appendToStream(stream, [event('Taken')], { expectedRevision: 'no_stream' });
      double.appendSystemEvent(); // a record no read of ours shows, right before the next event
      await store.appendToStream(stream, [event('PassedBy')], { expectedRevision: 0 });
      await store.appendToStream(stream, [event('Taken')], { expectedRevision: 1 }); // the log goes on past both
      const [taken, passedBy] = await store.readStream(stream);
      const insideSystemRecord = passedBy!.position - 1;
      const insidePassedBy = passedBy!.position + 1;
      const readings = [
        { anchor: anchorOf(taken!), checkpoint: insideSystemRecord }, // a reader of every type (the relay)
        { anchor: anchorOf(taken!), checkpoint: insideSystemRecord, eventTypes: ['Taken'] },
        { anchor: anchorOf(taken!), checkpoint: insidePassedBy, eventTypes: ['Taken'] },
        { anchor: NO_ANCHOR, checkpoint: insideSystemRecord }, // a checkpoint kept without an anchor (a relay's first start at the head)
      ];
      for (const { anchor, ...reading } of readings) {
        await expect(filteredReadingLost(store, anchor, reading)).resolves.toMatch(new RegExp(`checkpoint \\(position ${reading.checkpoint}\\).*no event of this log starts there`));
      }
      // Where records start, the same readings still hold.
      for (const checkpoint of [passedBy!.position, taken!.position]) {
        await expect(filteredReadingLost(store, anchorOf(taken!), { checkpoint, eventTypes: ['Taken'] })).resolves.toBeUndefined();
      }
    });

    // A reader's anchor and checkpoint came from its subscription, which a node further on than the
    // one serving its reads may have fed (nodePreference=follower or random: another node after a
    // restart). A follower that has not replicated them yet is no restored backup: asked there, the
    // relay published the whole log again and the projectors folded it again from the start.
    it('while a follower lags, a reader checks its anchor and checkpoint against the leader: what it took in still holds', async () => {
      const follower = getKurrentDBEventStore({ connectionString: `${double.url}&nodePreference=follower`, reconnectDelayMs: 10 });
      const thaw = double.faults.freezeFollower();
      try {
        const stream = `anchor-${randomUUID()}`;
        await store.appendToStream(stream, [event('Taken'), event('PassedBy'), event('Taken')], { expectedRevision: 'no_stream' });
        const [first, passedBy, last] = await store.readStream(stream);
        await expect(logStillHolds(follower, anchorOf(last!))).resolves.toBe(true);
        await expect(filteredReadingLost(follower, anchorOf(last!), { checkpoint: last!.position })).resolves.toBeUndefined();
        await expect(filteredReadingLost(follower, anchorOf(first!), { checkpoint: passedBy!.position, eventTypes: ['Taken'] })).resolves.toBeUndefined();
        // And what a lagging follower cannot show is still found on the leader: another event there.
        await expect(filteredReadingLost(follower, anchorOf(first!), { checkpoint: last!.position, eventTypes: ['Taken'] })).resolves.toMatch(/an event it takes in \(Taken/);
      } finally {
        thaw();
        await follower.close();
      }
    });

    // After an election the node the client is connected to is a follower: every read asking for
    // the leader (all of them, with the default node preference) is answered NotLeader, nothing
    // read. Appends are sent again to the leader named; reads must be too, not fail a command's
    // load, /health or a conflict's check with 503 once per election.
    it('a read that reaches a node no longer the leader is read again from the leader it names', async () => {
      const stream = `opportunity-${randomUUID()}`;
      const written = await store.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
      const fresh = getKurrentDBEventStore({ connectionString: double.url, reconnectDelayMs: 10 });
      try {
        double.faults.notLeaderReads(1);
        expect((await fresh.readStream(stream)).map((stored) => stored.revision)).toEqual([0, 1]);
        double.faults.notLeaderReads(1);
        expect(await fresh.headPosition()).toBeGreaterThanOrEqual(written.position);
        double.faults.notLeaderReads(1);
        expect((await fresh.readAll({ fromPosition: written.position, maxCount: 1 }))[0]?.position).toBe(written.position);
        double.faults.notLeaderReads(1);
        await expect(fresh.appendToStream(stream, [event()], { expectedRevision: 0 })).rejects.toMatchObject({ code: 'EVENT_STORE.WRONG_EXPECTED_REVISION' });
        double.faults.notLeaderReads(1);
        await expect(fresh.appendToStream(`opportunity-${randomUUID()}`, [event()], { expectedRevision: 'no_stream' })).resolves.toMatchObject({ nextRevision: 0 });
      } finally {
        await fresh.close();
      }
    });

    it('checks stored ids without reading again what it has read or written: a command path costs one read and one append', async () => {
      const stream = `opportunity-${randomUUID()}`;
      const reads = () => double.calls['Streams.Read (stream)'] ?? 0;
      const first = await store.appendToStream(stream, [event(), event()], { expectedRevision: 'no_stream' });
      const before = reads();
      await store.appendToStream(stream, [event()], { expectedRevision: first.nextRevision });
      expect(reads()).toBe(before); // its own write told it the ids up to revision 1

      const other = getKurrentDBEventStore({ connectionString: double.url });
      try {
        const loaded = await other.readStream(stream);
        const afterLoad = reads();
        await other.appendToStream(stream, [event()], { expectedRevision: loaded[loaded.length - 1].revision });
        expect(reads()).toBe(afterLoad);
        await other.appendToStream(stream, [event()], { expectedRevision: 'any' }); // 'any' must see all of the stream: one read of what is new
        expect(reads()).toBe(afterLoad + 1);
      } finally {
        await other.close();
      }
    });

    it('stores JSON with our metadata plus $correlationId/$causationId for the server, and reads our metadata back unchanged', async () => {
      const stream = `opportunity-${randomUUID()}`;
      const metadata = { commandId: 'c-1', correlationId: 'corr-1', causationId: 'c-1', actor: 'user-1' };
      await store.appendToStream(stream, [event('OpportunityOpened', metadata)], { expectedRevision: 'no_stream' });
      const [onServer] = double.log.stream(stream)!;

      expect(onServer.type).toBe('OpportunityOpened');
      expect(onServer.contentType).toBe('application/json');
      expect(JSON.parse(Buffer.from(onServer.customMetadata).toString())).toEqual({ ...metadata, $correlationId: 'corr-1', $causationId: 'c-1' });
      expect((await store.readStream(stream))[0].metadata).toEqual(metadata);
    });

    it('never shows system events: not in reads, not in subscriptions, not as the head', async () => {
      const stream = `opportunity-${randomUUID()}`;
      const written = await store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
      double.appendSystemEvent();

      expect(await store.headPosition()).toBe(written.position);
      expect((await store.readAll()).some((e) => e.stream.startsWith('$') || e.type.startsWith('$'))).toBe(false);
      const received: SubscriptionMessage[] = [];
      for await (const message of store.subscribeToAll()) {
        received.push(message);
        if (message.type === 'caughtUp') break;
      }
      expect(received.some((m) => m.type === 'event' && m.event.stream.startsWith('$'))).toBe(false);
      expect(received[received.length - 1]).toEqual({ type: 'caughtUp', position: written.position });
    });

    it('refuses, in a stream read and a filtered subscription, an event another tool wrote whose data is not a JSON object, naming where; $all keeps other applications\' events', async () => {
      const client = KurrentDBClient.connectionString(double.url);
      try {
        for (const [kind, foreign] of [
          ['binary data', binaryEvent({ type: 'OpportunityDetailsChanged', data: Buffer.from('garbage') })],
          ['an array', jsonEvent({ type: 'OpportunityDetailsChanged', data: [1, 2] as never })],
        ] as const) {
          const stream = `opportunity-${randomUUID()}`;
          const written = await store.appendToStream(stream, [event('OpportunityOpened')], { expectedRevision: 'no_stream' });
          await client.appendToStream(stream, foreign);
          const refused = store.readStream(stream);
          await expect(refused).rejects.toBeInstanceOf(UnreadableEventError);
          await expect(refused).rejects.toMatchObject({ stream, revision: 1, reason: `its data is not a JSON object (${kind})` });
          // The first event alone still reads; $all (other applications' events among ours) reads past it.
          expect(await store.readStream(stream, { maxCount: 1 })).toHaveLength(1);
          expect((await store.readAll({ fromPosition: written.position })).map((e) => [e.stream, e.revision])).toContainEqual([stream, 1]);
          // A subscription filtered to our types (a read model's, the relay's) refuses it too, rather than count {}.
          const follow = async () => {
            for await (const message of store.subscribeToAll({ fromPosition: written.position, eventTypes: ['OpportunityDetailsChanged'] })) if (message.type === 'caughtUp') break;
          };
          await expect(follow()).rejects.toMatchObject({ name: 'UnreadableEventError', stream, revision: 1 });
        }
      } finally {
        await client.dispose();
      }
    });

    it('a subscription filtered to our types reads past another application\'s binary event in a stream of its own', async () => {
      const client = KurrentDBClient.connectionString(double.url);
      try {
        const ours = `opportunity-${randomUUID()}`;
        const written = await store.appendToStream(ours, [event('OpportunityOpened')], { expectedRevision: 'no_stream' });
        await client.appendToStream(`billing-${randomUUID()}`, binaryEvent({ type: 'InvoiceIssued', data: Buffer.from([8, 1, 18, 3]) }));
        const after = await store.appendToStream(ours, [event('OpportunityDetailsChanged')], { expectedRevision: 0 });
        const seen: string[] = [];
        for await (const message of store.subscribeToAll({ fromPosition: written.position, eventTypes: ['OpportunityOpened', 'OpportunityDetailsChanged'] })) {
          if (message.type === 'event') seen.push(message.event.type);
          if (message.type === 'caughtUp' || (message.type === 'event' && message.event.position === after.position)) break;
        }
        expect(seen).toContain('OpportunityDetailsChanged');
      } finally {
        await client.dispose();
      }
    });

    it('answers overlapping next() calls in order, each with its own message', async () => {
      const prefix = `overlap-${randomUUID()}-`;
      const start = await store.headPosition();
      await store.appendToStream(`${prefix}a`, [event('O0'), event('O1')], { expectedRevision: 'no_stream' });
      const iterator = store.subscribeToAll({ fromPosition: start, streamPrefix: prefix })[Symbol.asyncIterator]();
      try {
        const results = await Promise.all([iterator.next(), iterator.next(), iterator.next()]);
        expect(results.map((r) => (r.value.type === 'event' ? r.value.event.type : r.value.type))).toEqual(['O0', 'O1', 'caughtUp']);
      } finally {
        await iterator.return?.();
      }
    });

    it('holds a bounded number of messages for a consumer slower than the server: the server is made to wait, not the whole log read into memory', async () => {
      const server = await startKurrentDbDouble({ mode: MODE });
      const slow = getKurrentDBEventStore({ connectionString: server.url });
      try {
        const stream = `opportunity-${randomUUID()}`;
        const total = 4000;
        let revision: number | 'no_stream' = 'no_stream';
        for (let i = 0; i < total / 500; i++) {
          const batch = Array.from({ length: 500 }, () => event('Padded', { pad: 'x'.repeat(200) }));
          revision = (await slow.appendToStream(stream, batch, { expectedRevision: revision })).nextRevision;
        }
        const iterator = slow.subscribeToAll({ streamPrefix: stream })[Symbol.asyncIterator]();
        expect((await iterator.next()).value).toMatchObject({ type: 'event', event: { revision: 0 } });
        // The consumer now stops: wait until the server has sent all it will (no change for a while).
        let stable = 0;
        for (let last = -1; stable < 5; ) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          stable = server.subscriptionEventsSent === last ? stable + 1 : 0;
          last = server.subscriptionEventsSent;
        }
        expect(server.subscriptionEventsSent).toBeLessThan(total / 2);

        // Reading on, every event arrives once, in order.
        const revisions = [0];
        while (revisions.length < total) {
          const { value } = await iterator.next();
          if (value?.type === 'event') revisions.push(value.event.revision);
        }
        expect(revisions).toEqual(Array.from({ length: total }, (_, i) => i));
        await iterator.return?.();
      } finally {
        await slow.close();
        await server.stop();
      }
    });

    it('health names the kind and the connection, and says when the server cannot be reached', async () => {
      const gone = await startKurrentDbDouble();
      const unreachable = getKurrentDBEventStore({ connectionString: gone.url });
      await gone.stop();
      try {
        expect(await store.health()).toEqual({ kind: 'kurrentdb', reachable: true, detail: double.url });
        expect(await unreachable.health()).toMatchObject({ kind: 'kurrentdb', reachable: false });
      } finally {
        await unreachable.close();
      }
      // An unreachable server is one typed error, whatever path the client took.
      const down = getKurrentDBEventStore({ connectionString: gone.url });
      try {
        await expect(down.readStream('opportunity-x')).rejects.toBeInstanceOf(EventStoreUnavailableError);
        await expect(down.appendToStream('opportunity-x', [event()], { expectedRevision: 0 })).rejects.toBeInstanceOf(EventStoreUnavailableError);
        await expect(down.appendToStream('opportunity-x', [event()], { expectedRevision: 'any' })).rejects.toMatchObject({ code: 'EVENT_STORE.UNAVAILABLE' });
      } finally {
        await down.close();
      }
      const closed = getKurrentDBEventStore({ connectionString: double.url });
      await closed.close();
      expect(await closed.health()).toMatchObject({ reachable: false });
      await expect(closed.appendToStream('x', [event()], { expectedRevision: 'any' })).rejects.toThrow(/closed/);
      expect(() => closed.subscribeToAll()).toThrow(/closed/);
    });
  });

  describe('a server that goes away and comes back', () => {
    it('an append the client could not send is EVENT_STORE.UNAVAILABLE, not OUTCOME_UNKNOWN; once the server is back the same store carries on', async () => {
      // Restarted on the same port, which must stay free meanwhile: one fixed port per mode (the
      // four modes run side by side), in the range this suite may use.
      const port = 4420 + DOUBLE_MODES.indexOf(MODE);
      let server = await startKurrentDbDouble({ mode: MODE, port });
      const store = getKurrentDBEventStore({ connectionString: server.url, reconnectDelayMs: 10 });
      try {
        const stream = `opportunity-${randomUUID()}`;
        const first = await store.appendToStream(stream, [event()], { expectedRevision: 'no_stream' });
        await server.stop();

        // The command path has just read (here: written) the stream, so no read precedes the append.
        const refused = await store.appendToStream(stream, [event()], { expectedRevision: first.nextRevision }).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(EventStoreUnavailableError);
        expect(refused).not.toBeInstanceOf(EventStoreOutcomeUnknownError);
        expect(refused).toMatchObject({ code: 'EVENT_STORE.UNAVAILABLE' });

        server = await startKurrentDbDouble({ mode: MODE, port });
        // The double keeps nothing across a restart: the stream is written again from the start.
        const again = [event(), event()];
        expect((await store.appendToStream(stream, again, { expectedRevision: 'no_stream' })).nextRevision).toBe(1);
        expect((await store.readStream(stream)).map((e) => e.id)).toEqual(again.map((e) => e.id));
      } finally {
        await store.close();
        await server.stop();
      }
    });

    it('a retry once the server is back with an older log (restored from a backup) is written there, not answered from what the lost log held', async () => {
      const servers = [await startKurrentDbDouble({ mode: MODE })];
      let proxy = await new TcpProxy('127.0.0.1', servers[0]!.port).start();
      const store = getKurrentDBEventStore({ connectionString: `kurrentdb://${proxy.url}?tls=false`, reconnectDelayMs: 10 });
      try {
        const stream = `opportunity-${randomUUID()}`;
        const [opened, moved, noted] = [event('Opened'), event('Moved'), event('Noted')];
        await store.appendToStream(stream, [opened], { expectedRevision: 'no_stream' });
        // The backup, taken once the stream was opened: a server holding only that.
        servers.push(await startKurrentDbDouble({ mode: MODE }));
        const backup = getKurrentDBEventStore({ connectionString: servers[1]!.url });
        await backup.appendToStream(stream, [opened], { expectedRevision: 'no_stream' });
        await backup.close();
        await store.appendToStream(stream, [moved], { expectedRevision: 0 });
        await store.appendToStream(stream, [noted], { expectedRevision: 'any' });

        // The server comes back restored from it, at the same address: the later writes are gone.
        await proxy.cut();
        const restored = new TcpProxy('127.0.0.1', servers[1]!.port);
        restored.port = proxy.port;
        await restored.restore();
        proxy = restored;

        // Their commands are retried, with the same ids and expectations, as a client retries a 503: the
        // first call after the cut may still find the channel down (EVENT_STORE.UNAVAILABLE, nothing sent).
        const asAClientRetries = async <T>(send: () => Promise<T>): Promise<T> => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await send();
            } catch (error) {
              if (!(error instanceof EventStoreUnavailableError) || attempt === 50) throw error;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          }
        };
        const retried = [
          await asAClientRetries(() => store.appendToStream(stream, [moved], { expectedRevision: 0 })),
          await asAClientRetries(() => store.appendToStream(stream, [noted], { expectedRevision: 'any' })),
        ];
        const held = await store.readStream(stream, { fromLeader: true });
        expect(held.map((e) => e.id)).toEqual([opened.id, moved.id, noted.id]);
        expect(retried).toEqual([
          { nextRevision: 1, position: held[1]!.position },
          { nextRevision: 2, position: held[2]!.position },
        ]);
      } finally {
        await store.close();
        await proxy.close();
        for (const server of servers) await server.stop();
      }
    });
  });

  describe('connection strings', () => {
    it('accepts kurrentdb:// and esdb:// (single node, cluster, discovery), and spells them kurrentdb', () => {
      expect(normaliseKurrentDBConnectionString('kurrentdb://localhost:2113?tls=false')).toBe('kurrentdb://localhost:2113?tls=false');
      expect(normaliseKurrentDBConnectionString('esdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true')).toBe('kurrentdb://admin:changeit@node1:2113,node2:2113,node3:2113?tls=true');
      expect(normaliseKurrentDBConnectionString('esdb+discover://cluster.example.com:2113')).toBe('kurrentdb+discover://cluster.example.com:2113');
    });

    it('refuses what is not one, without echoing credentials', () => {
      expect(() => normaliseKurrentDBConnectionString('postgres://localhost:5432')).toThrow(/must start with kurrentdb:\/\//);
      expect(() => normaliseKurrentDBConnectionString('kurrentdb://')).toThrow();
      expect(() => normaliseKurrentDBConnectionString('kurrentdb://user:secret@localhost:2113?tls=maybe')).toThrow(/connection string/);
      expect(() => normaliseKurrentDBConnectionString('kurrentdb://user:secret@localhost:2113?tls=maybe')).not.toThrow(/secret/);
    });
  });
});
