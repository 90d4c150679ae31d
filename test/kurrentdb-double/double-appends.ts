// Appends as the server takes them (§1, §2, §4, §6–8 of SERVER-BEHAVIOUR.md): the checks before a
// write (access, deadline, sizes, event fields), the commit check, and the answer: at once for a
// conflict or a retry of indexed events, once indexed for a write, never for a retry of events not
// yet indexed — those and slow writes time out after the commit timeout.
import type * as grpcTypes from '@grpc/grpc-js';
import type { AppendReq, AppendResp, BatchAppendReq, BatchAppendResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import type { UUID } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb';
import type { DoubleExpected, DoubleLog, ProposedEvent } from './double-log';
import {
  appendExpectation,
  appendSuccess,
  appendWrongExpectedVersion,
  batchDeadlineLeft,
  batchError,
  batchExpectation,
  batchResponse,
  BatchStatus,
  batchSuccess,
  proposedEvent,
  RpcError,
  serviceError,
  streamName,
  uuidText,
} from './double-messages';
import { EFFECTIVE_MAX_LOG_RECORD_SIZE, sizeOnDisk, type ServerBehaviour } from './double-modes';
import { grpc } from './protocol';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** What a test can make the server do to appends (kurrentdb-double.ts exposes these as faults). */
export interface AppendFaults {
  /** The server's CommitTimeoutMs / WriteTimeoutMs (2000 by default). */
  commitTimeoutMs: number;
  /** The next appends are refused before anything is written (NotHandled). */
  refusals: ('not-ready' | 'too-busy')[];
  /** Streams (by prefix) the connection's user may neither read nor write. */
  denied: Set<string>;
  /** After storing the next append, the connection breaks before the answer is sent. */
  breakAfterNextWrite: boolean;
  /**
   * The next appends reach a node that is not the leader (after an election): NotHandled with the
   * leader's endpoint, nothing written (§7). Here the one node plays the leader too, so the
   * endpoint named is its own.
   */
  notLeader: { count: number; host: string; port: number };
}

export interface AppendContext {
  readonly log: DoubleLog;
  readonly behaviour: ServerBehaviour;
  readonly faults: AppendFaults;
}

/** How a write ended, in protocol-neutral terms; each call encodes it its own way. */
type Answer =
  | { kind: 'success'; currentRevision: bigint | 'no_stream'; position: bigint | undefined }
  | { kind: 'wrong_expected_version'; current: bigint | 'no_stream' }
  | { kind: 'stream_deleted' }
  | { kind: 'access_denied' }
  | { kind: 'timeout'; message: string }
  | { kind: 'too_large'; max: number }
  | { kind: 'event_too_large'; eventId: string; size: number; max: number }
  | { kind: 'bad_request'; message: string }
  | { kind: 'not_ready' }
  | { kind: 'too_busy' }
  | { kind: 'not_leader' }
  | { kind: 'broken' };

export function isDenied(faults: AppendFaults, stream: string): boolean {
  return [...faults.denied].some((prefix) => stream.startsWith(prefix));
}

/** Checks of each event as it arrives (Event's constructor and ClientWriteRequest.AddEvents). */
function checkEvent(context: AppendContext, event: ProposedEvent): Answer | undefined {
  const size = sizeOnDisk(context.behaviour, event);
  const maxEvent = context.behaviour.maxAppendEventSize;
  if (maxEvent !== undefined && size > maxEvent) return { kind: 'event_too_large', eventId: event.id, size, max: maxEvent };
  if (event.id === NIL_UUID) return { kind: 'bad_request', message: 'Empty eventId provided.' };
  if (event.type === '') return { kind: 'bad_request', message: 'Empty eventType provided.' };
  if (size > EFFECTIVE_MAX_LOG_RECORD_SIZE) return { kind: 'bad_request', message: 'Record is too big.' };
  return undefined;
}

/** The write itself, once every event has arrived (ClientMessage.WriteEvents onwards). */
async function write(context: AppendContext, stream: string, expected: DoubleExpected, events: readonly ProposedEvent[]): Promise<Answer> {
  const refusal = context.faults.refusals.shift();
  if (refusal) return { kind: refusal === 'not-ready' ? 'not_ready' : 'too_busy' };
  if (context.faults.notLeader.count > 0) {
    context.faults.notLeader.count -= 1;
    return { kind: 'not_leader' };
  }
  const outcome = context.log.write(stream, expected, events);
  const timedOut = (message: string) =>
    new Promise<Answer>((resolve) => setTimeout(() => resolve({ kind: 'timeout', message }), context.faults.commitTimeoutMs).unref());
  switch (outcome.kind) {
    case 'wrong_expected_version':
      return { kind: 'wrong_expected_version', current: outcome.currentRevision };
    case 'stream_deleted':
      return { kind: 'stream_deleted' };
    case 'nothing':
      return { kind: 'success', currentRevision: outcome.currentRevision, position: undefined };
    case 'idempotent':
      return { kind: 'success', currentRevision: outcome.currentRevision, position: outcome.position };
    case 'idempotent_not_ready':
      // Dropped without an answer: the request manager times out (§1).
      return timedOut('Prepare phase timeout.');
    case 'written': {
      if (context.faults.breakAfterNextWrite) {
        context.faults.breakAfterNextWrite = false;
        return { kind: 'broken' };
      }
      const written: Answer = { kind: 'success', currentRevision: outcome.currentRevision, position: outcome.position };
      if (outcome.indexedNow) return written;
      return Promise.race([outcome.indexed.then(() => written), timedOut('Commit phase timeout.')]);
    }
  }
}

// ---- Streams.BatchAppend --------------------------------------------------------------------

interface PendingBatch {
  readonly options: BatchAppendReq.Options;
  readonly stream: string;
  readonly expected: DoubleExpected;
  readonly events: ProposedEvent[];
  size: number;
  timer: NodeJS.Timeout | undefined;
}

export function serveBatchAppend(context: AppendContext, call: grpcTypes.ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void {
  const pending = new Map<string, PendingBatch>();
  let broken = false;
  const answer = (correlationId: UUID, options: BatchAppendReq.Options, expected: DoubleExpected | undefined, result: Answer) => {
    if (broken) return;
    if (result.kind === 'broken') {
      broken = true;
      call.emit('error', serviceError(grpc.status.UNAVAILABLE, 'Connection reset after the write was stored'));
      return;
    }
    if (result.kind === 'not_leader') {
      // BatchAppend throws LeaderInfo inside its response callback: the whole call fails, and every
      // append in flight on it with NotLeader (Streams.BatchAppend.cs 25.1.4 L232–L235, §7.1).
      broken = true;
      call.emit('error', RpcError.notLeader(context.faults.notLeader.host, context.faults.notLeader.port));
      return;
    }
    call.write(encodeBatch(batchResponse(correlationId, options.getStreamIdentifier(), expected), result, options));
  };
  call.on('data', (message: BatchAppendReq) => {
    const correlationId = message.getCorrelationId()!;
    const key = uuidText(correlationId);
    if (message.hasOptions() && !pending.has(key)) {
      const options = message.getOptions()!;
      const stream = streamName(options.getStreamIdentifier());
      if (isDenied(context.faults, stream)) return answer(correlationId, options, undefined, { kind: 'access_denied' });
      // The deadline the client sends inside the request (§8): already past, a timeout at once;
      // otherwise the events must all have arrived before min(deadline, write timeout).
      const left = Math.min(batchDeadlineLeft(options), context.faults.commitTimeoutMs);
      if (left <= 0) return answer(correlationId, options, undefined, { kind: 'timeout', message: 'deadline passed' });
      // An append sent in one message (most) is complete at once: no timer to wait for the rest.
      const timer = message.getIsFinal()
        ? undefined
        : setTimeout(() => {
            if (pending.delete(key)) answer(correlationId, options, undefined, { kind: 'timeout', message: 'deadline passed' });
          }, left).unref();
      pending.set(key, { options, stream, expected: batchExpectation(options), events: [], size: 0, timer });
    }
    const entry = pending.get(key);
    if (!entry) return;
    for (const proposed of message.getProposedMessagesList()) {
      const event = proposedEvent(proposed);
      const refused = checkEvent(context, event);
      if (refused) {
        clearTimeout(entry.timer);
        pending.delete(key);
        return answer(correlationId, entry.options, undefined, refused);
      }
      entry.events.push(event);
      entry.size += sizeOnDisk(context.behaviour, event);
    }
    if (entry.size > context.behaviour.maxAppendSize) {
      clearTimeout(entry.timer);
      pending.delete(key);
      return answer(correlationId, entry.options, undefined, { kind: 'too_large', max: context.behaviour.maxAppendSize });
    }
    if (!message.getIsFinal()) return;
    clearTimeout(entry.timer);
    pending.delete(key);
    void write(context, entry.stream, entry.expected, entry.events).then((result) => answer(correlationId, entry.options, entry.expected, result));
  });
  call.on('end', () => call.end());
  call.on('error', () => undefined);
}

function encodeBatch(response: BatchAppendResp, result: Answer, options: BatchAppendReq.Options): BatchAppendResp {
  switch (result.kind) {
    case 'success':
      return batchSuccess(response, result.currentRevision, result.position);
    case 'wrong_expected_version':
      return batchError(response, BatchStatus.wrongExpectedVersion(result.current, batchExpectation(options)));
    case 'stream_deleted':
      return batchError(response, BatchStatus.streamDeleted(options.getStreamIdentifier()));
    case 'access_denied':
      return batchError(response, BatchStatus.accessDenied());
    case 'timeout':
      return batchError(response, BatchStatus.timeout());
    case 'too_large':
      return batchError(response, BatchStatus.maximumAppendSizeExceeded(result.max));
    case 'event_too_large':
      return batchError(response, BatchStatus.maximumAppendEventSizeExceeded(result.eventId, result.size, result.max));
    case 'bad_request':
      return batchError(response, BatchStatus.badRequest(result.message));
    case 'not_ready':
      return batchError(response, BatchStatus.notHandled('Server Is Not Ready'));
    case 'too_busy':
      return batchError(response, BatchStatus.notHandled('Server Is Busy'));
    case 'not_leader':
    case 'broken':
      throw new Error('A failed call has no answer');
  }
}

// ---- Streams.Append -------------------------------------------------------------------------

export function serveAppend(context: AppendContext, call: grpcTypes.ServerReadableStream<AppendReq, AppendResp>, callback: grpcTypes.sendUnaryData<AppendResp>): void {
  let header: AppendReq.Options | undefined;
  let refused: Answer | undefined;
  let size = 0;
  const events: ProposedEvent[] = [];
  call.on('data', (message: AppendReq) => {
    if (refused) return;
    if (message.hasOptions()) {
      header = message.getOptions();
      if (isDenied(context.faults, streamName(header!.getStreamIdentifier()))) refused = { kind: 'access_denied' };
      return;
    }
    if (!message.hasProposedMessage()) return;
    const event = proposedEvent(message.getProposedMessage()!);
    refused = checkEvent(context, event);
    size += sizeOnDisk(context.behaviour, event);
    if (!refused && size > context.behaviour.maxAppendSize) refused = { kind: 'too_large', max: context.behaviour.maxAppendSize };
    events.push(event);
  });
  call.on('end', () => {
    if (!header) return callback(RpcError.invalidArgument('AppendReq without options'));
    const stream = streamName(header.getStreamIdentifier());
    const expected = appendExpectation(header);
    const answered = refused ? Promise.resolve(refused) : write(context, stream, expected, events);
    void answered.then((result) => {
      const encoded = encodeAppend(result, stream, expected, context.faults);
      if (encoded instanceof Error) callback(encoded);
      else callback(null, encoded);
    });
  });
}

function encodeAppend(result: Answer, stream: string, expected: DoubleExpected, faults: AppendFaults): AppendResp | grpcTypes.ServiceError {
  switch (result.kind) {
    case 'success':
      return appendSuccess(result.currentRevision, result.position);
    case 'wrong_expected_version':
      // Append reports a conflict inside a successful response, not as a status.
      return appendWrongExpectedVersion(result.current, expected);
    case 'stream_deleted':
      return RpcError.streamDeleted(stream);
    case 'access_denied':
      return RpcError.accessDenied();
    case 'timeout':
      return RpcError.timeout(result.message);
    case 'too_large':
      return RpcError.maxAppendSizeExceeded(result.max);
    case 'event_too_large':
      return RpcError.maxAppendEventSizeExceeded(result.eventId, result.size, result.max);
    case 'bad_request':
      // Append builds each Event inside the handler: its ArgumentException escapes as a bare status.
      return serviceError(grpc.status.UNKNOWN, `Exception was thrown by handler. ArgumentException: ${result.message}`);
    case 'not_ready':
      return RpcError.serverNotReady();
    case 'too_busy':
      return RpcError.serverBusy();
    case 'not_leader':
      return RpcError.notLeader(faults.notLeader.host, faults.notLeader.port);
    case 'broken':
      return serviceError(grpc.status.UNAVAILABLE, 'Connection reset after the write was stored');
  }
}
