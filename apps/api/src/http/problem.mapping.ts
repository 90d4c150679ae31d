import { HttpException } from '@nestjs/common';
import {
  AppendTooLargeError,
  DuplicateEventIdError,
  EventStoreAccessDeniedError,
  EventStoreOutcomeUnknownError,
  EventStoreUnavailableError,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from '@stagecraft/event-store';
import { UnexpectedEventError, type OpportunityErrorCode, type OpportunityRejection } from '@stagecraft/opportunity';
import { ApiProblem } from './problem';

/** A command the domain refused: carried to the edge unchanged, then mapped below. */
export class OpportunityRejectedError extends Error {
  constructor(readonly rejection: OpportunityRejection) {
    super(rejection.message);
    this.name = 'OpportunityRejectedError';
  }
}

// Exhaustive: a new domain code does not compile until it has a status here.
const REJECTION_STATUS: Record<OpportunityErrorCode, number> = {
  'OPPORTUNITY.NOT_FOUND': 404,
  'OPPORTUNITY.ALREADY_OPENED': 409,
  'OPPORTUNITY.ALREADY_CLOSED': 422,
  'OPPORTUNITY.NOT_CLOSED': 422,
  'OPPORTUNITY.EXIT_CRITERIA_UNMET': 422,
  'OPPORTUNITY.SKIP_NOT_ALLOWED': 422,
  'OPPORTUNITY.BACKWARD_NOT_ALLOWED': 422,
  'OPPORTUNITY.ALREADY_IN_STAGE': 422,
  'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE': 422,
  'OPPORTUNITY.UNKNOWN_STAGE': 422,
  'OPPORTUNITY.UNKNOWN_CRITERION': 422,
  'OPPORTUNITY.INVALID_LOST_REASON': 422,
  'OPPORTUNITY.UNKNOWN_TEAM': 422,
  'OPPORTUNITY.INVALID_AMOUNT': 422,
  'OPPORTUNITY.INVALID_OCCURRED_AT': 400,
  'OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT': 422,
  'OPPORTUNITY.OCCURRED_AT_IN_FUTURE': 422,
  'OPPORTUNITY.UNKNOWN_PROCESS_VERSION': 422,
  'OPPORTUNITY.NOT_A_NEWER_VERSION': 422,
  'OPPORTUNITY.UNMAPPED_STAGE': 422,
  'OPPORTUNITY.INVALID_STAGE_MAPPING': 422,
};

// Errors Fastify raises before a route runs (body parsing, limits, content types).
const FASTIFY_CODES: Record<string, { status: number; code: string; detail: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE', detail: 'Send the body as application/json.' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'REQUEST.BODY_TOO_LARGE', detail: 'The request body is larger than this service accepts.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'REQUEST.MALFORMED_JSON', detail: 'The body is empty but its content type is application/json; send a JSON object.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'REQUEST.MALFORMED_JSON', detail: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'REQUEST.INVALID_CONTENT_LENGTH', detail: 'Content-Length does not match the body.' },
};

// A dependency that is down or unsure for a moment: clients may come back this soon.
const RETRY_AFTER = { 'retry-after': '1' };

/** Turns anything thrown while serving a request into the problem to answer with. */
export function toProblem(error: unknown): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (error instanceof OpportunityRejectedError) {
    const { code, message, details } = error.rejection;
    return new ApiProblem(REJECTION_STATUS[code], code, message, details);
  }
  if (error instanceof WrongExpectedRevisionError) {
    return new ApiProblem(409, 'OPPORTUNITY.REVISION_CONFLICT', `${error.message}. Read the opportunity again and retry with its current revision.`, {
      expectedRevision: error.expected,
      actualRevision: error.actual,
    });
  }
  if (error instanceof EventStoreOutcomeUnknownError) {
    // The append may or may not have been stored: a retry with the same id is answered either way.
    return new ApiProblem(
      503,
      error.code,
      'The event store did not confirm whether this command was recorded. Retry it with the same Idempotency-Key (or commandId): if it was recorded, the retry answers as it did; if not, it is applied once.',
      {},
      RETRY_AFTER,
    );
  }
  if (error instanceof EventStoreUnavailableError) {
    // Not the client's mistake and not a bug: the store's server is down, busy or changing leader.
    return new ApiProblem(503, 'EVENT_STORE.UNAVAILABLE', 'The event store cannot be reached right now; retry shortly.', {}, RETRY_AFTER);
  }
  if (error instanceof AppendTooLargeError) {
    return new ApiProblem(413, error.code, `What this command would record is larger than the event store takes (${error.limitBytes} bytes); send less.`, { limitBytes: error.limitBytes });
  }
  if (error instanceof StreamDeletedError) {
    return new ApiProblem(410, error.code, 'This record was deleted from the event store; it can no longer be read or changed.');
  }
  if (error instanceof EventStoreAccessDeniedError) {
    // A configuration matter on the server side: retrying does not help until an operator acts.
    return new ApiProblem(503, error.code, "The event store refused this service's credentials; an operator must grant its user access (README, Running on KurrentDB).");
  }
  if (error instanceof UnexpectedEventError) {
    // The stored events of a stream do not replay: not the client's mistake, and not something a
    // retry fixes. Someone edited the log, or a bug wrote it; say so plainly, and how to check.
    return new ApiProblem(
      500,
      'EVENT_STORE.STREAM_UNREADABLE',
      `The stored events of this opportunity cannot be replayed (${error.message}); the log may have been altered. An auditor can locate the break with GET /opportunities/{id}/verify or \`npx stagecraft verify <id>\`.`,
    );
  }
  if (error instanceof DuplicateEventIdError) {
    return new ApiProblem(409, 'COMMAND.DUPLICATE_ID', 'This command id was already used for a different command; send a new Idempotency-Key or commandId.');
  }
  // Nest wraps Fastify's own errors in an HttpException; their code is on the cause.
  const cause = error instanceof HttpException ? (error.cause as { code?: unknown } | undefined) : undefined;
  const fastifyCode = cause?.code ?? (error as { code?: unknown })?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_CODES[fastifyCode]) {
    const known = FASTIFY_CODES[fastifyCode]!;
    return new ApiProblem(known.status, known.code, known.detail);
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return new ApiProblem(400, 'REQUEST.MALFORMED_JSON', 'The body is not valid JSON.');
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === 404) return new ApiProblem(404, 'ROUTE.NOT_FOUND', 'No such route; the API is described at /docs.');
    if (status === 413) return new ApiProblem(413, 'REQUEST.BODY_TOO_LARGE', 'The request body is larger than this service accepts.');
    if (status === 429) return new ApiProblem(429, 'REQUEST.RATE_LIMITED', 'Too many requests from this caller; wait for the time in Retry-After, then retry.');
    return new ApiProblem(status, `HTTP.${status}`, error.message);
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiProblem(status, `HTTP.${status}`, 'The request could not be processed.');
  }
  return new ApiProblem(500, 'INTERNAL', 'An unexpected error occurred; it has been logged. Retrying may help.');
}
