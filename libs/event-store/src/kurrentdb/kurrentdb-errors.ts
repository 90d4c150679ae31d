// What the official client's errors mean for the port. The server's answers and how client 1.3.1
// surfaces them are listed in test/kurrentdb-double/SERVER-BEHAVIOUR.md §7; several arrive only as
// an UnknownError whose message names them.
import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  MaxAppendSizeExceededError,
  NotLeaderError,
  StreamDeletedError as ClientStreamDeletedError,
  TimeoutError,
  UnavailableError,
  UnknownError,
} from '@kurrent/kurrentdb-client';
import { AppendTooLargeError, EventStoreAccessDeniedError, EventStoreUnavailableError, PositionNotInLogError, StreamDeletedError } from '../event-store.errors';
import { redactCredentials } from './kurrentdb-connection-string';

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
/** NotHandled answers: BatchAppend sends them without details ("Server Is Busy"), Append as UNAVAILABLE ("Server Is Too Busy"). */
const NOT_HANDLED = /Server Is (Not Ready|Busy|Too Busy)/;
/** RpcExceptions.Timeout: an ABORTED status without details, which the client reports as UnknownError. */
const TIMED_OUT = /Operation timed out/;
const EVENT_TOO_LARGE = /MaximumAppendEventSizeExceeded|maximum-append-event-size-exceeded|Record is too big/;
const BAD_REQUEST = /Could not recognize BadRequest/;
/**
 * A read or subscription of $all from a position no record starts at: INVALID_ARGUMENT, "Trying to
 * read from an invalid position" on 24.2+ (the double: "Invalid position C:…/P:…"), which the
 * client reports as UnknownError. Only a position taken from another log can be such a one.
 */
const INVALID_POSITION = /invalid position/i;
const GRPC_INVALID_ARGUMENT = 3;
/**
 * grpc-js ends a call it never sent with UNAVAILABLE and one of these: no connection to the server
 * could be made, or the client closed the channel before the call went out (it does so to
 * reconnect, after a NotLeader or an unavailable answer, while other calls are starting on it).
 */
const NO_CONNECTION = /No connection established/;
const CHANNEL_CLOSED_BEFORE_START = /Channel closed before call started/;

export interface ErrorContext {
  /** The store, credentials redacted. */
  readonly store: string;
  /** What was attempted, for the message: `append to "x"`, `read "x"`, `read $all`, `subscribe to $all`. */
  readonly operation: string;
  readonly stream?: string;
  /** The user the connection string logs in as, if it names one. */
  readonly user?: string;
  /** The largest event the adapter sends, reported when the server refuses an event. */
  readonly maxEventBytes: number;
}

/**
 * A failed append was refused before anything was written, or its answer was lost on the way: a
 * timeout, a broken or dropped connection, a leader change, anything unrecognised. Only in the
 * second case may the events be stored; the adapter then reads the stream back.
 */
export function appendMayHaveBeenWritten(error: unknown): boolean {
  if (error instanceof ClientStreamDeletedError || error instanceof AccessDeniedError || error instanceof MaxAppendSizeExceededError) return false;
  const message = error instanceof Error ? error.message : '';
  return !(NOT_HANDLED.test(message) || EVENT_TOO_LARGE.test(message) || BAD_REQUEST.test(message) || neverSent(error));
}

/** The call never left the client: nothing can have been written. */
function neverSent(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return isUnavailable(error) && (NO_CONNECTION.test(message) || CHANNEL_CLOSED_BEFORE_START.test(message));
}

/**
 * The client closed its channel under the call before sending it, to connect elsewhere (the
 * leader a NotLeader answer named, or again after a failure): the same call sent now goes there.
 */
export function sentBeforeReconnect(error: unknown): boolean {
  return isUnavailable(error) && CHANNEL_CLOSED_BEFORE_START.test(error instanceof Error ? error.message : '');
}

function isUnavailable(error: unknown): boolean {
  return error instanceof UnavailableError || (error as { code?: unknown } | undefined)?.code === GRPC_UNAVAILABLE;
}

/** Whether trying again later may succeed: the server is down, busy, changing leader, or dropped a slow consumer. */
export function isTransient(error: unknown): boolean {
  const grpcCode = (error as { code?: unknown } | undefined)?.code;
  if (error instanceof UnavailableError || error instanceof DeadlineExceededError || error instanceof NotLeaderError || error instanceof CancelledError || error instanceof TimeoutError) return true;
  if (grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_DEADLINE_EXCEEDED) return true;
  const message = error instanceof Error ? error.message : '';
  return error instanceof UnknownError && (NOT_HANDLED.test(message) || TIMED_OUT.test(message));
}

/** The port's typed error for a client error; anything unrecognised is returned unchanged (a bug, a 500). */
export function toPortError(error: unknown, context: ErrorContext): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ClientStreamDeletedError) return new StreamDeletedError(context.stream ?? error.streamName ?? 'unknown');
  if (error instanceof AccessDeniedError) return new EventStoreAccessDeniedError(context.store, context.operation, context.user);
  if (error instanceof MaxAppendSizeExceededError) return new AppendTooLargeError(context.stream ?? 'unknown', error.maxAppendSize);
  if (error instanceof UnknownError && EVENT_TOO_LARGE.test(message)) return new AppendTooLargeError(context.stream ?? 'unknown', context.maxEventBytes);
  if (isTransient(error)) return new EventStoreUnavailableError(context.store, redactCredentials(message));
  if ((error instanceof UnknownError || (error as { code?: unknown } | undefined)?.code === GRPC_INVALID_ARGUMENT) && INVALID_POSITION.test(message)) {
    return new PositionNotInLogError(context.store, `${context.operation}: ${redactCredentials(message)}`);
  }
  return error;
}
