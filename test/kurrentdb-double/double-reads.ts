// Reads of a stream and of $all (§9 of SERVER-BEHAVIOUR.md), answered by the leader or, for a
// caller that does not ask for the leader while a follower lags, from the follower's view (§3).
import type * as grpcTypes from '@grpc/grpc-js';
import type { ReadReq, ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import { matchesFilter, type DoubleLog, type ReadView } from './double-log';
import { eventResponse, failCall, readFilter, RpcError, streamName, streamNotFoundResponse, type WirePosition } from './double-messages';
import { streamsPb } from './protocol';

type ReadCall = grpcTypes.ServerWritableStream<ReadReq, ReadResp>;

export function readStream(call: ReadCall, options: ReadReq.Options, log: DoubleLog, view: ReadView): void {
  const streamOptions = options.getStream()!;
  const identifier = streamOptions.getStreamIdentifier();
  const name = streamName(identifier);
  if (log.isDeleted(name)) return failCall(call, RpcError.streamDeleted(name));
  const records = log.stream(name, view);
  if (!records) {
    // Not an error status: the server answers with a message and ends the call.
    call.write(streamNotFoundResponse(identifier));
    call.end();
    return;
  }
  const forwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.FORWARDS;
  const limit = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
  // Metadata ($tb, $maxCount, $maxAge) may hide every event: the stream still ends where it ends.
  const last = log.lastRevision(name, view) ?? -1n;
  const first = records.length === 0 ? 0n : records[0].revision;
  let from: bigint;
  if (streamOptions.hasRevision()) from = BigInt(streamOptions.getRevision());
  else if (streamOptions.hasEnd()) from = forwards ? last + 1n : last;
  else from = forwards ? 0n : -1n; // backwards from the start reads nothing
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  let sent = 0n;
  const ordered = forwards ? records : [...records].reverse();
  for (const record of ordered) {
    if (sent >= limit) break;
    if (forwards ? record.revision < from : record.revision > from) continue;
    call.write(eventResponse(record, structured));
    sent += 1n;
  }
  // Clients asking for compatibility level 1 are told where the stream ends (forwards) or starts.
  if ((options.getControlOption()?.getCompatibility() ?? 0) >= 1) {
    const response = new streamsPb.ReadResp();
    if (forwards) response.setLastStreamPosition(String(last));
    else response.setFirstStreamPosition(String(first));
    call.write(response);
  }
  call.end();
}

export function readAll(call: ReadCall, options: ReadReq.Options, log: DoubleLog, view: ReadView): void {
  const allOptions = options.getAll()!;
  const forwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.FORWARDS;
  const limit = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
  const filter = readFilter(options);
  const structured = options.getUuidOption()?.hasStructured() ?? false;
  const length = log.lengthFor(view);
  let index: number;
  if (allOptions.hasPosition()) {
    const position = requestedPosition(allOptions.getPosition()!, log);
    if (typeof position === 'string') return failCall(call, RpcError.invalidArgument(position));
    // Forwards from a position includes its record; backwards starts with the record before it.
    const at = Math.min(log.indexAtOrAfter(position.commit, position.prepare), length);
    index = forwards ? at : at - 1;
  } else if (allOptions.hasEnd()) {
    index = forwards ? length : length - 1;
  } else {
    index = forwards ? 0 : -1;
  }
  let sent = 0n;
  for (; index >= 0 && index < length && sent < limit; index += forwards ? 1 : -1) {
    const record = log.at(index);
    if (!matchesFilter(filter, record)) continue;
    call.write(eventResponse(record, structured));
    sent += 1n;
  }
  call.end();
}

/**
 * A position a read or subscription may start from: a record's own (C, C), or a checkpoint's
 * (C, 0) where C is a record boundary (§5.3). Where the real server's answer is undefined (inside a
 * record) the double refuses, as 24.2+ does with "Trying to read from an invalid position".
 */
export function requestedPosition(position: ReadReq.Options.Position, log: DoubleLog): WirePosition | string {
  const commit = BigInt(position.getCommitPosition());
  const prepare = BigInt(position.getPreparePosition());
  if ((prepare !== commit && prepare !== 0n) || !log.isRecordBoundary(commit)) return `Invalid position C:${commit}/P:${prepare}: no record starts there`;
  return { commit, prepare };
}
