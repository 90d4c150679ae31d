import type { CommandErrorCode } from '@stagecraft/commands';
import type { OpportunityErrorCode } from '@stagecraft/opportunity';

// Every problem code this API answers with, and its HTTP status: the one list. A code is part of
// the API (clients branch on it), so a shipped code is never renamed, even where an older name
// reads oddly next to a newer one (PROJECTIONS.* of the read models vs PROJECTION.* of the admin
// routes). The libraries' codes are typed unions: a new one does not compile until it has a
// status here. The README's code list is checked against this file by a test.

/** What the domain refuses (libs/opportunity). */
const OPPORTUNITY: Record<OpportunityErrorCode, number> = {
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
  'OPPORTUNITY.WON_REASON_REQUIRED': 422,
  'OPPORTUNITY.INVALID_WON_REASON': 422,
  'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE': 400,
  'OPPORTUNITY.INVALID_OCCURRED_AT': 400,
  'OPPORTUNITY.INVALID_TEXT': 400,
  'OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT': 422,
  'OPPORTUNITY.OCCURRED_AT_IN_FUTURE': 422,
  'OPPORTUNITY.UNKNOWN_PROCESS_VERSION': 422,
  'OPPORTUNITY.NOT_A_NEWER_VERSION': 422,
  'OPPORTUNITY.UNMAPPED_STAGE': 422,
  'OPPORTUNITY.INVALID_STAGE_MAPPING': 422,
};

/** What the command side refuses (libs/commands). */
const COMMAND_SIDE: Record<CommandErrorCode, number> = {
  'PROCESS.NOT_FOUND': 404,
  'PROCESS.VERSION_NOT_FOUND': 404,
  'COMMAND.IDEMPOTENCY_KEY_REUSED': 422,
  'OPPORTUNITY.CONCURRENT_MODIFICATION': 409,
  'AUTH.TEAM_FORBIDDEN': 403,
  /** The opportunity's stored events no longer hold their hash chain: an altered log, nothing decided on it. */
  'EVENT_STORE.CHAIN_BROKEN': 500,
};

/** The event store's errors, as a client of the API sees them. */
const EVENT_STORE = {
  'OPPORTUNITY.REVISION_CONFLICT': 409,
  'COMMAND.DUPLICATE_ID': 409,
  'EVENT_STORE.UNAVAILABLE': 503,
  /** The store did not confirm whether the append landed: retry with the same Idempotency-Key. */
  'EVENT_STORE.OUTCOME_UNKNOWN': 503,
  'EVENT_STORE.APPEND_TOO_LARGE': 413,
  'EVENT_STORE.STREAM_DELETED': 410,
  /** Every event of an opportunity is hidden from readers by a store setting (`hiddenBy`): the log still holds them. */
  'EVENT_STORE.STREAM_HIDDEN': 410,
  /**
   * The server refused the service's credentials: an operator's matter, not the client's. A 503 still
   * (with a long Retry-After, problem.ts): no bug (500), no fault of the request (4xx), which succeeds
   * unchanged once access is granted.
   */
  'EVENT_STORE.ACCESS_DENIED': 503,
  /** The disk holding the store (or another file a request writes) is full: nothing was written. */
  'EVENT_STORE.DISK_FULL': 507,
  /** An opportunity's stored events no longer replay: an altered log, not the client's mistake. */
  'EVENT_STORE.STREAM_UNREADABLE': 500,
} as const;

/** The request itself: its body, headers, parameters and route. */
const REQUEST = {
  'REQUEST.VALIDATION_FAILED': 400,
  'REQUEST.MALFORMED_JSON': 400,
  'REQUEST.INVALID_ID': 400,
  'REQUEST.INVALID_IF_MATCH': 400,
  'REQUEST.INVALID_HEADER': 400,
  'REQUEST.INVALID_CONTENT_LENGTH': 400,
  'REQUEST.INVALID_PERIOD': 400,
  'REQUEST.POSITION_BEYOND_LOG': 400,
  'REQUEST.AS_OF_CONFLICT': 400,
  'REQUEST.CONFLICTING_COMMAND_ID': 400,
  'REQUEST.CONFLICTING_REVISIONS': 400,
  'REQUEST.BODY_TOO_LARGE': 413,
  'REQUEST.BODY_TOO_DEEP': 400,
  'REQUEST.BAD_URL': 400,
  'REQUEST.PATH_TOO_LONG': 414,
  'REQUEST.HEADERS_TOO_LARGE': 431,
  'REQUEST.TIMEOUT': 408,
  'REQUEST.EXPECTATION_FAILED': 417,
  'REQUEST.MALFORMED_HTTP': 400,
  'REQUEST.UNSUPPORTED_MEDIA_TYPE': 415,
  'REQUEST.NOT_ACCEPTABLE': 406,
  'REQUEST.PRECONDITION_FAILED': 412,
  'REQUEST.RANGE_NOT_SATISFIABLE': 416,
  'REQUEST.RATE_LIMITED': 429,
  /** A 4xx from the HTTP layer that no other code describes. */
  'REQUEST.REJECTED': 400,
  'ROUTE.NOT_FOUND': 404,
  'ROUTE.METHOD_NOT_ALLOWED': 405,
} as const;

/** Who the caller is and what it may do (apps/api/src/auth). */
const AUTH = {
  'AUTH.UNAUTHENTICATED': 401,
  'AUTH.FORBIDDEN': 403,
  'AUTH.ON_BEHALF_FORBIDDEN': 403,
  /** JWT_JWKS_URL has not answered with a key set yet: not the caller's fault. */
  'AUTH.KEYS_UNAVAILABLE': 503,
} as const;

/** Key administration (/admin/api-keys). */
const API_KEYS = {
  'API_KEY.NOT_FOUND': 404,
  'API_KEY.NOT_IN_FILE': 409,
  'API_KEY.FILE_BUSY': 503,
  'API_KEY.FILE_UNUSABLE': 503,
} as const;

/** The read side: projections and their administration. */
const READ_SIDE = {
  'OPPORTUNITY.NOT_YET_OPENED': 404,
  'PROJECTIONS.BEHIND': 503,
  'PROJECTIONS.FAILED': 503,
  'PROJECTIONS.UNAVAILABLE': 503,
  'PROJECTION.NOT_FOUND': 404,
  'PROJECTION.ALREADY_REBUILDING': 409,
  'PROJECTION.REBUILD_ELSEWHERE': 409,
} as const;

const SERVER = {
  /** A bug: logged with its stack on the server, never shown to the client. */
  INTERNAL: 500,
  /** The instance is shutting down (SIGTERM): the request was not run; another instance, or this one restarted, takes it. */
  'SERVICE.SHUTTING_DOWN': 503,
} as const;

export const PROBLEM_STATUS = { ...OPPORTUNITY, ...COMMAND_SIDE, ...EVENT_STORE, ...REQUEST, ...AUTH, ...API_KEYS, ...READ_SIDE, ...SERVER };

export type ProblemCode = OpportunityErrorCode | CommandErrorCode | keyof typeof EVENT_STORE | keyof typeof REQUEST | keyof typeof AUTH | keyof typeof API_KEYS | keyof typeof READ_SIDE | keyof typeof SERVER;

/** Every code, for documentation checks. */
export const PROBLEM_CODES = Object.keys(PROBLEM_STATUS) as ProblemCode[];
