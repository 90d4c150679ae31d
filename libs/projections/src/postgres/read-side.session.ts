import { Client, type ClientBase } from 'pg';

// What PostgreSQL writes as text, and how it reads text, follows settings a server, a database or
// a role may change (ALTER DATABASE … SET, ALTER ROLE … SET, `options` in READ_MODELS_URL). Below
// 1, extra_float_digits prints a float8 with 15 significant digits: 500000000000000.5 reads back
// as 500000000000000, in the answers and in the records the projector reads back and writes
// again. Every connection of the read side sets what it relies on first, so its figures are the
// in-memory models' whatever the server's defaults (the queries also name UTC where they mean it).

/** The session settings every read-side connection runs before anything else. */
export const READ_SIDE_SESSION_SQL = [
  'SET extra_float_digits = 3', // the shortest text that reads back as the same float8 (PostgreSQL 12+)
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, MDY'",
  "SET IntervalStyle = 'postgres'",
  'SET standard_conforming_strings = on', // a backslash in '…' is itself
  "SET client_encoding = 'UTF8'", // what the driver decodes
].join('; ');

/**
 * What the projector's own connections (openReadSideClient: the projector, a rebuild, the CLI) run
 * besides: no statement_timeout or lock_timeout a role or database sets. A standby projector or a
 * CLI rebuild waits for the schema's lock as long as another holds it, and a batch, a migration or
 * an index build cancelled part way would only be tried again, the same size, for ever. The waits
 * that must end set their own bound (the rebuild's drop of the old schema). The API's queries keep
 * them: each transaction sets its own statement timeout (PostgresAnalyticsQueries).
 * Nor a transaction_timeout (PostgreSQL 17+), for the same reasons as statement_timeout.
 * Nor an idle_session_timeout (PostgreSQL 14+): the live projector's session idles between events,
 * and holds the schema's lock; ended, it would hand the lock to a standby while this projector
 * believes it still projects, and fail its next batch.
 */
export const WORK_SESSION_SQL = [
  'SET statement_timeout = 0',
  'SET lock_timeout = 0',
  // Where the server has the setting (PostgreSQL 13 and older do not, and would refuse SET).
  "SELECT set_config('idle_session_timeout', '0', false) WHERE current_setting('idle_session_timeout', true) IS NOT NULL",
  // Likewise transaction_timeout (PostgreSQL 17+): a batch, a migration, an index build is one transaction.
  "SELECT set_config('transaction_timeout', '0', false) WHERE current_setting('transaction_timeout', true) IS NOT NULL",
].join('; ');

/** How long opening a connection may take: a host that never answers fails start-up (or a request, 503) instead of hanging for the system's TCP timeout. */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * How long an API read may wait to open a connection of its pool: a read answers 503 within
 * seconds when PostgreSQL does not answer, rather than after the projector's 15 s, which is there
 * for start-up over a slow network.
 */
export const READ_CONNECT_TIMEOUT_MS = 5_000;

/**
 * TCP keepalive on every connection, the first probe after this much silence: a peer gone without
 * closing (a host powered off, a network that drops packets, a failover behind a virtual address)
 * is noticed by the system, and the connection fails, instead of waiting on it for ever. When it is
 * noticed after that depends on the system's probe interval and count (Linux: 75 s × 9).
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

/** The keepalive settings every read-side connection is opened with (node-postgres' names). */
export const KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS } as const;

/**
 * A connection of the read side, open and set up. A connection that PostgreSQL ends surfaces as
 * the next query's error (unheard, the 'error' event would end the whole process).
 */
export async function openReadSideClient(url: string, applicationName: string): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: applicationName, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...KEEPALIVE });
  await client.connect();
  client.on('error', () => undefined);
  try {
    await client.query(`${READ_SIDE_SESSION_SQL}; ${WORK_SESSION_SQL}`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** A pool's `onConnect`: each connection it opens is set up before it is handed out (a failure there fails the checkout). */
export async function setUpSession(client: ClientBase): Promise<void> {
  await client.query(READ_SIDE_SESSION_SQL);
}
