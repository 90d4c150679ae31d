// How long an API read of the PostgreSQL read side may wait, by what it waits for. The projector's
// own connections wait without bound on purpose (read-side.session.ts: WORK_SESSION_SQL); a read
// answers 503 PROJECTIONS.UNAVAILABLE instead, and frees its connection (the pool has four).

/**
 * The longest a statement of a query may take, waiting on a lock included: a read side that is
 * blocked (a server stuck on its disk) answers 503 and frees the connection, rather than holding
 * it until the block ends. Ten times the slowest answer measured at 1M events (a first
 * calibration, ~3–10 s).
 */
export const QUERY_STATEMENT_TIMEOUT_MS = 60_000;

/**
 * The longest a read waits for a lock on the read models' tables. Readers never wait on the
 * projector's writes (MVCC) nor on its index builds; only on a lock someone took by hand (`LOCK
 * TABLE`, an `ALTER TABLE`, a `VACUUM FULL` in an open transaction) or on a rebuild's swap, which
 * holds its locks for a moment. A lock_timeout the role or database sets that is shorter is kept.
 */
export const QUERY_LOCK_TIMEOUT_MS = 5_000;

/**
 * How long the API waits for PostgreSQL to answer a statement, on its side of the connection: the
 * statement timeout is PostgreSQL's, and a server that does not answer at all (the network drops
 * packets) sends no cancellation. A little past the statement timeout, so that a slow statement is
 * still cancelled by PostgreSQL, its error the clearer.
 */
export const QUERY_READ_TIMEOUT_MS = QUERY_STATEMENT_TIMEOUT_MS + 5_000;

/** node-postgres' error for a statement that got no answer within its query_timeout. */
export const QUERY_READ_TIMEOUT_MESSAGE = 'Query read timeout';
