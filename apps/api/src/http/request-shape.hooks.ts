import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { firstTextFault, TEXT_RULE } from '@stagecraft/opportunity';
import { preferredMediaType } from './accept.negotiation';
import { ApiProblem, validationProblem } from './problem';
import { quotedValue } from '@stagecraft/sales-process';

/** How deep a JSON body may nest. The API's bodies nest 2 levels; a deeper one is an attack or a mistake. */
export const MAX_JSON_DEPTH = 16;

const CORRELATION_ID = /^[\x21-\x7e]{1,200}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** X-Correlation-Id as sent (when well-formed), or one made for this request; echoed on the answer. */
    correlationId: string;
  }
}

/**
 * What every request is checked for before a route runs, whatever route it is:
 * - its correlation id, echoed on every answer (errors included) so an operator can follow it;
 * - each of the headers that must come once, once (repeatedHeader);
 * - a body only with a content type (a body without one is 415, not a puzzling validation error),
 *   and not encoded (Content-Encoding is not decoded: a gzip body would read as malformed JSON);
 * - a JSON body no deeper than MAX_JSON_DEPTH (deeper ones would overflow the transformer's stack);
 * - no text a read model cannot keep, in the path, the query or the body (400 with the field).
 */
export function addRequestShapeHooks(fastify: FastifyInstance): void {
  fastify.decorateRequest('correlationId', '');
  // Callback hooks, not async ones: Fastify runs the next step at once instead of a microtask
  // later. A throw here reaches the same error path as a rejection (Fastify's hook runner catches it).
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const sent = request.headers['x-correlation-id'];
    request.correlationId = typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
    void reply.header('x-correlation-id', request.correlationId);
    // A Transfer-Encoding not ending in chunked leaves the body's length untold (RFC 9112, section
    // 6.1): what follows the headers may or may not be another request, so the connection cannot
    // go on, whatever else is wrong with the request: checked first, as an answer to anything else
    // (no Host, a query that does not decode) would keep it open. Node's parser refuses it too,
    // once these headers are dispatched: that refusal sends nothing (client-error.handler.ts), so
    // this is the one answer, after those to the requests before it.
    const coding = request.headers['transfer-encoding'];
    if (lengthUntold(coding)) {
      void reply.header('connection', 'close');
      throw new ApiProblem('REQUEST.MALFORMED_HTTP', TRANSFER_ENCODING_NOT_CHUNKED);
    }
    // Node's own check answers a bare 400 with no body; it is turned off (api.app.ts) for this one.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      throw new ApiProblem('REQUEST.MALFORMED_HTTP', 'An HTTP/1.1 request must carry a Host header (RFC 9112, section 3.2).');
    }
    // The router refuses a malformed percent-encoding in the path (REQUEST.BAD_URL); the query
    // parser keeps one as it came, so ?teamId=%ZZ filtered on the text "%ZZ" and answered 200.
    if (!wellEncodedQuery(request.raw.url ?? '')) {
      throw new ApiProblem('REQUEST.BAD_URL', 'The query string is not valid: a % must start an escape of two hex digits, and the escapes must spell UTF-8 text (send a literal % as %25).');
    }
    const repeated = repeatedHeader(request.raw.rawHeaders);
    if (repeated !== undefined) {
      throw new ApiProblem('REQUEST.INVALID_HEADER', `The ${repeated} header was sent more than once; send it once (a proxy and this service could otherwise each read a different one).`, { header: repeated });
    }
    const length = Number(request.headers['content-length'] ?? 0);
    const hasBody = length > 0 || request.headers['transfer-encoding'] !== undefined;
    // Fastify does not read a GET's body: a filter sent there would be ignored, the answer unfiltered.
    // Judged by its length: a chunked GET (some clients send one, empty) cannot be told apart here.
    if (length > 0 && (request.method === 'GET' || request.method === 'HEAD')) {
      throw validationProblem([{ field: '(body)', message: `a ${request.method} takes no body; its parameters go in the query string` }]);
    }
    if (hasBody && request.headers['content-type'] === undefined) {
      throw new ApiProblem('REQUEST.UNSUPPORTED_MEDIA_TYPE', 'The request has a body but no Content-Type; send the body as application/json.');
    }
    const encoding = request.headers['content-encoding'];
    if (hasBody && encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      throw new ApiProblem('REQUEST.UNSUPPORTED_MEDIA_TYPE', `The body is sent with Content-Encoding ${encoding}, which this service does not decode; send it unencoded.`);
    }
    // Node undoes chunked only: any other transfer coding (gzip, chunked) would reach the JSON
    // parser as it came, encoded bytes read as text.
    const transfer = request.headers['transfer-encoding'];
    if (transfer !== undefined && transfer.trim().toLowerCase() !== 'chunked') {
      throw new ApiProblem('REQUEST.UNSUPPORTED_MEDIA_TYPE', `The body is sent with Transfer-Encoding ${transfer.slice(0, 40)}, which this service does not decode; send it plain or chunked.`);
    }
    // Before the route runs: a command refused here records nothing.
    const accept = request.headers.accept;
    if (accept !== undefined && answersJsonOnly(request.routeOptions.url) && preferredMediaType(accept, JSON_ONLY) === undefined) {
      throw new ApiProblem('REQUEST.NOT_ACCEPTABLE', `This route answers in application/json only; the Accept header ${quotedValue(accept, 100)} does not take it.`, { available: JSON_ONLY });
    }
    done();
  });
  fastify.addHook('preValidation', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.body !== undefined && depthOf(request.body) > MAX_JSON_DEPTH) {
      throw new ApiProblem('REQUEST.BODY_TOO_DEEP', `The JSON body nests more than ${MAX_JSON_DEPTH} levels of objects and arrays; the API's bodies are flat.`, { maxDepth: MAX_JSON_DEPTH });
    }
    // Text no read model can keep (storable-text.ts), wherever it comes: a body would record it, a
    // filter would be sent to PostgreSQL. One check for every field of every route.
    const fault = firstTextFault(request.params, '') ?? firstTextFault(request.query, '') ?? firstTextFault(request.body, '');
    if (fault !== undefined) throw validationProblem([{ field: fault.field, message: `${fault.reason}; it must be ${TEXT_RULE}` }]);
    done();
  });
}

const JSON_ONLY = ['application/json'] as const;

/** Whether a Transfer-Encoding leaves the body's length untold: one that does not end in chunked (RFC 9112, section 6.1). */
export function lengthUntold(coding: string | undefined): boolean {
  return coding !== undefined && coding.split(',').at(-1)!.trim().toLowerCase() !== 'chunked';
}

export const TRANSFER_ENCODING_NOT_CHUNKED =
  "The body's length cannot be told: a Transfer-Encoding must end with chunked (RFC 9112, section 6.1). Send the body with a Content-Length, or chunked; the connection is closed.";

/** Whether the URL's query string (if any) decodes: every % starts a two-hex-digit escape, and the escapes spell UTF-8. */
export function wellEncodedQuery(url: string): boolean {
  const at = url.indexOf('?');
  if (at < 0 || !url.includes('%', at)) return true;
  try {
    decodeURIComponent(url.slice(at + 1));
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the route (its pattern) answers in JSON only. The pipeline and the analytics answer JSON
 * or CSV and weigh Accept themselves; the documents and the board serve files of their own types;
 * an unknown route answers 404 whatever is accepted.
 */
function answersJsonOnly(route: string | undefined): boolean {
  return route !== undefined && !/^\/(?:pipeline$|analytics\/|docs(?:\/|$)|board(?:\/|$))/.test(route);
}

/**
 * Headers that must come once: Node keeps the first of several (Authorization, Content-Type, Host)
 * or joins them (the others), where a proxy in front may read the last, so two could authorise one
 * caller there and another here, or replay one command under another's key.
 */
const SINGLE_HEADERS = new Set(['authorization', 'content-type', 'content-encoding', 'host', 'idempotency-key', 'if-match', 'x-actor', 'x-correlation-id']);

/** The first header of SINGLE_HEADERS sent more than once, as the client named it; none: undefined. */
export function repeatedHeader(rawHeaders: readonly string[]): string | undefined {
  let seen: Set<string> | undefined;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    const name = rawHeaders[index]!.toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    if (seen?.has(name)) return rawHeaders[index];
    (seen ??= new Set()).add(name);
  }
  return undefined;
}

/** Nesting depth of a parsed JSON value, walked without recursion (the point is to survive deep input). */
export function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  // The usual body: one object of plain values, measured without building the walk's stack.
  if (!Array.isArray(value)) {
    let flat = true;
    for (const key in value) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') {
        flat = false;
        break;
      }
    }
    if (flat) return 1;
  }
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return deepest;
}
