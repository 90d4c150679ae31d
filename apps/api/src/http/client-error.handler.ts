import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ApiProblem, pathOf, problemBody, problemHeaders } from './problem';
import { lengthUntold, TRANSFER_ENCODING_NOT_CHUNKED } from './request-shape.hooks';
import type { RouteMethods } from './route-methods';
import { quotedValue } from '@stagecraft/sales-process';

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers or a URL too large,
 * malformed HTTP, a client too slow) answers as a problem too, in the one shape every error has.
 */
export function clientErrorHandler(error: Error & { code?: string; rawPacket?: Buffer; bytesParsed?: number }, socket: Socket, routes?: RouteMethods): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // The parser fails again on what comes after the bytes it refused: one answer is enough.
  if (refusing.has(socket)) return;
  const unknownMethod = error.code === 'HPE_INVALID_METHOD' && routes ? unknownMethodProblem(requestLineAt(error.rawPacket, error.bytesParsed), routes) : undefined;
  const problem = unknownMethod
    ? unknownMethod
    : error.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiProblem('REQUEST.HEADERS_TOO_LARGE', 'The request line and headers are larger than this service accepts (16 KiB); ids are UUIDs and query strings short.')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiProblem('REQUEST.TIMEOUT', 'The request was not received in time; send it again.')
        : error.code === 'HPE_INVALID_TRANSFER_ENCODING'
          ? new ApiProblem('REQUEST.MALFORMED_HTTP', TRANSFER_ENCODING_NOT_CHUNKED)
          : new ApiProblem('REQUEST.MALFORMED_HTTP', 'The request is not valid HTTP.');
  const body = JSON.stringify(problemBody(problem));
  // A Transfer-Encoding that does not end in chunked is refused by the parser, mostly after the
  // request's headers were dispatched: then the request hooks answer that very request (one 400,
  // Connection: close), and any answer written here would be read as the answer to another request:
  // to this one a second, or, pipelined behind a request still being answered, that request's (its
  // own answer then lost with the connection, and a body after a HEAD). So nothing is written: the
  // answers in flight go out in order, and the connection closes after this request's. A request
  // the parser refused before dispatching it (`chunked, gzip`), and any other error (bytes after
  // the last request), get their 400 here.
  if (error.code === 'HPE_INVALID_TRANSFER_ENCODING' && dispatchedWithoutLength(socket)) {
    const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!answering) socket.destroy(error);
    return;
  }
  // RFC 9110, 9.3.2: an answer to HEAD carries no content (its Content-Length and Content-Type
  // still say what a GET would get); bytes after its headers would be read as the next answer.
  const content = refusedMethod(error, socket) === 'HEAD' ? '' : body;
  const answer = () => {
    if (socket.writable) {
      const headers = Object.entries(problemHeaders(problem)).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`HTTP/1.1 ${problem.status} ${problemBody(problem).title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${headers}Connection: close\r\n\r\n${content}`);
    }
    socket.destroy(error);
  };
  // Bytes refused behind requests received whole (pipelined, or sent after a body) are answered
  // after those requests' answers: written at once, the refusal was read as the answer to a request
  // still being decided (a command then recorded, its client told "400: nothing recorded"), and
  // that request's own answer was lost with the connection. A request the parser stopped in (its
  // body never came whole, or broke the chunked coding) is the one refused: answered at once.
  refusing.add(socket);
  const dispatched = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
  if (dispatched && dispatched.complete) afterAnswersInFlight(socket, answer);
  else answer();
}

/** Sockets whose refusal is written or waits to be: the parser's later failures on them are not answered again. */
const refusing = new WeakSet<Socket>();

/** Runs `then` once the socket holds no answer being written, the answers queued behind one included. */
function afterAnswersInFlight(socket: Socket, then: () => void): void {
  const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!answering || answering.writableFinished || socket.destroyed) {
    then();
    return;
  }
  let waited = false;
  // On its finish Node hands the socket to the next queued answer: look again once it has.
  const next = () => {
    if (waited) return;
    waited = true;
    setImmediate(() => afterAnswersInFlight(socket, then));
  };
  answering.once('finish', next);
  answering.once('close', next);
}

/** A request line: a method (an RFC 9110 token), an origin-form target, the version. */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/[^\s]*) HTTP\/1\.[01]\r?\n/;

/**
 * A method Node's parser does not know (it knows a fixed list) is refused before the router sees
 * it: answered as a method no route takes is (problem.filter.ts), 405 with Allow where the path
 * has routes, 404 where it has none, rather than "not valid HTTP". Undefined when the bytes are no
 * request line.
 */
function unknownMethodProblem(raw: Buffer | undefined, routes: RouteMethods): ApiProblem | undefined {
  const line = raw === undefined ? undefined : REQUEST_LINE.exec(raw.toString('latin1'));
  if (!line) return undefined;
  const [, method, target] = line as unknown as [string, string, string];
  const allowed = routes.allowedFor(target);
  if (allowed.length === 0) return new ApiProblem('ROUTE.NOT_FOUND', 'No such route; the API is described at /docs.');
  return new ApiProblem(
    'ROUTE.METHOD_NOT_ALLOWED',
    `${method.slice(0, 40)} is not a method of this route; it takes ${allowed.join(', ')} (the API is described at /docs).`,
    { allowedMethods: allowed },
    { allow: allowed.join(', ') },
  );
}

/**
 * The bytes from the start of the method the parser failed in: the packet may begin with requests
 * before it, pipelined in one chunk (`bytesParsed` is where it failed, inside the method). The
 * method starts after the last byte before it that no method holds: the line break ending the
 * request before, or the last byte of its body, which no line break ends (`…"standard"}FOO /x`).
 */
function requestLineAt(raw: Buffer | undefined, failedAt = 0): Buffer | undefined {
  if (raw === undefined) return undefined;
  let start = Math.min(failedAt, raw.length);
  while (start > 0 && TOKEN_BYTE.test(String.fromCharCode(raw[start - 1]!))) start -= 1;
  return raw.subarray(start, start + 8192);
}

/** A byte of an RFC 9110 token, as a method is made of. */
const TOKEN_BYTE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]$/;

/**
 * The method of the request the parser refused, when it can be told: a request it stopped in after
 * its headers was dispatched (its method known); otherwise the method begins the last line before
 * the failure that starts with a token and a space (a header line has a colon after its name, a
 * folded line starts with a space). Undefined when that line came in an earlier packet, or when
 * no packet is at hand (a request timed out): its refusal is then written as a GET's would be.
 */
function refusedMethod(error: Error & { rawPacket?: Buffer; bytesParsed?: number }, socket: Socket): string | undefined {
  const dispatched = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming;
  if (dispatched && !dispatched.complete) return dispatched.method;
  if (error.rawPacket === undefined) return undefined;
  const text = error.rawPacket.subarray(0, Math.min(error.bytesParsed ?? error.rawPacket.length, error.rawPacket.length) + 1).toString('latin1');
  const lines = [...text.matchAll(/(?:^|\n)([!#$%&'*+.^_`|~0-9A-Za-z-]+) /g)];
  return lines[lines.length - 1]?.[1];
}

/** Whether the last request the parser dispatched on this socket has a Transfer-Encoding not ending in chunked (the request hooks answer it). */
function dispatchedWithoutLength(socket: Socket): boolean {
  return lengthUntold((socket as Socket & { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming?.headers['transfer-encoding']);
}

/** An Expect header this service cannot meet (any but 100-continue, which Node answers itself): 417 as a problem. */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const problem = new ApiProblem('REQUEST.EXPECTATION_FAILED', `This service meets no expectation but 100-continue (the request's Expect was ${quotedValue(String(request.headers.expect), 40)}); send it without that header.`);
  const body = JSON.stringify(problemBody(problem, pathOf(request.url ?? '/')));
  response.writeHead(problem.status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

/** A CONNECT request (this is no proxy): 405 as a problem, then the connection is closed (its bytes after the headers are a tunnel's, not HTTP). */
export function answerConnect(request: IncomingMessage, socket: Socket): void {
  const problem = new ApiProblem('ROUTE.METHOD_NOT_ALLOWED', 'This service is not a proxy: it takes no CONNECT; the API is described at /docs.');
  const body = JSON.stringify(problemBody(problem, pathOf(request.url ?? '/')));
  // After the answers to the requests before it on the connection, as any refusal of the parser's.
  afterAnswersInFlight(socket, () => {
    if (socket.writable) {
      socket.end(`HTTP/1.1 405 ${problemBody(problem).title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroySoon();
  });
}

/**
 * A connection on which nothing moved for CONNECTION_IDLE_TIMEOUT_MS (the server's 'timeout'). It
 * is closed when it holds answers its client does not read (bytes waiting to be sent), or when no
 * request is being answered on it; a request still being worked on (a bulk migration over a long
 * log writes nothing until its report) keeps it, and the wait starts again.
 */
export function idleConnectionHandler(idleMs: number): (socket: Socket) => void {
  return (socket) => {
    const answering = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (socket.writableLength === 0 && answering && !answering.headersSent && !answering.writableEnded) {
      socket.setTimeout(idleMs);
      return;
    }
    socket.destroy();
  };
}
