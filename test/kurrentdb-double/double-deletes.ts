// Streams.Delete (soft) and Streams.Tombstone (hard), as Streams.Delete.cs and the storage writer's
// WriteDelete take them: the expectation checked as a write's, WrongExpectedVersion and
// StreamDeleted as RpcExceptions (§7.2 of SERVER-BEHAVIOUR.md).
import type * as grpcTypes from '@grpc/grpc-js';
import type { DeleteReq, DeleteResp, TombstoneReq, TombstoneResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import type { DoubleExpected, DoubleLog } from './double-log';
import { RpcError, serviceError, streamName } from './double-messages';
import { grpc, streamsPb } from './protocol';

/** ExpectedVersion numbers as RpcExceptions.WrongExpectedVersion reports them. */
const EXPECTED_NUMBER = { any: -2n, no_stream: -1n, stream_exists: -4n } as const;

export function serveDelete(
  log: DoubleLog,
  hard: boolean,
  call: grpcTypes.ServerUnaryCall<DeleteReq | TombstoneReq, DeleteResp | TombstoneResp>,
  callback: grpcTypes.sendUnaryData<DeleteResp | TombstoneResp>,
  denied: (stream: string) => boolean,
): void {
  const options = call.request.getOptions();
  if (!options) return callback(RpcError.invalidArgument(`${hard ? 'Tombstone' : 'Delete'}Req without options`));
  const stream = streamName(options.getStreamIdentifier());
  if (denied(stream)) return callback(RpcError.accessDenied());
  const expected: DoubleExpected = options.hasRevision()
    ? { kind: 'revision', revision: BigInt(options.getRevision()) }
    : options.hasNoStream()
      ? { kind: 'no_stream' }
      : options.hasStreamExists()
        ? { kind: 'stream_exists' }
        : { kind: 'any' };
  const outcome = log.deleteStream(stream, expected, hard);
  if (outcome.kind === 'stream_deleted') return callback(RpcError.streamDeleted(stream));
  if (outcome.kind === 'wrong_expected_version') {
    const expectedNumber = expected.kind === 'revision' ? expected.revision : EXPECTED_NUMBER[expected.kind];
    const actual = outcome.currentRevision === 'no_stream' ? -1n : outcome.currentRevision;
    const operation = hard ? 'Tombstone' : 'Delete';
    return callback(
      serviceError(grpc.status.FAILED_PRECONDITION, `${operation} failed due to WrongExpectedVersion. Stream: ${stream}, Expected version: ${expectedNumber}, Actual version: ${actual}`, {
        exception: 'wrong-expected-version',
        'stream-name': stream,
        'expected-version': String(expectedNumber),
        'actual-version': String(actual),
      }),
    );
  }
  const response = hard ? new streamsPb.TombstoneResp() : new streamsPb.DeleteResp();
  const position = hard ? new streamsPb.TombstoneResp.Position() : new streamsPb.DeleteResp.Position();
  position.setCommitPosition(outcome.position.toString());
  position.setPreparePosition(outcome.position.toString());
  (response as DeleteResp).setPosition(position as DeleteResp.Position);
  callback(null, response);
}
