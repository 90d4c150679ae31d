// The double's protocol messages: responses built as the server builds them, request fields read
// as the server reads them, and the error statuses of the server's Status.cs / RpcExceptions.cs
// (§7 of SERVER-BEHAVIOUR.md).
import type * as grpcTypes from '@grpc/grpc-js';
import type { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp, ReadReq, ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import type { StreamIdentifier, UUID } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb';
import { BinaryWriter } from 'google-protobuf';
import type { DoubleExpected, DoubleFilter, DoubleRecord, ProposedEvent } from './double-log';
import { anyPb, codePb, emptyPb, grpc, sharedPb, statusPb, streamsPb, timestampPb } from './protocol';

/** A position on the wire: (commit, prepare). Checkpoints may have prepare 0 (§5.3). */
export interface WirePosition {
  readonly commit: bigint;
  readonly prepare: bigint;
}

// ---- read responses ------------------------------------------------------------------------

export function eventResponse(record: DoubleRecord, structuredIds: boolean): ReadResp {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  recorded.setId(uuidMessage(record.id, structuredIds));
  recorded.setStreamIdentifier(streamIdentifier(record.stream));
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

export function checkpointResponse(position: WirePosition): ReadResp {
  const checkpoint = new streamsPb.ReadResp.Checkpoint();
  checkpoint.setCommitPosition(position.commit.toString());
  checkpoint.setPreparePosition(position.prepare.toString());
  checkpoint.setTimestamp(timestampPb.Timestamp.fromDate(new Date()));
  const response = new streamsPb.ReadResp();
  response.setCheckpoint(checkpoint);
  return response;
}

/** CaughtUp as the mode sends it (§5.2): empty, or with a timestamp and the checkpoint it caught up at. */
export function caughtUpResponse(position: WirePosition | undefined, withPosition: boolean): ReadResp {
  const caughtUp = new streamsPb.ReadResp.CaughtUp();
  if (withPosition) {
    caughtUp.setTimestamp(timestampPb.Timestamp.fromDate(new Date()));
    if (position) {
      const message = new streamsPb.ReadResp.Position();
      message.setCommitPosition(position.commit.toString());
      message.setPreparePosition(position.prepare.toString());
      caughtUp.setPosition(message);
    }
  }
  const response = new streamsPb.ReadResp();
  response.setCaughtUp(caughtUp);
  return response;
}

export function confirmationResponse(subscriptionId: string): ReadResp {
  const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation();
  confirmation.setSubscriptionId(subscriptionId);
  const response = new streamsPb.ReadResp();
  response.setConfirmation(confirmation);
  return response;
}

export function streamNotFoundResponse(identifier: StreamIdentifier | undefined): ReadResp {
  const notFound = new streamsPb.ReadResp.StreamNotFound();
  notFound.setStreamIdentifier(identifier);
  const response = new streamsPb.ReadResp();
  response.setStreamNotFound(notFound);
  return response;
}

// ---- append responses ----------------------------------------------------------------------

/** Streams.Append: success with or without a position (§4); a conflict is a message, not a status. */
export function appendSuccess(currentRevision: bigint | 'no_stream', position: bigint | undefined): AppendResp {
  const success = new streamsPb.AppendResp.Success();
  if (currentRevision === 'no_stream') success.setNoStream(new sharedPb.Empty());
  else success.setCurrentRevision(currentRevision.toString());
  if (position !== undefined) {
    const message = new streamsPb.AppendResp.Position();
    message.setCommitPosition(position.toString());
    message.setPreparePosition(position.toString());
    success.setPosition(message);
  } else {
    success.setNoPosition(new sharedPb.Empty());
  }
  const response = new streamsPb.AppendResp();
  response.setSuccess(success);
  return response;
}

export function appendWrongExpectedVersion(current: bigint | 'no_stream', expected: DoubleExpected): AppendResp {
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (current === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty());
  else wrong.setCurrentRevision(current.toString());
  if (expected.kind === 'revision') wrong.setExpectedRevision(expected.revision.toString());
  else if (expected.kind === 'any') wrong.setExpectedAny(new sharedPb.Empty());
  else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
  else wrong.setExpectedNoStream(new sharedPb.Empty());
  const response = new streamsPb.AppendResp();
  response.setWrongExpectedVersion(wrong);
  return response;
}

/** Streams.BatchAppend: one response per correlation id, naming the stream and the expectation. */
export function batchResponse(correlationId: UUID, stream: StreamIdentifier | undefined, expected: DoubleExpected | undefined): BatchAppendResp {
  const response = new streamsPb.BatchAppendResp();
  response.setCorrelationId(correlationId);
  response.setStreamIdentifier(stream);
  if (expected?.kind === 'revision') response.setStreamPosition(expected.revision.toString());
  else if (expected?.kind === 'any') response.setAny(new emptyPb.Empty());
  else if (expected?.kind === 'stream_exists') response.setStreamExists(new emptyPb.Empty());
  else if (expected?.kind === 'no_stream') response.setNoStream(new emptyPb.Empty());
  return response;
}

export function batchSuccess(response: BatchAppendResp, currentRevision: bigint | 'no_stream', position: bigint | undefined): BatchAppendResp {
  const success = new streamsPb.BatchAppendResp.Success();
  if (currentRevision === 'no_stream') success.setNoStream(new emptyPb.Empty());
  else success.setCurrentRevision(currentRevision.toString());
  if (position !== undefined) {
    const message = new sharedPb.AllStreamPosition();
    message.setCommitPosition(position.toString());
    message.setPreparePosition(position.toString());
    success.setPosition(message);
  } else {
    success.setNoPosition(new emptyPb.Empty());
  }
  response.setSuccess(success);
  return response;
}

export function batchError(response: BatchAppendResp, status: ReturnType<typeof statusMessage>): BatchAppendResp {
  response.setError(status);
  return response;
}

/** A google.rpc.Status with its details packed in an Any, as the server's Status.cs builds them. */
export function statusMessage(code: number, message: string, details: { typeName: string; bytes: Uint8Array }) {
  const any = new anyPb.Any();
  any.pack(details.bytes, details.typeName);
  const status = new statusPb.Status();
  status.setCode(code);
  status.setMessage(message);
  status.setDetails(any);
  return status;
}

/** BatchAppend's statuses (Status.cs, §7.1). */
export const BatchStatus = {
  wrongExpectedVersion(current: bigint | 'no_stream', expected: DoubleExpected) {
    const wrong = new sharedPb.WrongExpectedVersion();
    if (current === 'no_stream') wrong.setCurrentNoStream(new emptyPb.Empty());
    else wrong.setCurrentStreamRevision(current.toString());
    if (expected.kind === 'revision') wrong.setExpectedStreamPosition(expected.revision.toString());
    else if (expected.kind === 'any') wrong.setExpectedAny(new emptyPb.Empty());
    else if (expected.kind === 'stream_exists') wrong.setExpectedStreamExists(new emptyPb.Empty());
    else wrong.setExpectedNoStream(new emptyPb.Empty());
    return statusMessage(codePb.Code.ALREADY_EXISTS, 'WrongExpectedVersion', { typeName: 'event_store.client.WrongExpectedVersion', bytes: wrong.serializeBinary() });
  },
  streamDeleted(stream: StreamIdentifier | undefined) {
    const deleted = new sharedPb.StreamDeleted();
    deleted.setStreamIdentifier(stream);
    return statusMessage(codePb.Code.NOT_FOUND, 'StreamDeleted', { typeName: 'event_store.client.StreamDeleted', bytes: deleted.serializeBinary() });
  },
  accessDenied() {
    return statusMessage(codePb.Code.PERMISSION_DENIED, 'AccessDenied', { typeName: 'event_store.client.AccessDenied', bytes: new sharedPb.AccessDenied().serializeBinary() });
  },
  timeout() {
    return statusMessage(codePb.Code.DEADLINE_EXCEEDED, 'Timeout', { typeName: 'event_store.client.Timeout', bytes: new sharedPb.Timeout().serializeBinary() });
  },
  maximumAppendSizeExceeded(maxAppendSize: number) {
    const exceeded = new sharedPb.MaximumAppendSizeExceeded();
    exceeded.setMaxappendsize(maxAppendSize);
    return statusMessage(codePb.Code.INVALID_ARGUMENT, 'MaximumAppendSizeExceeded', { typeName: 'event_store.client.MaximumAppendSizeExceeded', bytes: exceeded.serializeBinary() });
  },
  /** 25.1 only; this client's protocol files do not know the message, so it is written field by field. */
  maximumAppendEventSizeExceeded(eventId: string, proposedEventSize: number, maxAppendEventSize: number) {
    const writer = new BinaryWriter();
    writer.writeString(1, eventId);
    writer.writeUint32(2, proposedEventSize);
    writer.writeUint32(3, maxAppendEventSize);
    return statusMessage(codePb.Code.INVALID_ARGUMENT, 'MaximumAppendEventSizeExceeded', { typeName: 'event_store.client.MaximumAppendEventSizeExceeded', bytes: writer.getResultBuffer() });
  },
  badRequest(message: string) {
    const writer = new BinaryWriter();
    writer.writeString(1, message);
    return statusMessage(codePb.Code.INVALID_ARGUMENT, 'BadRequest', { typeName: 'event_store.client.BadRequest', bytes: writer.getResultBuffer() });
  },
  /** NotHandled (not ready, too busy): no code at all, an Empty as details (§7.1). */
  notHandled(message: 'Server Is Not Ready' | 'Server Is Busy') {
    return statusMessage(0, message, { typeName: 'google.protobuf.Empty', bytes: new emptyPb.Empty().serializeBinary() });
  },
};

/** The RpcExceptions the other calls fail with (RpcExceptions.cs, §7.2). */
export const RpcError = {
  timeout: (message: string) => serviceError(grpc.status.ABORTED, `Operation timed out: ${message}`),
  serverNotReady: () => serviceError(grpc.status.UNAVAILABLE, 'Server Is Not Ready'),
  /** RpcExceptions.LeaderInfo: a node that is not the leader names the one that is (§7.2). */
  notLeader: (host: string, port: number) =>
    serviceError(grpc.status.NOT_FOUND, 'Leader info available', { exception: 'not-leader', 'leader-endpoint-host': host, 'leader-endpoint-port': String(port) }),
  serverBusy: () => serviceError(grpc.status.UNAVAILABLE, 'Server Is Too Busy'),
  accessDenied: () => serviceError(grpc.status.PERMISSION_DENIED, 'Access Denied', { exception: 'access-denied' }),
  streamDeleted: (stream: string) => serviceError(grpc.status.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, { exception: 'stream-deleted', 'stream-name': stream }),
  maxAppendSizeExceeded: (maxAppendSize: number) =>
    serviceError(grpc.status.INVALID_ARGUMENT, `Maximum Append Size of ${maxAppendSize} Exceeded.`, { exception: 'maximum-append-size-exceeded', 'maximum-append-size': String(maxAppendSize) }),
  maxAppendEventSizeExceeded: (eventId: string, size: number, max: number) =>
    serviceError(grpc.status.INVALID_ARGUMENT, `Event with Id: ${eventId}, Size: ${size}, exceeds Maximum Append Event Size of ${max}.`, {
      exception: 'maximum-append-event-size-exceeded',
      'maximum-append-event-size': String(max),
      'event-id': eventId,
      'proposed-append-event-size': String(size),
    }),
  invalidArgument: (message: string) => serviceError(grpc.status.INVALID_ARGUMENT, message),
  unavailable: (message: string) => serviceError(grpc.status.UNAVAILABLE, message),
  unimplemented: (message: string) => serviceError(grpc.status.UNIMPLEMENTED, message),
};

export function serviceError(code: grpcTypes.status, details: string, trailers: Record<string, string> = {}): grpcTypes.ServiceError {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(trailers)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

// grpc-js ends a server stream with a status when the call emits 'error'; destroy() would only
// reset the HTTP/2 stream.
export function failCall(call: { emit(event: 'error', error: grpcTypes.ServiceError): boolean }, error: grpcTypes.ServiceError): void {
  call.emit('error', error);
}

// ---- request fields ------------------------------------------------------------------------

export function proposedEvent(message: AppendReq.ProposedMessage | BatchAppendReq.ProposedMessage): ProposedEvent {
  const metadata = message.getMetadataMap();
  return {
    id: uuidText(message.getId()),
    type: metadata.get('type') ?? '',
    contentType: metadata.get('content-type') ?? 'application/octet-stream',
    data: Buffer.from(message.getData_asU8()),
    customMetadata: Buffer.from(message.getCustomMetadata_asU8()),
  };
}

export function appendExpectation(options: AppendReq.Options): DoubleExpected {
  if (options.hasRevision()) return { kind: 'revision', revision: BigInt(options.getRevision()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

export function batchExpectation(options: BatchAppendReq.Options): DoubleExpected {
  if (options.hasStreamPosition()) return { kind: 'revision', revision: BigInt(options.getStreamPosition()) };
  if (options.hasNoStream()) return { kind: 'no_stream' };
  if (options.hasStreamExists()) return { kind: 'stream_exists' };
  return { kind: 'any' };
}

/** Milliseconds left before the deadline a BatchAppend carries (§8): deadline, or the older deadline_21_10_0. */
export function batchDeadlineLeft(options: BatchAppendReq.Options, now = Date.now()): number {
  if (options.hasDeadline()) {
    const duration = options.getDeadline()!;
    return Number(duration.getSeconds()) * 1000 + duration.getNanos() / 1e6;
  }
  if (options.hasDeadline21100()) return options.getDeadline21100()!.toDate().getTime() - now;
  return Number.POSITIVE_INFINITY;
}

export function readFilter(options: ReadReq.Options): DoubleFilter | undefined {
  if (!options.hasFilter()) return undefined;
  const filter = options.getFilter()!;
  const on = filter.hasStreamIdentifier() ? 'stream' : 'event_type';
  const expression = filter.hasStreamIdentifier() ? filter.getStreamIdentifier()! : filter.getEventType()!;
  return { on, prefixes: expression.getPrefixList(), regex: expression.getRegex() };
}

export function streamName(identifier: StreamIdentifier | undefined): string {
  return Buffer.from(identifier?.getStreamName_asU8() ?? new Uint8Array()).toString('utf8');
}

export function streamIdentifier(name: string): StreamIdentifier {
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(name, 'utf8'));
  return identifier;
}

export function uuidText(uuid: UUID | undefined): string {
  if (!uuid) return '';
  if (uuid.hasString()) return uuid.getString();
  const structured = uuid.getStructured()!;
  const hex = (bits: string) => BigInt.asUintN(64, BigInt(bits)).toString(16).padStart(16, '0');
  const digits = hex(structured.getMostSignificantBits()) + hex(structured.getLeastSignificantBits());
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
}

export function uuidMessage(id: string, structured: boolean): UUID {
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

/** Whether the caller asked for the leader (the `requires-leader` header, §3). */
export function requiresLeader(metadata: grpcTypes.Metadata): boolean {
  return metadata.get('requires-leader').some((value) => String(value).toLowerCase() === 'true');
}
