import type { FastifyInstance } from 'fastify';

// The security headers every answer carries: helmet's defaults, with a content security policy
// that lets the API docs page run (inline styles, same-origin and inline scripts). Written out once
// here and set with one call per request, instead of a plugin working them out per request (it
// cost ~4 % of a command's time on the event loop). The board sets its own, stricter policy.
// Two of helmet's defaults hold over TLS only (SECURITY_HEADERS); an answer over plain HTTP goes
// without them (PLAIN_HTTP_HEADERS): see addSecurityHeaders.

const API_CSP_DIRECTIVES = [
  "default-src 'self'",
  "base-uri 'self'",
  "font-src 'self' https: data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self' 'unsafe-inline'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
];

/** Over TLS (directly, or through a proxy TRUST_PROXY names that says X-Forwarded-Proto: https). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [...API_CSP_DIRECTIVES, 'upgrade-insecure-requests'].join(';'),
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
});

/**
 * Over plain HTTP: no Strict-Transport-Security (a browser must ignore it there, RFC 6797 section
 * 8.1, so it only misled whoever reads the headers into thinking TLS was enforced) and no
 * upgrade-insecure-requests (it sent the docs page's own scripts and styles to https:// on a
 * port that speaks HTTP, so /docs was blank when reached over plain HTTP on a private network).
 */
export const PLAIN_HTTP_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries({ ...SECURITY_HEADERS, 'content-security-policy': API_CSP_DIRECTIVES.join(';') }).filter(([name]) => name !== 'strict-transport-security'),
  ),
);

export function addSecurityHeaders(fastify: FastifyInstance): void {
  let answerHeaders: symbol | undefined | null = null;
  fastify.addHook('onRequest', (request, reply, done) => {
    // request.protocol believes X-Forwarded-Proto only from a proxy TRUST_PROXY names.
    const answer = request.protocol === 'https' ? SECURITY_HEADERS : PLAIN_HTTP_HEADERS;
    // The names are lower case already, so they are copied into the reply's headers at once, where
    // reply.header would lower-case and check each (Fastify keeps them under a symbol of its own;
    // found on the first reply, and if it is not there, every header goes through reply.header).
    if (answerHeaders === null) answerHeaders = replyHeadersSymbol(reply);
    const headers = answerHeaders === undefined ? undefined : (reply as unknown as Record<symbol, Record<string, unknown> | undefined>)[answerHeaders];
    if (headers) Object.assign(headers, answer);
    else void reply.headers(answer);
    done();
  });
}

/** Where Fastify keeps the headers of an answer (its kReplyHeaders), when a reply has it as a plain object. */
export function replyHeadersSymbol(reply: object): symbol | undefined {
  const symbol = Object.getOwnPropertySymbols(reply).find((candidate) => candidate.description === 'fastify.reply.headers');
  const held: unknown = symbol && (reply as Record<symbol, unknown>)[symbol];
  return typeof held === 'object' && held !== null && Object.getPrototypeOf(held) === Object.prototype ? symbol : undefined;
}
