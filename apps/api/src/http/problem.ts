import type { FieldError, ProblemBody } from '@stagecraft/contracts';
import { quotedValue } from '@stagecraft/sales-process';
import { PROBLEM_STATUS, type ProblemCode } from './problem.catalogue';

/**
 * An error answered as application/problem+json (RFC 9457). `code` is stable: clients branch on
 * it, and its status comes from the catalogue. `detail` says what went wrong and what to do.
 * Anything else goes in `extensions`.
 */
export class ApiProblem extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Readonly<Record<string, unknown>> = {},
    /** Response headers the problem calls for, such as Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(detail);
    this.name = 'ApiProblem';
    this.status = PROBLEM_STATUS[code];
  }
}

// A 503 is the service's state, not the client's mistake: every one says when to ask again, so a
// client's retry loop needs no table of its own. A problem that names its own wait keeps it; else
// the wait its code calls for, or a second: most causes (a store changing leader, a read model
// catching up, a shutdown) pass within moments.
const RETRY_AFTER_SECONDS: Partial<Record<ProblemCode, number>> = {
  // An operator must act (grant the store's user access, fix and rebuild the read models): asking
  // every second would only add load; as long as a full disk asks (EVENT_STORE.DISK_FULL).
  'EVENT_STORE.ACCESS_DENIED': 30,
  'PROJECTIONS.FAILED': 30,
  // The key set is fetched again at most every 30 s (jwks.cache.ts): an earlier retry gets this same answer.
  'AUTH.KEYS_UNAVAILABLE': 30,
  // The read side's database reconnecting, or a projector starting.
  'PROJECTIONS.UNAVAILABLE': 5,
};
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The headers to answer `problem` with: its own, and on a 503 a Retry-After unless it names one. */
export function problemHeaders(problem: ApiProblem): Readonly<Record<string, string>> {
  if (problem.status !== 503 || Object.keys(problem.headers).some((name) => name.toLowerCase() === 'retry-after')) return problem.headers;
  return { ...problem.headers, 'retry-after': String(RETRY_AFTER_SECONDS[problem.code] ?? DEFAULT_RETRY_AFTER_SECONDS) };
}

/**
 * The seconds `problem` tells a client to wait before retrying (its Retry-After, defaulted as
 * problemHeaders defaults it), or undefined: for a problem reported in a body, where no header reaches it.
 */
export function retryAfterSecondsOf(problem: ApiProblem): number | undefined {
  const wait = Object.entries(problemHeaders(problem)).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  return wait === undefined ? undefined : Number(wait);
}

/** 400 REQUEST.VALIDATION_FAILED: one entry per bad field, and all of them in the detail. */
export function validationProblem(given: readonly FieldError[]): ApiProblem {
  // class-validator words an unknown key with its name bare ("property  should not exist" for ""):
  // worded again, the name is quoted as every value a client sent is (quotedValue).
  const errors = given.map((error) => (error.message === UNKNOWN_FIELD_WORDING(error.field) ? unknownField(error.field) : error));
  const summary = errors.map((error) => `${shownField(error.field)}: ${error.message}`).join('; ');
  return new ApiProblem('REQUEST.VALIDATION_FAILED', `The request has invalid fields: ${summary}`, { errors });
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function problemBody(problem: ApiProblem, instance?: string): ProblemBody {
  // Extensions first: they may never overwrite the members RFC 9457 defines.
  return {
    ...problem.extensions,
    type: `https://stagecraft.dev/problems/${problem.code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLES[problem.status] ?? 'Error',
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    ...(instance ? { instance } : {}),
  };
}

/** A request URL without its query: what a problem names as its instance (a query may hold a key sent as ?access_token=). */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** How class-validator's forbidNonWhitelisted words a field no route reads. */
const UNKNOWN_FIELD_WORDING = (field: string) => `property ${field} should not exist`;

/**
 * A field no route reads, worded as class-validator's forbidNonWhitelisted words it; one of an empty
 * name (`?=1`, a JSON key "") said as what it is, where that wording named nothing ("property  should not exist").
 */
export const unknownField = (field: string) => ({
  field,
  message: field === '' ? 'a field or query parameter with an empty name ("" as a JSON key, or "=…" with nothing before it in the query string) is no input of any route: leave it out' : UNKNOWN_FIELD_WORDING(shownField(field)),
});

/** A field's path as a message names it: bare when it is a plain name (title, stageMapping.new), else quoted (a client named it). */
function shownField(field: string): string {
  return /^[\w.-]{1,64}$/.test(field) ? field : quotedValue(field);
}
