// The double is only worth what its faithfulness is worth: these tests pin the protocol facts it
// claims, through the official client (and, where the client hides a message, a raw gRPC call).
import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  eventTypeFilter,
  FORWARDS,
  KurrentDBClient,
  START,
  StreamDeletedError,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type Position,
  type ResolvedEvent,
} from '@kurrent/kurrentdb-client';
import type { ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import { all, event } from './double-spec.helpers';
import { startKurrentDbDouble, type KurrentDbDouble } from './kurrentdb-double';
import { grpc, sharedPb, streamsGrpc, streamsPb } from './protocol';


describe('KurrentDB test double', () => {
  let double: KurrentDbDouble;
  let client: KurrentDBClient;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    client = KurrentDBClient.connectionString(double.url);
  });

  afterAll(async () => {
    await client?.dispose();
    await double?.stop();
  });

  it('starts with system events; revisions start at 0; $all positions are increasing offsets with gaps, never 0, commit = prepare', async () => {
    const stream = `double-${randomUUID()}`;
    await client.appendToStream(stream, [event(), event(), event()], { streamState: 'no_stream' });
    const read = await all(client.readStream(stream));
    const log = await all(client.readAll({ fromPosition: START, direction: FORWARDS }));

    expect(read.map((e) => e.event!.revision)).toEqual([0n, 1n, 2n]);
    expect(log[0].event!.streamId.startsWith('$')).toBe(true);
    const positions = log.map((e) => e.event!.position!);
    expect(positions.every((p) => p.commit === p.prepare && p.commit > 0n)).toBe(true);
    for (let i = 1; i < positions.length; i++) expect(positions[i].commit - positions[i - 1].commit).toBeGreaterThan(1n);
  });

  it('appends through BatchAppend when advertised, and reports a conflict as a WrongExpectedVersionError with both states', async () => {
    const before = double.calls['Streams.BatchAppend'] ?? 0;
    const fresh = KurrentDBClient.connectionString(double.url);
    try {
      const stream = `double-${randomUUID()}`;
      await fresh.appendToStream(stream, event(), { streamState: 'no_stream' });
      const error = await fresh.appendToStream(stream, event(), { streamState: 5n }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamName: stream, expectedState: 5n, actualState: 0n });
      expect(double.calls['Streams.BatchAppend']).toBe(before + 1); // one bidirectional call carries both
    } finally {
      await fresh.dispose();
    }
  });

  it('without batch append advertised the client uses Append, whose conflict is a message, not a status', async () => {
    const plain = await startKurrentDbDouble({ advertiseBatchAppend: false });
    const appender = KurrentDBClient.connectionString(plain.url);
    try {
      const stream = `double-${randomUUID()}`;
      await appender.appendToStream(stream, event(), { streamState: 'no_stream' });
      const error = await appender.appendToStream(stream, event(), { streamState: 'no_stream' }).catch((e: unknown) => e);
      const missing = await appender.appendToStream(`double-${randomUUID()}`, event(), { streamState: 'stream_exists' }).catch((e: unknown) => e);

      expect(plain.calls['Streams.Append']).toBe(3);
      expect(plain.calls['Streams.BatchAppend']).toBeUndefined();
      expect(error).toMatchObject({ expectedState: 'no_stream', actualState: 0n });
      expect(missing).toMatchObject({ expectedState: 'stream_exists', actualState: 'no_stream' });
    } finally {
      await appender.dispose();
      await plain.stop();
    }
  });

  it('deduplicates a retried append by event id: the same ids after the same expectation write nothing and answer with the last one’s position', async () => {
    const stream = `double-${randomUUID()}`;
    const events = [event('A'), event('B')];
    const first = await client.appendToStream(stream, events, { streamState: 'no_stream' });
    const retry = await client.appendToStream(stream, events, { streamState: 'no_stream' });

    expect(first.position).toBeDefined();
    expect(retry).toEqual({ success: true, nextExpectedRevision: 1n, position: first.position });
    expect(await all(client.readStream(stream))).toHaveLength(2);
    // The server does not refuse an id it holds elsewhere: it has no index of ids.
    await client.appendToStream(`double-${randomUUID()}`, events, { streamState: 'any' });
  });

  it('Delete hides a stream until it is written again, Tombstone deletes it for good; $tb and $maxCount limit what reads show', async () => {
    const soft = `double-${randomUUID()}`;
    await client.appendToStream(soft, [event('A'), event('B')], { streamState: 'no_stream' });
    await client.deleteStream(soft, { expectedRevision: 1n });
    await expect(all(client.readStream(soft))).rejects.toBeInstanceOf(StreamNotFoundError);
    await client.appendToStream(soft, event('C'), { streamState: 'no_stream' });
    expect((await all(client.readStream(soft))).map((e) => [e.event!.type, e.event!.revision])).toEqual([['C', 2n]]);

    const hard = `double-${randomUUID()}`;
    await client.appendToStream(hard, event(), { streamState: 'no_stream' });
    await client.tombstoneStream(hard);
    await expect(client.appendToStream(hard, event())).rejects.toBeInstanceOf(StreamDeletedError);
    await expect(client.tombstoneStream(`double-${randomUUID()}`, { expectedRevision: 3n })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    // Its metadata stream is deleted with it (IndexReader: "if original stream was deleted, metastream is deleted as well").
    await expect(client.getStreamMetadata(hard)).rejects.toBeInstanceOf(StreamDeletedError);

    const limited = `double-${randomUUID()}`;
    await client.appendToStream(limited, [event('0'), event('1'), event('2'), event('3')], { streamState: 'no_stream' });
    await client.setStreamMetadata(limited, { truncateBefore: 1 });
    expect((await all(client.readStream(limited))).map((e) => e.event!.type)).toEqual(['1', '2', '3']);
    await client.setStreamMetadata(limited, { truncateBefore: 1, maxCount: 2 });
    expect((await all(client.readStream(limited))).map((e) => e.event!.type)).toEqual(['2', '3']);
    // Every event hidden: an empty read (the stream still ends at revision 3), not "not found".
    await client.setStreamMetadata(limited, { truncateBefore: 10 });
    expect(await all(client.readStream(limited))).toEqual([]);
    expect(await all(client.readStream(limited, { direction: BACKWARDS, fromRevision: END }))).toEqual([]);
  });

  it('$maxAge hides from stream reads the events written before now − maxAge, not from $all; a retry of them is answered without a position (§4)', async () => {
    let now = Date.parse('2026-03-01T12:00:00Z');
    const aging = await startKurrentDbDouble({ clock: () => now });
    const reader = KurrentDBClient.connectionString(aging.url);
    try {
      const stream = `double-${randomUUID()}`;
      const old = [event('Old0'), event('Old1')];
      await reader.appendToStream(stream, old, { streamState: 'no_stream' });
      now += 60_000;
      await reader.appendToStream(stream, event('Young'), { streamState: 1n });
      await reader.setStreamMetadata(stream, { maxAge: 30 });

      expect((await all(reader.readStream(stream))).map((e) => [e.event!.type, e.event!.revision])).toEqual([['Young', 2n]]);
      expect((await all(reader.readAll({ fromPosition: START }))).filter((e) => e.event!.streamId === stream).map((e) => e.event!.type)).toEqual(['Old0', 'Old1', 'Young']);
      const retry = await reader.appendToStream(stream, old, { streamState: 'no_stream' });
      expect(retry).toMatchObject({ success: true, nextExpectedRevision: 1n, position: undefined });

      now += 60_000;
      expect(await all(reader.readStream(stream))).toEqual([]);
    } finally {
      await reader.dispose();
      await aging.stop();
    }
  });

  it('a missing stream is a StreamNotFound message; the client turns it into StreamNotFoundError', async () => {
    await expect(all(client.readStream(`double-missing-${randomUUID()}`))).rejects.toBeInstanceOf(StreamNotFoundError);
  });

  it('asked for compatibility 1, stream reads end with LastStreamPosition (forwards) or FirstStreamPosition (backwards)', async () => {
    const stream = `double-${randomUUID()}`;
    await client.appendToStream(stream, [event(), event(), event()], { streamState: 'no_stream' });
    const raw = new streamsGrpc.StreamsClient(`127.0.0.1:${double.port}`, grpc.credentials.createInsecure());
    const read = (direction: 0 | 1) => {
      const options = new streamsPb.ReadReq.Options();
      const streamOptions = new streamsPb.ReadReq.Options.StreamOptions();
      const identifier = new sharedPb.StreamIdentifier();
      identifier.setStreamName(Buffer.from(stream));
      streamOptions.setStreamIdentifier(identifier);
      if (direction === 0) streamOptions.setStart(new sharedPb.Empty());
      else streamOptions.setEnd(new sharedPb.Empty());
      options.setStream(streamOptions);
      options.setReadDirection(direction);
      options.setCount('2');
      options.setNoFilter(new sharedPb.Empty());
      const uuid = new streamsPb.ReadReq.Options.UUIDOption();
      uuid.setStructured(new sharedPb.Empty());
      options.setUuidOption(uuid);
      const control = new streamsPb.ReadReq.Options.ControlOption();
      control.setCompatibility(1);
      options.setControlOption(control);
      const request = new streamsPb.ReadReq();
      request.setOptions(options);
      return all(raw.read(request) as AsyncIterable<ReadResp>);
    };
    try {
      const forwards = await read(0);
      const backwards = await read(1);

      expect(forwards.map((r) => r.getContentCase())).toEqual([ReadRespCase.EVENT, ReadRespCase.EVENT, ReadRespCase.LAST_STREAM_POSITION]);
      expect(forwards[2].getLastStreamPosition()).toBe('2');
      expect(backwards.map((r) => (r.hasEvent() ? r.getEvent()!.getEvent()!.getStreamRevision() : 'first'))).toEqual(['2', '1', 'first']);
      expect(forwards[0].getEvent()!.getEvent()!.getId()!.hasStructured()).toBe(true);
      // `created` is .NET ticks (100 ns) since the Unix epoch, as a decimal string.
      const created = forwards[0].getEvent()!.getEvent()!.getMetadataMap().get('created')!;
      expect(created).toMatch(/^\d+$/);
      expect(Math.abs(Number(BigInt(created) / 10_000n) - Date.now())).toBeLessThan(60_000);
    } finally {
      raw.close();
    }
  });

  it('$all reads: forwards include their start, backwards start before it; counts; stream-name and event-type prefix filters', async () => {
    const tag = randomUUID();
    await client.appendToStream(`dbl-a-${tag}`, [event('Alpha'), event('Beta')], { streamState: 'no_stream' });
    await client.appendToStream(`dbl-b-${tag}`, [event('Alpha')], { streamState: 'no_stream' });
    const ours = (events: ResolvedEvent[]) => events.filter((e) => e.event!.streamId.endsWith(tag));
    const everything = ours(await all(client.readAll({ fromPosition: START })));
    const [p0, p1, p2] = everything.map((e) => e.event!.position!);

    expect((await all(client.readAll({ fromPosition: p1, maxCount: 1 })))[0].event!.position).toEqual(p1);
    expect((await all(client.readAll({ fromPosition: p2, direction: BACKWARDS, maxCount: 1 })))[0].event!.position).toEqual(p1);
    expect((await all(client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1 })))[0].event!.position).toEqual(p2);
    const byStream = await all(client.readAll({ fromPosition: p0, filter: streamNameFilter({ prefixes: [`dbl-b-${tag}`] }) }));
    expect(byStream.map((e) => e.event!.streamId)).toEqual([`dbl-b-${tag}`]);
    const byType = ours(await all(client.readAll({ fromPosition: p0, filter: eventTypeFilter({ prefixes: ['Alp'] }) })));
    expect(byType.map((e) => e.event!.position)).toEqual([p0, p2]);
    const noSystem = await all(client.readAll({ fromPosition: START, filter: eventTypeFilter({ regex: '^[^$].*' }) }));
    expect(noSystem.some((e) => e.event!.type.startsWith('$'))).toBe(false);
  });

  it('refuses to read from a position where no record starts', async () => {
    const stream = `double-${randomUUID()}`;
    const written = await client.appendToStream(stream, event(), { streamState: 'no_stream' });
    const inside = { commit: written.position!.commit + 1n, prepare: written.position!.commit + 1n };

    await expect(all(client.readAll({ fromPosition: inside }))).rejects.toThrow(/Invalid position/);
  });

  it('subscriptions: confirmation, replay after (not at) the position, checkpoints while filtering, caughtUp, then live events', async () => {
    const tag = randomUUID();
    const first = await client.appendToStream(`dbl-sub-${tag}`, [event('One')], { streamState: 'no_stream' });
    await client.appendToStream(`dbl-sub-${tag}`, [event('Two')], { streamState: 0n });
    for (let i = 0; i < 5; i++) await client.appendToStream(`dbl-noise-${tag}`, [event('Noise')], { streamState: 'any' });
    const checkpoints: Position[] = [];
    const subscription = client.subscribeToAll({
      fromPosition: first.position!,
      filter: streamNameFilter({ prefixes: [`dbl-sub-${tag}`], maxSearchWindow: 2, checkpointInterval: 1, checkpointReached: async (_, position) => void checkpoints.push(position) }),
    });
    const seen: string[] = [];
    subscription.on('confirmation', () => seen.push('confirmation'));
    subscription.on('caughtUp', () => seen.push('caughtUp'));
    try {
      for await (const resolved of subscription as AsyncIterable<AllStreamResolvedEvent>) {
        seen.push(resolved.event!.type);
        if (resolved.event!.type === 'Two') await client.appendToStream(`dbl-sub-${tag}`, [event('Three')], { streamState: 1n });
        if (resolved.event!.type === 'Three') break;
      }
    } finally {
      await subscription.unsubscribe();
    }

    expect(seen).toEqual(['confirmation', 'Two', 'caughtUp', 'Three']);
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(checkpoints.every((p, i) => i === 0 || p.commit > checkpoints[i - 1].commit)).toBe(true);
  });
});

const ReadRespCase = streamsPb.ReadResp.ContentCase;
