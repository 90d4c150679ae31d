// What the double plays of each server version and of the faults a real server or cluster has,
// pinned through the official client (and, where the client hides it, a raw gRPC call). Each
// expectation names the section of SERVER-BEHAVIOUR.md it comes from.
import { randomUUID } from 'node:crypto';
import {
  AccessDeniedError,
  DeadlineExceededError,
  FORWARDS,
  jsonEvent,
  KurrentDBClient,
  MaxAppendSizeExceededError,
  NotLeaderError,
  START,
  StreamDeletedError,
  streamNameFilter,
  UnavailableError,
  UnknownError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type Position,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { BatchAppendResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import { all, event } from './double-spec.helpers';
import { DOUBLE_MODES, modeFromEnvironment, type DoubleMode } from './double-modes';
import { startKurrentDbDouble, type KurrentDbDouble } from './kurrentdb-double';
import { codePb, emptyPb, grpc, sharedPb, streamsGrpc, streamsPb } from './protocol';

const rejection = (promise: Promise<unknown>) => promise.then((value) => ({ resolved: value }), (error: unknown) => error);

/** Messages a subscription hands over, as 'event:<type>', 'caughtUp', 'checkpoint:<commit>/<prepare>'. */
function record(subscription: AllStreamSubscription, seen: string[], caughtUps: unknown[] = []): void {
  subscription.on('caughtUp', (info: unknown) => {
    seen.push('caughtUp');
    caughtUps.push(info);
  });
  subscription.on('data', (resolved: AllStreamResolvedEvent) => seen.push(`event:${resolved.event!.type}`));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('KURRENTDB_DOUBLE_MODE', () => {
  it('names one of the four server versions; unset means the newest; anything else stops with a message', () => {
    expect(modeFromEnvironment(undefined)).toBe('25.1');
    expect(modeFromEnvironment('22.10')).toBe('22.10');
    expect(() => modeFromEnvironment('21.10')).toThrow(/KURRENTDB_DOUBLE_MODE must be one of 22.10, 23.10, 24.10, 25.1/);
  });
});

describe.each(DOUBLE_MODES)('KurrentDB test double playing %s', (mode: DoubleMode) => {
  let double: KurrentDbDouble;
  let client: KurrentDBClient;

  beforeAll(async () => {
    double = await startKurrentDbDouble({ mode });
    client = KurrentDBClient.connectionString(double.url);
  });

  afterAll(async () => {
    await client?.dispose();
    await double?.stop();
  });

  describe('appends (§1, §2, §4, §7)', () => {
    it('a retry answers with its last event position, or none once that event can no longer be read (§4)', async () => {
      const stream = `modes-${randomUUID()}`;
      const events = [event('A'), event('B')];
      const first = await client.appendToStream(stream, events, { streamState: 'no_stream' });
      const retry = await client.appendToStream(stream, events, { streamState: 'no_stream' });
      double.faults.truncateBefore(stream, 2);
      const afterTruncation = await client.appendToStream(stream, events, { streamState: 'no_stream' });

      expect(retry).toEqual({ success: true, nextExpectedRevision: 1n, position: first.position });
      expect(afterTruncation).toEqual({ success: true, nextExpectedRevision: 1n, position: undefined });
      expect(double.log.stream(stream)).toEqual([]);
    });

    it('an exact expectation equal to the stream revision writes ids already stored again (§2)', async () => {
      const stream = `modes-${randomUUID()}`;
      const [a, b] = [event('A'), event('B')];
      await client.appendToStream(stream, [a, b], { streamState: 'no_stream' });
      await client.appendToStream(stream, [a], { streamState: 1n });

      expect(double.log.stream(stream)!.map((r) => r.id)).toEqual([a.id, b.id, a.id]);
    });

    it("with 'any', known ids in any order are a retry; a new first id writes them all again (§2)", async () => {
      const stream = `modes-${randomUUID()}`;
      const [a, b, c] = [event('A'), event('B'), event('C')];
      await client.appendToStream(stream, [a, b], { streamState: 'no_stream' });

      expect(await client.appendToStream(stream, [b, a], { streamState: 'any' })).toMatchObject({ nextExpectedRevision: 0n });
      await client.appendToStream(stream, [c, a], { streamState: 'any' });
      expect(double.log.stream(stream)!.map((r) => r.id)).toEqual([a.id, b.id, c.id, a.id]);
    });

    it('a conflict on BatchAppend is an ALREADY_EXISTS status with the WrongExpectedVersion details (§7.1)', async () => {
      const stream = `modes-${randomUUID()}`;
      await client.appendToStream(stream, event(), { streamState: 'no_stream' });
      const raw = new streamsGrpc.StreamsClient(`127.0.0.1:${double.port}`, grpc.credentials.createInsecure());
      try {
        const call = raw.batchAppend();
        const answered = new Promise<BatchAppendResp>((resolve) => call.once('data', resolve));
        const options = new streamsPb.BatchAppendReq.Options();
        const identifier = new sharedPb.StreamIdentifier();
        identifier.setStreamName(Buffer.from(stream));
        options.setStreamIdentifier(identifier);
        options.setNoStream(new emptyPb.Empty());
        const request = new streamsPb.BatchAppendReq();
        const correlation = new sharedPb.UUID();
        correlation.setString(randomUUID());
        request.setCorrelationId(correlation);
        request.setOptions(options);
        request.setIsFinal(true);
        call.write(request);
        const response = await answered;
        call.end();

        expect(response.getError()!.getCode()).toBe(codePb.Code.ALREADY_EXISTS);
        expect(response.getError()!.getDetails()!.getTypeName()).toBe('event_store.client.WrongExpectedVersion');
      } finally {
        raw.close();
      }
    });

    it('a deadline already past is a timeout before anything is written (§8)', async () => {
      const stream = `modes-${randomUUID()}`;
      const error = await rejection(client.appendToStream(stream, event(), { streamState: 'no_stream', deadline: -1000 }));

      expect(error).toBeInstanceOf(DeadlineExceededError);
      expect(double.log.stream(stream)).toBeUndefined();
    });

    it('the largest append is the version’s, counted as the version counts (§6)', async () => {
      const kib600 = 'x'.repeat(600 * 1024);
      const dataHeavy = [event('Big', { kib600 }), event('Big', { kib600 })];
      const metadataHeavy = [jsonEvent({ id: randomUUID(), type: 'Half', data: { kib600 }, metadata: { kib600 } })];
      const big = await rejection(client.appendToStream(`modes-${randomUUID()}`, dataHeavy, { streamState: 'no_stream' }));
      const half = await rejection(client.appendToStream(`modes-${randomUUID()}`, metadataHeavy, { streamState: 'no_stream' }));

      if (mode === '25.1') {
        expect(big).toMatchObject({ resolved: { success: true } });
      } else {
        expect(big).toBeInstanceOf(MaxAppendSizeExceededError);
        expect(big).toMatchObject({ maxAppendSize: 1024 * 1024 });
      }
      // Before 24.10.4 only the data bytes count.
      if (mode === '22.10' || mode === '23.10' || mode === '25.1') expect(half).toMatchObject({ resolved: { success: true } });
      else expect(half).toBeInstanceOf(MaxAppendSizeExceededError);
    });

    it('the nil UUID and an empty type are a BadRequest the client does not recognise (§6.2)', async () => {
      const nil = await rejection(client.appendToStream(`modes-${randomUUID()}`, jsonEvent({ id: '00000000-0000-0000-0000-000000000000', type: 'T', data: {} })));
      const untyped = await rejection(client.appendToStream(`modes-${randomUUID()}`, jsonEvent({ id: randomUUID(), type: '', data: {} })));

      expect(nil).toBeInstanceOf(UnknownError);
      expect((nil as Error).message).toMatch(/BadRequest/);
      expect(untyped).toBeInstanceOf(UnknownError);
    });

    it('not ready and too busy: BatchAppend answers with empty details the client cannot read (§7.1)', async () => {
      double.faults.refuseAppends('not-ready', 1);
      double.faults.refuseAppends('too-busy', 1);
      const stream = `modes-${randomUUID()}`;
      const notReady = await rejection(client.appendToStream(stream, event(), { streamState: 'no_stream' }));
      const busy = await rejection(client.appendToStream(stream, event(), { streamState: 'no_stream' }));

      expect(notReady).toBeInstanceOf(UnknownError);
      expect((notReady as Error).message).toMatch(/Server Is Not Ready/);
      expect((busy as Error).message).toMatch(/Server Is Busy/);
      expect(double.log.stream(stream)).toBeUndefined();
    });

    it('a deleted stream and a denied one answer their typed errors, on appends and reads (§7)', async () => {
      const deleted = `modes-deleted-${randomUUID()}`;
      await client.appendToStream(deleted, event(), { streamState: 'no_stream' });
      double.faults.deleteStream(deleted);
      const denied = `modes-denied-${randomUUID()}`;
      const allow = double.faults.denyAccess(denied);
      try {
        expect(await rejection(client.appendToStream(deleted, event()))).toBeInstanceOf(StreamDeletedError);
        expect(await rejection(all(client.readStream(deleted)))).toBeInstanceOf(StreamDeletedError);
        expect(await rejection(client.appendToStream(denied, event()))).toBeInstanceOf(AccessDeniedError);
        expect(await rejection(all(client.readStream(denied)))).toBeInstanceOf(AccessDeniedError);
      } finally {
        allow();
      }
    });

    it('slow indexing: a write answers once indexed; a retry in flight is dropped and times out (§1)', async () => {
      const settle = double.faults.slowIndexing(100, 300);
      const stream = `modes-${randomUUID()}`;
      const events = [event('A'), event('B')];
      try {
        const first = client.appendToStream(stream, events, { streamState: 'no_stream' });
        const retry = rejection(client.appendToStream(stream, events, { streamState: 'no_stream' }));
        // Stored, not yet indexed: invisible to readers.
        expect(await rejection(all(client.readStream(stream, { requiresLeader: true })))).toMatchObject({ type: 'stream-not-found' });

        expect(await first).toMatchObject({ nextExpectedRevision: 1n });
        expect(await retry).toBeInstanceOf(DeadlineExceededError);
        expect(await all(client.readStream(stream))).toHaveLength(2);
      } finally {
        await settle();
      }
    });

    it('a write indexed after the commit timeout times out, and is there afterwards (§1)', async () => {
      const settle = double.faults.slowIndexing(300, 50);
      const stream = `modes-${randomUUID()}`;
      const timedOut = await rejection(client.appendToStream(stream, event(), { streamState: 'no_stream' }));
      await settle();

      expect(timedOut).toBeInstanceOf(DeadlineExceededError);
      expect(await all(client.readStream(stream))).toHaveLength(1);
    });

    it('a connection broken after the write: the append fails as unavailable, the write stands', async () => {
      double.faults.breakAfterNextWrite();
      const stream = `modes-${randomUUID()}`;
      const broken = await rejection(client.appendToStream(stream, event(), { streamState: 'no_stream' }));

      expect(broken).toBeInstanceOf(UnavailableError);
      expect(await all(client.readStream(stream))).toHaveLength(1);
    });

    it('a node no longer the leader: NotLeader naming the leader, nothing written, on both append paths; the client then connects there (§7)', async () => {
      const plain = await startKurrentDbDouble({ mode, advertiseBatchAppend: false });
      const appender = KurrentDBClient.connectionString(plain.url);
      try {
        for (const [server, appending] of [[double, client], [plain, appender]] as const) {
          const stream = `modes-${randomUUID()}`;
          server.faults.notLeader(1);
          const refused = await rejection(appending.appendToStream(stream, event(), { streamState: 'no_stream' }));

          expect(refused).toBeInstanceOf(NotLeaderError);
          expect((refused as NotLeaderError).leader).toEqual({ address: '127.0.0.1', port: server.port });
          expect(await all(appending.readStream(stream)).catch(() => [])).toEqual([]);
          expect(await appending.appendToStream(stream, event(), { streamState: 'no_stream' })).toMatchObject({ success: true, nextExpectedRevision: 0n });
        }
      } finally {
        await appender.dispose();
        await plain.stop();
      }
    });

    it('without batch append, Append answers the same faults with RpcExceptions (§7.2)', async () => {
      const plain = await startKurrentDbDouble({ mode, advertiseBatchAppend: false });
      const appender = KurrentDBClient.connectionString(plain.url);
      try {
        plain.faults.refuseAppends('not-ready', 1);
        expect(await rejection(appender.appendToStream(`modes-${randomUUID()}`, event()))).toBeInstanceOf(UnavailableError);
        const settle = plain.faults.slowIndexing(200, 30);
        const timedOut = await rejection(appender.appendToStream(`modes-${randomUUID()}`, event()));
        expect(timedOut).toBeInstanceOf(UnknownError); // ABORTED without details
        expect((timedOut as Error).message).toMatch(/Operation timed out: Commit phase timeout/);
        await settle();
        const big = [event('Big', { kib: 'x'.repeat(1100 * 1024) })];
        const tooBig = await rejection(appender.appendToStream(`modes-${randomUUID()}`, big));
        if (mode === '25.1') expect(tooBig).toMatchObject({ resolved: { success: true } });
        else expect(tooBig).toMatchObject({ maxAppendSize: 1024 * 1024 });
      } finally {
        await appender.dispose();
        await plain.stop();
      }
    });
  });

  describe('reads (§3)', () => {
    it('a user refused reads of some streams (denyStreamReads): those reads and their metadata\'s fail AccessDenied, nothing read; $all, its subscription, appends and other streams are served (§11)', async () => {
      const hidden = `modes-unread-${randomUUID()}`;
      const other = `modes-read-${randomUUID()}`;
      await client.appendToStream(hidden, event('Secret'), { streamState: 'no_stream' });
      await client.appendToStream(other, event('Open'), { streamState: 'no_stream' });
      await client.setStreamMetadata(other, { maxCount: 5 });
      const allowStream = double.faults.denyStreamReads(hidden);
      const allowMetadata = double.faults.denyStreamReads('$$');
      try {
        // Refused as the server refuses a Read it does not authorize: PERMISSION_DENIED before any message, not an empty or missing stream.
        expect(await rejection(all(client.readStream(hidden)))).toBeInstanceOf(AccessDeniedError);
        expect(await rejection(all(client.readStream(hidden, { requiresLeader: true })))).toBeInstanceOf(AccessDeniedError);
        // $$<stream> is authorized as metadataRead of the stream ($mr): refused apart from read ($r), as it is here.
        expect(await rejection(client.getStreamMetadata(other))).toBeInstanceOf(AccessDeniedError);
        expect((await all(client.readStream(other))).map(({ event: read }) => read!.type)).toEqual(['Open']);
        // $all is authorized on $all alone: what it holds of the refused stream is still shown, read or followed.
        const logged = await all(client.readAll({ fromPosition: START, direction: FORWARDS }));
        expect(logged.filter(({ event: read }) => read!.streamId === hidden).map(({ event: read }) => read!.type)).toEqual(['Secret']);
        const seen: string[] = [];
        const subscription = client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: [hidden] }) });
        subscription.on('data', (resolved: AllStreamResolvedEvent) => seen.push(resolved.event!.type));
        try {
          await until(() => seen.length > 0);
        } finally {
          await subscription.unsubscribe();
        }
        expect(seen).toEqual(['Secret']);
        // Writing needs the write right, not read: appends go on.
        await client.appendToStream(hidden, event('Later'));
        expect(double.log.stream(hidden)).toHaveLength(2);
      } finally {
        allowStream();
        allowMetadata();
      }
      expect((await all(client.readStream(hidden))).map(({ event: read }) => read!.type)).toEqual(['Secret', 'Later']);
      expect(await client.getStreamMetadata(other)).toMatchObject({ metadata: { maxCount: 5 } });
    });

    it('with nodePreference=follower a lagging follower serves reads that do not ask for the leader; by default every read asks', async () => {
      const stream = `modes-${randomUUID()}`;
      const followerPreferred = KurrentDBClient.connectionString(`${double.url}&nodePreference=follower`);
      await client.appendToStream(stream, event('Before'), { streamState: 'no_stream' });
      const thaw = double.faults.freezeFollower();
      try {
        await client.appendToStream(stream, event('After'), { streamState: 0n });
        const fromFollower = await all(followerPreferred.readStream(stream));
        const fromLeader = await all(followerPreferred.readStream(stream, { requiresLeader: true }));
        const byDefault = await all(client.readStream(stream));

        expect(fromFollower.map((e) => e.event!.type)).toEqual(['Before']);
        expect(fromLeader.map((e) => e.event!.type)).toEqual(['Before', 'After']);
        expect(byDefault.map((e) => e.event!.type)).toEqual(['Before', 'After']);
      } finally {
        thaw();
        await followerPreferred.dispose();
      }
    });
  });

  describe('subscriptions to $all (§5)', () => {
    async function subscribe(options: Parameters<KurrentDBClient['subscribeToAll']>[0]) {
      const seen: string[] = [];
      const caughtUps: unknown[] = [];
      const checkpoints: Position[] = [];
      const subscription = client.subscribeToAll({
        ...options,
        ...(options?.filter ? { filter: { ...options.filter, checkpointReached: async (_: unknown, position: Position) => void (checkpoints.push(position), seen.push(`checkpoint:${position.commit}/${position.prepare}`)) } } : {}),
      });
      record(subscription, seen, caughtUps);
      const errors: Error[] = [];
      subscription.on('error', (error: Error) => errors.push(error));
      return { subscription, seen, caughtUps, checkpoints, errors };
    }

    it('caughtUp: none on 22.10, empty on 23.10, with its position since late 24.10 (§5.2)', async () => {
      const prefix = `modes-caught-${randomUUID()}-`;
      const written = await client.appendToStream(`${prefix}a`, [event('One')], { streamState: 'no_stream' });
      const { subscription, seen, caughtUps } = await subscribe({ filter: streamNameFilter({ prefixes: [prefix] }) });
      try {
        await until(() => seen.includes('event:One'));
        await client.appendToStream(`${prefix}a`, [event('Live')], { streamState: 0n });
        await until(() => seen.includes('event:Live'));

        if (mode === '22.10') expect(caughtUps).toEqual([]);
        if (mode === '23.10') expect(caughtUps).toEqual([{}]);
        if (mode === '24.10' || mode === '25.1') expect(caughtUps).toEqual([{ date: expect.any(Date), position: expect.objectContaining({ commit: expect.any(BigInt) }) }]);
        if (mode === '24.10' || mode === '25.1') expect((caughtUps[0] as { position: Position }).position.commit).toBeGreaterThanOrEqual(written.position!.commit);
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('from a checkpoint (C, 0): 22.10 and 23.10 skip the record at C, 24.2+ deliver it (§5.1)', async () => {
      const prefix = `modes-start-${randomUUID()}-`;
      await client.appendToStream(`${prefix}a`, [event('First'), event('Second')], { streamState: 'no_stream' });
      const [, second] = await all(client.readStream(`${prefix}a`));
      const at = second.event!.position!;
      const { subscription, seen } = await subscribe({ fromPosition: { commit: at.commit, prepare: 0n }, filter: streamNameFilter({ prefixes: [prefix] }) });
      try {
        await client.appendToStream(`${prefix}a`, [event('Third')], { streamState: 1n });
        await until(() => seen.includes('event:Third'));

        const events = seen.filter((s) => s.startsWith('event:'));
        expect(events).toEqual(mode === '22.10' || mode === '23.10' ? ['event:Third'] : ['event:Second', 'event:Third']);
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('checkpoints: page starts are (C, 0); only since 24.2 does every catch-up end with one (§5.3)', async () => {
      const prefix = `modes-checkpoint-${randomUUID()}-`;
      const start = (await client.appendToStream(`${prefix}wanted`, [event('Wanted')], { streamState: 'no_stream' })).position!;
      for (let i = 0; i < 5; i++) await client.appendToStream(`other-${randomUUID()}`, [event('Other')], { streamState: 'no_stream' });
      const small = await subscribe({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix], maxSearchWindow: 2, checkpointInterval: 1 }) });
      // An interval longer than the log: only an end-of-catch-up checkpoint can come.
      const long = await subscribe({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix], checkpointInterval: 10_000 }) });
      try {
        await until(() => [small, long].every((s) => s.seen.includes('event:Wanted') && (mode === '22.10' || s.seen.includes('caughtUp'))));
        await client.appendToStream(`${prefix}wanted`, [event('Live')], { streamState: 0n });
        await until(() => small.seen.includes('event:Live') && long.seen.includes('event:Live'));

        expect(small.checkpoints.some((p) => p.prepare === 0n && p.commit > start.commit)).toBe(true);
        const beforeLive = long.seen.slice(0, long.seen.indexOf('event:Live'));
        if (mode === '24.10' || mode === '25.1') expect(beforeLive).toEqual(['event:Wanted', expect.stringMatching(/^checkpoint:\d+\/\d+$/), 'caughtUp']);
        else expect(beforeLive).toEqual(mode === '22.10' ? ['event:Wanted'] : ['event:Wanted', 'caughtUp']);
      } finally {
        await small.subscription.unsubscribe();
        await long.subscription.unsubscribe();
      }
    });

    it('a live append larger than the call’s write buffer arrives whole, without waiting for the next (§5.6)', async () => {
      const prefix = `modes-burst-${randomUUID()}-`;
      const { subscription, seen } = await subscribe({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix] }) });
      try {
        await until(() => mode === '22.10' || seen.includes('caughtUp'));
        if (mode === '22.10') await new Promise((resolve) => setTimeout(resolve, 50)); // no caughtUp to wait for
        await client.appendToStream(`${prefix}a`, Array.from({ length: 30 }, () => event('Burst')), { streamState: 'no_stream' });
        await until(() => seen.filter((s) => s === 'event:Burst').length === 30);

        expect(seen.filter((s) => s === 'event:Burst')).toHaveLength(30);
      } finally {
        await subscription.unsubscribe();
      }
    });

    it('more live events than the live buffer: 22.10 and 23.10 drop the consumer, 24.2+ fall behind and catch up (§5.5)', async () => {
      const prefix = `modes-overflow-${randomUUID()}-`;
      const { subscription, seen, errors } = await subscribe({ fromPosition: START, filter: streamNameFilter({ prefixes: [prefix] }) });
      try {
        await until(() => mode === '22.10' || seen.includes('caughtUp'));
        if (mode === '22.10') await new Promise((resolve) => setTimeout(resolve, 50));
        await client.appendToStream(`${prefix}a`, Array.from({ length: 100 }, () => event('Flood')), { streamState: 'no_stream' });

        if (mode === '22.10' || mode === '23.10') {
          await until(() => errors.length > 0);
          // ABORTED without details: the client cannot tell it is a timeout.
          expect(errors[0]).toBeInstanceOf(UnknownError);
          expect(errors[0].message).toMatch(/Operation timed out: Consumer too slow/);
        } else {
          await until(() => seen.filter((s) => s === 'event:Flood').length === 100);
          // Whether the consumer falls behind depends on how fast this machine drains the call (a
          // quiet one can keep up with 100): either way every event arrives once, in order, the
          // subscription survives, and a fall behind ends with caughtUp said again.
          const afterFirst = seen.slice(seen.indexOf('caughtUp') + 1);
          expect(afterFirst.filter((s) => s.startsWith('event:'))).toEqual(Array.from({ length: 100 }, () => 'event:Flood'));
          expect(seen.filter((s) => s === 'caughtUp').length).toBeLessThanOrEqual(2);
          expect(errors).toEqual([]);
        }
      } finally {
        await subscription.unsubscribe();
      }
    });
  });
});

describe('a subscription reads as its client consumes (§5.6)', () => {
  it('replay waits for the client: every event of a long log arrives, in order', async () => {
    const double = await startKurrentDbDouble();
    const client = KurrentDBClient.connectionString(double.url);
    try {
      for (let i = 0; i < 5; i++) await client.appendToStream(`long-${i}`, Array.from({ length: 400 }, () => event('Long')), { streamState: 'no_stream' });
      const received: ResolvedEvent[] = [];
      for await (const resolved of client.subscribeToAll({ fromPosition: START, filter: streamNameFilter({ prefixes: ['long-'] }) }) as AsyncIterable<AllStreamResolvedEvent>) {
        received.push(resolved);
        if (received.length === 2000) break;
      }
      const positions = received.map((r) => r.event!.position!.commit);
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
      expect((await all(client.readAll({ fromPosition: START, direction: FORWARDS }))).filter((e) => e.event!.streamId.startsWith('long-'))).toHaveLength(2000);
    } finally {
      await client.dispose();
      await double.stop();
    }
  });
});
