import { PositionNotInLogError, redactCredentials } from '@stagecraft/event-store';

/**
 * Why PostgreSQL could not be used at all, when that is the cause of `error` (not reached, login
 * or database refused), for a one-line start-up failure naming READ_MODELS_URL; undefined for
 * anything else. Never the password (node-postgres may quote the URL).
 */
export function postgresUnreachable(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // The event store's own failures (codes EVENT_STORE.…) are its to report, naming EVENT_STORE_URL:
  // their messages quote that URL (…?tls=false) and the server's words, which the tests below would take for PostgreSQL's.
  if ((typeof code === 'string' && code.startsWith('EVENT_STORE.')) || error instanceof PositionNotInLogError) return undefined;
  // ENOENT: a Unix socket path (?host=/path) that is not there.
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ENOENT'];
  // SQLSTATE classes 08 (connection) and 28 (authorisation), and 3D000 (no such database).
  if (code !== undefined && (network.includes(code) || /^(08|28)/.test(code) || code === '3D000')) return redactCredentials(message ?? code);
  // TLS: asked of a server without it (sslmode=require), or a certificate refused. node-postgres
  // raises these without a code of its own, or with OpenSSL's.
  if (message !== undefined && /\b(SSL|TLS)\b|certificate/i.test(message)) return redactCredentials(message);
  // The connection given up on (connectionTimeoutMillis: a host that never answers) or cut while it opened.
  if (message !== undefined && /^Connection terminated/.test(message)) return redactCredentials(message);
  // No answer within a reader's query_timeout (read-side.read-bounds.ts): a server gone silent.
  if (message === 'Query read timeout') return message;
  // A pooled connection that died while idle, handed out before the pool heard of it.
  if (message !== undefined && /^Client has encountered a connection error and is not queryable/.test(message)) return redactCredentials(message);
  return undefined;
}
