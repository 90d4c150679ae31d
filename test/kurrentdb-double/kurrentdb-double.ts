// A protocol-faithful KurrentDB test server: a @grpc/grpc-js server built from the service
// definitions generated inside @kurrent/kurrentdb-client, keeping its events in memory.
//
// It implements what the client uses: ServerFeatures.GetSupportedMethods (batch append is
// advertised, so appends take the client's production path Streams.BatchAppend; turn it off to
// exercise Streams.Append), BatchAppend and Append with the server's expected-revision and
// idempotency rules and their two error encodings (a google.rpc.Status with a packed
// WrongExpectedVersion for BatchAppend, a wrong_expected_version message for Append), Read of a
// stream and of $all (both directions, counts, positions, stream-name and event-type prefix or
// regex filters, stream-not-found as a message, LastStreamPosition after stream reads) and
// catch-up subscriptions to $all (confirmation, replay, checkpoints, caughtUp, live).
//
// Facts it keeps: revisions start at 0; $all positions are increasing byte offsets with gaps,
// never 0, commit = prepare; forwards reads include the record at their start position, backwards
// $all reads and subscriptions start after it; `created` is .NET ticks since the Unix epoch as a
// decimal string; the log starts with system events (streams starting with "$").
//
// Where the real server's behaviour is undefined or varies it is strict: reading or subscribing
// from a position that is not a record's position is refused (a real server may return garbage).
// It does not implement: TLS, authentication, deadlines, clusters/gossip, deletes, stream
// metadata ($maxAge, ...), link resolution, persistent subscriptions, projections.
import { randomUUID } from 'node:crypto';
import type * as grpcTypes from '@grpc/grpc-js';
import type { AppendReq, AppendResp, BatchAppendReq, ReadReq, ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import type { UUID, StreamIdentifier } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb';
import { DoubleLog, matchesFilter, type DoubleExpected, type DoubleFilter, type DoubleRecord, type ProposedEvent, type WriteOutcome } from './double-log';
import { anyPb, codePb, emptyPb, grpc, serverFeaturesGrpc, serverFeaturesPb, sharedPb, statusPb, streamsGrpc, streamsPb, timestampPb } from './protocol';

export interface KurrentDbDoubleOptions {
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Advertise Streams.BatchAppend in ServerFeatures (default true, as every server since 21.10 does). */
  readonly advertiseBatchAppend?: boolean;
}

export interface KurrentDbDouble {
  /** A connection string for the client: `kurrentdb://host:port?tls=false`. */
  readonly url: string;
  readonly port: number;
  readonly log: DoubleLog;
  /** Calls served, by RPC, so tests can see which path the client took. */
  readonly calls: Readonly<Record<string, number>>;
  /** Ends every live subscription with UNAVAILABLE, as a node restart or a leader change would. */
  dropSubscriptions(): number;
  /** Appends an event to a system stream, as the server's own stats and metadata writes do. */
  appendSystemEvent(): void;
  stop(): Promise<void>;
}

const STREAMS_SERVICE = 'event_store.client.streams.streams';
// A server checks a filtered subscription's window of this many events when none is given.
const DEFAULT_FILTER_WINDOW = 32;
const REPLAY_SLICE = 200;

export async function startKurrentDbDouble(options: KurrentDbDoubleOptions = {}): Promise<KurrentDbDouble> {
  const log = new DoubleLog();
  const calls: Record<string, number> = {};
  const count = (rpc: string) => (calls[rpc] = (calls[rpc] ?? 0) + 1);
  const subscriptions = new Set<{ drop: () => void }>();
  let systemEvents = 0;
  const appendSystemEvent = () => {
    systemEvents += 1;
    const data = Buffer.from(JSON.stringify({ 'proc-startTime': new Date().toISOString(), n: systemEvents }));
    log.write(`$stats-127.0.0.1:2113`, { kind: 'any' }, [{ id: randomUUID(), type: '$statsCollected', contentType: 'application/json', data, customMetadata: new Uint8Array() }]);
  };
  // A fresh node's log does not start with user events.
  log.write('$$$stats-127.0.0.1:2113', { kind: 'any' }, [{ id: randomUUID(), type: '$metadata', contentType: 'application/json', data: Buffer.from('{"$maxAge":86400}'), customMetadata: new Uint8Array() }]);
  appendSystemEvent();

  const server = new grpc.Server();
  server.addService(serverFeaturesGrpc.ServerFeaturesService, {
    getSupportedMethods: (_call: grpcTypes.ServerUnaryCall<unknown, unknown>, callback: grpcTypes.sendUnaryData<unknown>) => {
      count('ServerFeatures.GetSupportedMethods');
      const methods = new serverFeaturesPb.SupportedMethods();
      methods.setEventStoreServerVersion('24.10.0');
      const method = (name: string, features: string[] = []) => {
        const supported = new serverFeaturesPb.SupportedMethod();
        supported.setServiceName(STREAMS_SERVICE);
        supported.setMethodName(name);
        supported.setFeaturesList(features);
        return supported;
      };
      const list = [method('read', ['position', 'events']), method('append'), method('delete'), method('tombstone')];
      if (options.advertiseBatchAppend !== false) list.push(method('batchappend'));
      methods.setMethodsList(list);
      callback(null, methods);
    },
  });
  server.addService(streamsGrpc.StreamsService, {
    read: (call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>) => {
      const readOptions = call.request.getOptions();
      if (!readOptions) return failCall(call, statusError(grpc.status.INVALID_ARGUMENT, 'ReadReq without options'));
      if (readOptions.hasSubscription()) {
        count(readOptions.hasAll() ? 'Streams.Read (subscribe $all)' : 'Streams.Read (subscribe stream)');
        if (!readOptions.hasAll()) return failCall(call, statusError(grpc.status.UNIMPLEMENTED, 'The test double subscribes to $all only'));
        return subscribeToAll(call, readOptions, log, subscriptions);
      }
      count(readOptions.hasAll() ? 'Streams.Read ($all)' : 'Streams.Read (stream)');
      if (readOptions.hasAll()) return readAll(call, readOptions, log);
      return readStream(call, readOptions, log);
    },
    append: (call: grpcTypes.ServerReadableStream<AppendReq, AppendResp>, callback: grpcTypes.sendUnaryData<AppendResp>) => {
      count('Streams.Append');
      let header: AppendReq.Options | undefined;
      const events: ProposedEvent[] = [];
      call.on('data', (message: AppendReq) => {
        if (message.hasOptions()) header = message.getOptions();
        else if (message.hasProposedMessage()) events.push(proposedEvent(message.getProposedMessage()!));
      });
      call.on('end', () => {
        if (!header) return callback(statusError(grpc.status.INVALID_ARGUMENT, 'AppendReq without options'));
        const stream = streamName(header.getStreamIdentifier());
        const expected = appendExpectation(header);
        callback(null, appendResponse(log.write(stream, expected, events), expected));
      });
    },
    batchAppend: (call: grpcTypes.ServerDuplexStream<BatchAppendReq, unknown>) => {
      count('Streams.BatchAppend');
      const pending = new Map<string, { options: BatchAppendReq.Options; events: ProposedEvent[] }>();
      call.on('data', (message: BatchAppendReq) => {
        const correlation = uuidText(message.getCorrelationId());
        const entry = pending.get(correlation) ?? (message.hasOptions() ? { options: message.getOptions()!, events: [] } : undefined);
        if (!entry) return failCall(call, statusError(grpc.status.INVALID_ARGUMENT, `BatchAppendReq ${correlation} without options`));
        pending.set(correlation, entry);
        entry.events.push(...message.getProposedMessagesList().map(proposedEvent));
        if (!message.getIsFinal()) return;
        pending.delete(correlation);
        const stream = streamName(entry.options.getStreamIdentifier());
        const expected = batchExpectation(entry.options);
        call.write(batchAppendResponse(message.getCorrelationId()!, entry.options, log.write(stream, expected, entry.events), expected));
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
    delete: (_call: unknown, callback: grpcTypes.sendUnaryData<unknown>) => callback(statusError(grpc.status.UNIMPLEMENTED, 'Delete is not implemented by the test double')),
    tombstone: (_call: unknown, callback: grpcTypes.sendUnaryData<unknown>) => callback(statusError(grpc.status.UNIMPLEMENTED, 'Tombstone is not implemented by the test double')),
  });

  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    url: `kurrentdb://${host}:${port}?tls=false`,
    port,
    log,
    calls,
    appendSystemEvent,
    dropSubscriptions: () => {
      const dropped = [...subscriptions];
      for (const subscription of dropped) subscription.drop();
      return dropped.length;
    },
    stop: async () => {
      for (const subscription of [...subscriptions]) subscription.drop();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}

// ---- reads ----------------------------------------------------------------------------------

function readStream(call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>, options: ReadReq.Options, log: DoubleLog): void {
  const streamOptions = options.getStream()!;
  const identifier = streamOptions.getStreamIdentifier();
  const records = log.stream(streamName(identifier));
  if (!records) {
    // Not an error status: the server answers with a message and ends the call.
    const notFound = new streamsPb.ReadResp.StreamNotFound();
    notFound.setStreamIdentifier(identifier);
    const response = new streamsPb.ReadResp();
    response.setStreamNotFound(notFound);
    call.write(response);
    call.end();
    return;
  }
  const forwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.FORWARDS;
  const limit = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
  const last = records.length - 1;
  let from: number;
  if (streamOptions.hasRevision()) from = Number(BigInt(streamOptions.getRevision()));
  else if (streamOptions.hasEnd()) from = forwards ? records.length : last;
  else from = forwards ? 0 : -1; // backwards from the start reads nothing
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  let sent = 0n;
  if (forwards) {
    for (let i = Math.max(0, from); i <= last && sent < limit; i++, sent++) call.write(eventResponse(records[i], structured));
  } else {
    for (let i = Math.min(from, last); i >= 0 && sent < limit; i--, sent++) call.write(eventResponse(records[i], structured));
  }
  // Clients asking for compatibility level 1 are told where the stream ends (forwards) or starts.
  if ((options.getControlOption()?.getCompatibility() ?? 0) >= 1) {
    const response = new streamsPb.ReadResp();
    if (forwards) response.setLastStreamPosition(String(last));
    else response.setFirstStreamPosition('0');
    call.write(response);
  }
  call.end();
}

function readAll(call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>, options: ReadReq.Options, log: DoubleLog): void {
  const allOptions = options.getAll()!;
  const forwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.FORWARDS;
  const limit = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
  const filter = readFilter(options);
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  let index: number;
  if (allOptions.hasPosition()) {
    const position = requestedPosition(allOptions.getPosition()!, log);
    if (typeof position === 'string') return void failCall(call, statusError(grpc.status.INVALID_ARGUMENT, position));
    // Forwards from a position includes its record; backwards starts with the record before it.
    index = forwards ? log.indexAtOrAfter(position) : log.indexAtOrAfter(position) - 1;
  } else if (allOptions.hasEnd()) {
    index = forwards ? log.length : log.length - 1;
  } else {
    index = forwards ? 0 : -1;
  }
  let sent = 0n;
  for (; index >= 0 && index < log.length && sent < limit; index += forwards ? 1 : -1) {
    const record = log.at(index);
    if (!matchesFilter(filter, record)) continue;
    call.write(eventResponse(record, structured));
    sent += 1n;
  }
  call.end();
}

function subscribeToAll(call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>, options: ReadReq.Options, log: DoubleLog, subscriptions: Set<{ drop: () => void }>): void {
  const allOptions = options.getAll()!;
  const filter = readFilter(options);
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  const filterOptions = options.hasFilter() ? options.getFilter()! : undefined;
  const checkpointEvery = filterOptions ? (filterOptions.hasMax() ? filterOptions.getMax() : DEFAULT_FILTER_WINDOW) * Math.max(1, filterOptions.getCheckpointintervalmultiplier()) : 0;
  let index: number;
  if (allOptions.hasPosition()) {
    const position = requestedPosition(allOptions.getPosition()!, log);
    if (typeof position === 'string') return void failCall(call, statusError(grpc.status.INVALID_ARGUMENT, position));
    index = log.indexAtOrAfter(position);
    if (index < log.length && log.at(index).position === position) index += 1; // subscriptions start after their position
  } else {
    index = allOptions.hasEnd() ? log.length : 0;
  }

  let ended = false;
  let scanned = 0;
  let stopLive = () => {};
  const subscription = {
    drop: () => {
      if (ended) return;
      end();
      failCall(call, statusError(grpc.status.UNAVAILABLE, 'Server is shutting down or the subscription was dropped'));
    },
  };
  const end = () => {
    ended = true;
    stopLive();
    subscriptions.delete(subscription);
  };
  subscriptions.add(subscription);
  call.on('cancelled', end);
  call.on('close', end);
  call.on('error', end);

  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(randomUUID());
  const confirmed = new streamsPb.ReadResp();
  confirmed.setConfirmation(confirmation);
  call.write(confirmed);

  // Sends what lies between the cursor and the end of the log; false when the buffer is full.
  const pump = (max: number): boolean => {
    let budget = max;
    while (!ended && index < log.length && budget-- > 0) {
      const record = log.at(index++);
      scanned += 1;
      let flowing = true;
      if (matchesFilter(filter, record)) flowing = call.write(eventResponse(record, structured));
      if (checkpointEvery > 0 && scanned % checkpointEvery === 0) flowing = call.write(checkpointResponse(record)) && flowing;
      if (!flowing) return false;
    }
    return true;
  };
  const replay = () => {
    if (ended) return;
    if (!pump(REPLAY_SLICE)) return void call.once('drain', () => setImmediate(replay));
    if (index < log.length) return void setImmediate(replay);
    // At the end of the log in this very turn: no append can slip between caught-up and live.
    const caughtUp = new streamsPb.ReadResp.CaughtUp();
    caughtUp.setTimestamp(timestampPb.Timestamp.fromDate(new Date()));
    const last = log.last();
    if (last) caughtUp.setPosition(responsePosition(last.position));
    const response = new streamsPb.ReadResp();
    response.setCaughtUp(caughtUp);
    call.write(response);
    stopLive = log.onAppend(() => pump(Number.MAX_SAFE_INTEGER));
  };
  setImmediate(replay);
}

// ---- messages -------------------------------------------------------------------------------

function eventResponse(record: DoubleRecord, structuredIds: boolean): ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(record.id, structuredIds));
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(record.stream, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(record.revision.toString());
  recorded.setPreparePosition(record.position.toString());
  recorded.setCommitPosition(record.position.toString());
  recorded.getMetadataMap().set('type', record.type);
  recorded.getMetadataMap().set('content-type', record.contentType);
  recorded.getMetadataMap().set('created', record.created);
  recorded.setCustomMetadata(record.customMetadata);
  recorded.setData(record.data);
  const event = new streamsPb.ReadResp.ReadEvent();
  event.setEvent(recorded);
  event.setCommitPosition(record.position.toString());
  const response = new streamsPb.ReadResp();
  response.setEvent(event);
  return response;
}

function checkpointResponse(record: DoubleRecord): ReadResp {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(record.position.toString());
  checkpoint.setPreparePosition(record.position.toString());
  checkpoint.setTimestamp(timestampPb.Timestamp.fromDate(new Date()));
  const response = new streamsPb.ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}

function responsePosition(position: bigint): ReadResp.Position {
  const message = new streamsPb.ReadResp.Position();
  message.setCommitPosition(position.toString());
  message.setPreparePosition(position.toString());
  return message;
}

function appendResponse(outcome: WriteOutcome, expected: DoubleExpected): AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'wrong_expected_version') {
    // Append reports a conflict inside a successful response, not as a status.
    const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
    if (outcome.currentRevision === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty());
    else wrong.setCurrentRevision(outcome.currentRevision.toString());
    if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
    else if (expected.kind === 'any') wrong.setExpectedAny(new sharedPb.Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
    else wrong.setExpectedNoStream(new sharedPb.Empty());
    response.setWrongExpectedVersion(wrong);
    return response;
  }
  const success = new streamsPb.AppendResp.Success();
  if (outcome.currentRevision === 'no_stream') success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.kind === 'written') {
    const position = new streamsPb.AppendResp.Position();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  } else {
    success.setNoPosition(new sharedPb.Empty());
  }
  response.setSuccess(success);
  return response;
}

function batchAppendResponse(correlationId: UUID, options: BatchAppendReq.Options, outcome: WriteOutcome, expected: DoubleExpected) {
  const response = new streamsPb.BatchAppendResp();
  response.setCorrelationId(correlationId);
  response.setStreamIdentifier(options.getStreamIdentifier());
  if (expected.kind === 'revision') response.setStreamPosition(expected.revision.toString());
  else if (expected.kind === 'any') response.setAny(new emptyPb.Empty());
  else if (expected.kind === 'stream_exists') response.setStreamExists(new emptyPb.Empty());
  else response.setNoStream(new emptyPb.Empty());
  if (outcome.kind === 'wrong_expected_version') {
    // BatchAppend reports a conflict as a google.rpc.Status carrying the details in an Any.
    const wrong = new sharedPb.WrongExpectedVersion();
    if (outcome.currentRevision === 'no_stream') wrong.setCurrentNoStream(new emptyPb.Empty());
    else wrong.setCurrentStreamRevision(outcome.currentRevision.toString());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
    else if (expected.kind === 'any') wrong.setExpectedAny(new emptyPb.Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new emptyPb.Empty());
    else wrong.setExpectedNoStream(new emptyPb.Empty());
    const details = new anyPb.Any();
    details.pack(wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion');
    const status = new statusPb.Status();
    status.setCode(codePb.Code.FAILED_PRECONDITION);
    status.setMessage('WrongExpectedVersion');
    status.setDetails(details);
    response.setError(status);
    return response;
  }
  const success = new streamsPb.BatchAppendResp.Success();
  if (outcome.currentRevision === 'no_stream') success.setNoStream(new emptyPb.Empty());
  else success.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.kind === 'written') {
    const position = new sharedPb.AllStreamPosition();
    position.setCommitPosition(outcome.position.toString());
    position.setPreparePosition(outcome.position.toString());
    success.setPosition(position);
  } else {
    success.setNoPosition(new emptyPb.Empty());
  }
  response.setSuccess(success);
  return response;
}

// ---- request fields -------------------------------------------------------------------------

function proposedEvent(message: AppendReq.ProposedMessage | BatchAppendReq.ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidText(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: Buffer.from(message.getData_asU8()),
    customMetadata: Buffer.from(message.getCustomMetadata_asU8()),
  };
}

function appendExpectation(options: AppendReq.Options): DoubleExpected {
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

function batchExpectation(options: BatchAppendReq.Options): DoubleExpected {
  if (options.hasStreamPosition()) return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

function readFilter(options: ReadReq.Options): DoubleFilter | undefined {
  if (!options.hasFilter()) return undefined;
  const filter = options.getFilter()!;
  const on = filter.hasStreamIdentifier() ? 'stream' : 'event_type';
  const expression = filter.hasStreamIdentifier() ? filter.getStreamIdentifier()! : filter.getEventType()!;
  return { on, prefixes: expression.getPrefixList(), regex: expression.getRegex() };
}

function requestedPosition(position: ReadReq.Options.Position, log: DoubleLog): bigint | string {
  const commit = BigInt(position.getCommitPosition());
  const prepare = BigInt(position.getPreparePosition());
  if (commit !== prepare || !log.isRecordPosition(commit)) return `Invalid position C:${commit}/P:${prepare}: no record starts there`;
  return commit;
}

function streamName(identifier: StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}

function uuidText(uuid: UUID | undefined): string {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured()!;
  const hex = (bits: string) => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0');
  const digits = hex(structured.getMostSignificantBits()) + hex(structured.getLeastSignificantBits());
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

function uuidMessage(id: string, structured: boolean): UUID {
  const uuid = new sharedPb.UUID();
  if (!structured) {
    uuid.setString(id);
    return uuid;
  }
  const digits = id.replace(/-/g, '');
  const parts = new sharedPb.UUID.Structured();
  parts.setMostSignificantBits(BigInt.asIntN(64, BigInt(`0x${digits.slice(0, 16)}`)).toString());
  parts.setLeastSignificantBits(BigInt.asIntN(64, BigInt(`0x${digits.slice(16)}`)).toString());
  uuid.setStructured(parts);
  return uuid;
}

function statusError(code: grpcTypes.status, details: string): grpcTypes.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

// grpc-js ends a server stream with a status when the call emits 'error'; destroy() would only
// reset the HTTP/2 stream.
function failCall(call: { emit(event: 'error', error: grpcTypes.ServiceError): boolean }, error: grpcTypes.ServiceError): void {
  call.emit('error', error);
}
