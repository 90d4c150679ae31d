import { HttpException } from '@nestjs/common';
import { CommandSideError, OpportunityRejectedError } from '@stagecraft/commands';
import {
  AppendTooLargeError,
  DuplicateEventIdError,
  EventStoreAccessDeniedError,
  EventStoreFullError,
  EventStoreOutcomeUnknownError,
  EventStoreUnavailableError,
  isDiskFullError,
  StreamDeletedError,
  StreamTruncatedError,
  UnreadableEventError,
  WrongExpectedRevisionError,
} from '@stagecraft/event-store';
import { UnreadableInstantError } from '@stagecraft/audit';
import { UnexpectedEventError, UnknownEventTypeError } from '@stagecraft/opportunity';
import { ReadModelUnavailableError } from '@stagecraft/projections';
import { ApiProblem } from './problem';
import type { ProblemCode } from './problem.catalogue';

// Errors Fastify raises before a route runs (body parsing, limits, content types).
const FASTIFY_CODES: Record<string, { code: ProblemCode; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE', detail: 'Send the body as application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'REQUEST.BODY_TOO_LARGE', detail: 'The request body is larger than this service accepts.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'REQUEST.MALFORMED_JSON', detail: 'The body is empty but its content type is application/json; send a JSON object.' },
  // Fastify's own JSON parser is replaced (json-body.parser.ts), which says why it refuses a body.
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'REQUEST.MALFORMED_JSON', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'REQUEST.INVALID_CONTENT_LENGTH', detail: 'Content-Length does not match the body.' },
  FST_ERR_BAD_URL: { code: 'REQUEST.BAD_URL', detail: 'The path is not a valid URL (a malformed percent-encoding?).' },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'REQUEST.PATH_TOO_LONG', detail: 'A path segment is longer than this service accepts; ids are UUIDs.' },
};

// Statuses the HTTP layer itself answers with (Nest's HttpException), when no code above fits.
const HTTP_STATUS_CODES: Record<number, { code: ProblemCode; detail: string }> = {
  404: { code: 'ROUTE.NOT_FOUND', detail: 'No such route; the API is described at /docs.' },
  405: { code: 'ROUTE.METHOD_NOT_ALLOWED', detail: 'This route does not take that method; the API is described at /docs.' },
  406: { code: 'REQUEST.NOT_ACCEPTABLE', detail: 'This route cannot answer in the media type the Accept header asks for.' },
  413: { code: 'REQUEST.BODY_TOO_LARGE', detail: 'The request body is larger than this service accepts.' },
  // The board's static files (If-Match / If-Unmodified-Since, Range): a status of their own, not a 400.
  412: { code: 'REQUEST.PRECONDITION_FAILED', detail: "The file does not meet the request's precondition (If-Match or If-Unmodified-Since): it has changed, or never had that ETag. Ask again without it, or with the ETag the file has now." },
  415: { code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE', detail: 'Send the body as application/json.' },
  416: { code: 'REQUEST.RANGE_NOT_SATISFIABLE', detail: 'The Range asks for bytes the file does not have; ask for a range within it, or without Range for the whole file.' },
  429: { code: 'REQUEST.RATE_LIMITED', detail: 'Too many requests from this caller; wait for the time in Retry-After, then retry.' },
};

// A dependency that is down or unsure for a moment: clients may come back this soon.
const RETRY_AFTER = { 'retry-after': '1' };
// A full disk waits for an operator: asking again every second would only add to the load.
const RETRY_AFTER_DISK_FULL = { 'retry-after': '30' };

/** Turns anything thrown while serving a request into the problem to answer with. */
export function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof OpportunityRejectedError) {
    const { code, message, details } = error.rejection;
    return new ApiProblem(code, message, details);
  }
  if (error instanceof CommandSideError) return new ApiProblem(error.code, error.message, error.details);
  if (error instanceof WrongExpectedRevisionError) {
    const actual = error.actual === 'no_stream' ? 'does not exist yet' : `is at revision ${error.actual}`;
    return new ApiProblem('OPPORTUNITY.REVISION_CONFLICT', `The opportunity ${actual}, not at revision ${String(error.expected)} as the request expected: someone changed it meanwhile. Read it again and retry with its current revision.`, {
      expectedRevision: error.expected,
      // null: no such opportunity yet (the store's 'no_stream' is its own word, not a revision).
      actualRevision: error.actual === 'no_stream' ? null : error.actual,
    });
  }
  if (error instanceof EventStoreFullError || isDiskFullError(error)) {
    // Nothing was written; GET /health says so too while it lasts, and writes resume once space is freed.
    return new ApiProblem('EVENT_STORE.DISK_FULL', 'The disk this service writes to is full, so nothing was recorded. Retry after Retry-After seconds; an operator has been told (GET /health).', {}, RETRY_AFTER_DISK_FULL);
  }
  if (error instanceof EventStoreOutcomeUnknownError) {
    // The append may or may not have been stored: a retry with the same id is answered either way.
    return new ApiProblem(
      error.code,
      'The event store did not confirm whether this command was recorded. Retry it with the same Idempotency-Key (or commandId): if it was recorded, the retry answers as it did; if not, it is applied once.',
      {},
      RETRY_AFTER,
    );
  }
  if (error instanceof EventStoreUnavailableError) {
    // Not the client's mistake and not a bug: the store's server is down, busy or changing leader.
    return new ApiProblem('EVENT_STORE.UNAVAILABLE', 'The event store cannot be reached right now; retry shortly.', {}, RETRY_AFTER);
  }
  if (error instanceof AppendTooLargeError) {
    return new ApiProblem(error.code, `What this command would record is larger than the event store takes (${error.limitBytes} bytes); send less.`, { limitBytes: error.limitBytes });
  }
  if (error instanceof StreamDeletedError) {
    return new ApiProblem(error.code, 'This record was deleted from the event store; it can no longer be read or changed, and its id cannot be used again.');
  }
  if (error instanceof EventStoreAccessDeniedError) {
    // A configuration matter on the server side: retrying does not help until an operator acts.
    return new ApiProblem(error.code, "The event store refused this service's credentials; an operator must grant its user access (README, Running on KurrentDB).");
  }
  if (error instanceof ReadModelUnavailableError) {
    // A read model that stopped on an event, or a read side (PostgreSQL) that cannot be reached: no stale figures.
    return new ApiProblem(error.code, error.message, error.projection === undefined ? {} : { projection: error.projection });
  }
  if (error instanceof UnexpectedEventError) {
    // The stored events of a stream do not replay: not the client's mistake, and not something a
    // retry fixes. Someone edited the log, or a bug wrote it; say so plainly, and how to check.
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be replayed (${error.message}); the log may have been altered. An auditor can locate the break with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
    );
  }
  if (error instanceof StreamTruncatedError) {
    // Events hidden in the store (KurrentDB's truncate-before, $maxCount): every instance refuses
    // alike, whether or not it folded the stream before; nothing was recorded.
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be replayed: the event store no longer shows those before revision ${error.firstReadable} (truncated or deleted there, by an operator or by tampering), so nothing was recorded. An auditor can locate the break with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
      { firstReadableRevision: error.firstReadable },
    );
  }
  if (error instanceof UnknownEventTypeError) {
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be replayed: the one at revision ${error.revision} is of type "${error.eventType}", which this version does not read (written by a newer version, or the log was altered). An auditor can locate the break with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
      { revision: error.revision },
    );
  }
  if (error instanceof UnreadableEventError) {
    // A row whose data is not JSON: the same matter as a stream that does not replay, at a known place.
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be read: at ${error.where}, ${error.reason}. The log was altered outside Stagecraft; \`npx stagecraft verify --all\` lists every such event.`,
      { revision: error.revision, position: error.position },
    );
  }
  if (error instanceof UnreadableInstantError) {
    // An as-of read reached an event without a readable instant: stopping there would answer an
    // earlier state as the state at that instant. Refused, naming the event, as a stream that does
    // not replay is.
    return new ApiProblem(
      'EVENT_STORE.STREAM_UNREADABLE',
      `The opportunity as of this instant cannot be told: the stored event at revision ${error.revision}${error.position === undefined ? '' : ` (position ${error.position})`} has no readable ${error.axis} (${error.found}), so whether it and the events after it came by then is unknown. The log was altered outside Stagecraft; an auditor can locate the break with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
      { revision: error.revision, ...(error.position === undefined ? {} : { position: error.position }), axis: error.axis },
    );
  }
  if (error instanceof DuplicateEventIdError) {
    return new ApiProblem('COMMAND.DUPLICATE_ID', 'This command id was already used for a different command; send a new Idempotency-Key or commandId.');
  }
  // Nest wraps Fastify's own errors in an HttpException; their code is on the cause.
  const cause = error instanceof HttpException ? (error.cause as { code?: unknown } | undefined) : undefined;
  const fastifyCode = cause?.code ?? (error as { code?: unknown })?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_CODES[fastifyCode]) {
    const known = FASTIFY_CODES[fastifyCode]!;
    return new ApiProblem(known.code, known.detail);
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return new ApiProblem('REQUEST.MALFORMED_JSON', 'The body is not valid JSON.');
  }
  const status = error instanceof HttpException ? error.getStatus() : (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const known = HTTP_STATUS_CODES[status];
    if (status === 416) return rangeNotSatisfiable(error);
    return known ? new ApiProblem(known.code, known.detail) : new ApiProblem('REQUEST.REJECTED', 'The request could not be processed; the API is described at /docs.', { httpStatus: status });
  }
  return new ApiProblem('INTERNAL', 'An unexpected error occurred; it has been logged. Retrying may help.');
}

/**
 * 416 as the file server refused it: its Content-Range ("bytes *" then "/" and the file's length,
 * RFC 9110 section 15.5.17) goes on the problem, and the length into the detail, so the client knows what to ask within.
 */
function rangeNotSatisfiable(error: unknown): ApiProblem {
  const { code, detail } = HTTP_STATUS_CODES[416]!;
  // Nest wraps the file server's error in an HttpException; the headers it meant to send are on the cause.
  const thrown = error instanceof HttpException ? error.cause : error;
  const sent = (thrown as { headers?: Record<string, unknown> } | undefined)?.headers?.['Content-Range'];
  const length = typeof sent === 'string' ? /^bytes \*\/(\d+)$/.exec(sent)?.[1] : undefined;
  if (length === undefined) return new ApiProblem(code, detail);
  const whole = Number(length) === 0 ? 'the file is empty' : `the file is ${length} bytes long: ask within bytes 0-${Number(length) - 1}`;
  return new ApiProblem(code, `The Range asks for bytes the file does not have; ${whole}, or without Range for the whole file.`, { length: Number(length) }, { 'content-range': `bytes */${length}` });
}
