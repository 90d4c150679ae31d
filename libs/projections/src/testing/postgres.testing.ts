import { existsSync } from 'node:fs';
import { Pool, type PoolClient } from 'pg';
import { PostgresAnalyticsQueries } from '../postgres/postgres-analytics.queries';
import { migrateReadSide } from '../postgres/read-side.migrations';
import { deferQueryIndexes, restoreQueryIndexes } from '../postgres/read-side.indexes';
import { ReadSideWriter } from '../postgres/read-side.writer';
import type { ProjectedEvent } from '../projection.types';

// PostgreSQL for tests: the server of this machine (127.0.0.1:5432, trust auth; `.ci/run` starts it
// when it is installed but stopped), or READ_MODELS_TEST_URL. Each test file works in a schema of
// its own and drops it. Where no PostgreSQL is installed at all, the suites that need it are
// skipped with a loud notice, never under CI=true.

export const POSTGRES_TEST_URL = process.env.READ_MODELS_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function postgresInstalled(): boolean {
  return process.env.CI === 'true' || process.env.READ_MODELS_TEST_URL !== undefined || existsSync('/usr/lib/postgresql') || existsSync('/usr/local/pgsql');
}

/** describe() when PostgreSQL is there; otherwise skipped, saying so. */
export function describeWithPostgres(name: string, body: () => void): void {
  if (postgresInstalled()) {
    describe(name, body);
    return;
  }
  console.warn(`\n*** SKIPPED: "${name}" needs PostgreSQL, and none is installed here (set READ_MODELS_TEST_URL to use one). CI never skips it. ***\n`);
  describe.skip(`${name} [skipped: no PostgreSQL installed here; set READ_MODELS_TEST_URL]`, body);
}

/**
 * Drops a test's read-side schema with what rebuilds made beside it: its `_rebuild` shadow, and
 * `_retired_<ms>` schemas a swap could not drop while a session still read them.
 */
export async function dropReadSideSchemas(client: Pick<Pool, 'query'>, schema: string): Promise<void> {
  const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname = $1 || '_rebuild' OR nspname ~ ('^' || $1 || '_retired_[0-9]+$')`, [schema]);
  for (const { nspname } of rows) await client.query(`DROP SCHEMA IF EXISTS ${nspname} CASCADE`);
}

let counter = 0;
/** A schema name no other test file or worker uses. */
export const uniqueSchema = (prefix = 't') => `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;

/**
 * A pool and a migrated read-side schema of this describe block's own: made before its tests,
 * dropped (with the pool ended) after them. Call it in a describeWithPostgres body.
 */
export function migratedTestSchema(prefix: string, max = 2): { readonly pool: Pool; readonly schema: string } {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max });
  const schema = uniqueSchema(prefix);
  beforeAll(async () => {
    const client = await pool.connect();
    try {
      await migrateReadSide(client, schema);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await dropReadSideSchemas(pool, schema);
    await pool.end();
  });
  return { pool, schema };
}

/**
 * A read side in its own schema, loaded from events the way the projector writes them (in
 * batches of the given sizes, cycled), with the PostgreSQL queries over it.
 */
export class PostgresTestReadSide {
  readonly pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 3 });
  readonly schema = uniqueSchema('readside');
  private position = 0;

  async reset(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      await migrateReadSide(client, this.schema);
    } finally {
      client.release();
    }
  }

  /**
   * `deferredUntil`: the batches before it are folded as a long first fold does (the query indexes
   * dropped, the summaries waiting), then the indexes and summaries are made and the rest kept
   * batch by batch; `restartAt`: a new writer takes over before that batch, as after a crash;
   * `endLostAfter`: the end of that first fold loses its second connection part way (restoreIndexes).
   * `cacheSize`: records the writer keeps between batches; `onBatch`: called after each.
   */
  async load(
    events: readonly ProjectedEvent[],
    batchSizes: readonly number[] = [50],
    options: { deferredUntil?: number; restartAt?: number; endLostAfter?: number; cacheSize?: number; onBatch?: (writer: ReadSideWriter) => void } = {},
  ): Promise<PostgresAnalyticsQueries> {
    const client = await this.pool.connect();
    try {
      // The writer's own reset: every table it keeps, emptied (a table added later included).
      const newWriter = () => new ReadSideWriter(client, this.schema, options.cacheSize);
      let writer = newWriter();
      await writer.reset('test-log');
      const deferred = options.deferredUntil !== undefined;
      if (deferred) {
        await deferQueryIndexes(client, this.schema);
        writer.deferSummaries();
      }
      let at = 0;
      for (let i = 0; at < events.length; i++) {
        if (i === options.restartAt) {
          writer = newWriter();
          await writer.load();
        }
        if (deferred && i === options.deferredUntil) writer = await this.restoreIndexes(client, writer, options.endLostAfter);
        const size = Math.max(1, batchSizes[i % batchSizes.length]!);
        const batch = events.slice(at, at + size);
        at += size;
        await writer.apply(batch, batch[batch.length - 1]!.position, 'test-log');
        options.onBatch?.(writer);
      }
      if (deferred) writer = await this.restoreIndexes(client, writer, options.endLostAfter);
      this.position = writer.position;
    } finally {
      client.release();
    }
    const position = this.position;
    // The search's scan in pages of 2 then 3 rows: the contract's small logs span several, and a page may end on the last match.
    return new PostgresAnalyticsQueries(this.pool, this.schema, { position: () => position, waitFor: async (p) => position >= p, status: () => [] }, { searchPageRows: { first: 2, next: 3 } });
  }

  /** Every index and constraint of the schema, each as its definition (compared whole: a key made again must be the same key). */
  async indexDefinitions(): Promise<string[]> {
    const { rows } = await this.pool.query<{ definition: string }>(
      `SELECT indexdef AS definition FROM pg_indexes WHERE schemaname = $1
       UNION ALL SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
       ORDER BY 1`,
      [this.schema],
    );
    return rows.map((row) => row.definition);
  }

  /**
   * As the projector does at the end of a long first fold: on its connection and a second one.
   * `lostAfter`: the second connection is lost after that many statements (its transaction rolled
   * back), so the end of the fold stops part way, and a new writer then does it again, as the
   * projector's next start would.
   */
  private async restoreIndexes(client: PoolClient, writer: ReadSideWriter, lostAfter?: number): Promise<ReadSideWriter> {
    const second = await this.pool.connect();
    try {
      if (lostAfter === undefined) {
        await restoreQueryIndexes(client, this.schema, writer, second);
        return writer;
      }
      let statements = 0;
      const losing = {
        query: async (...args: Parameters<PoolClient['query']>) => {
          if (statements++ < lostAfter) return (second.query as (...a: unknown[]) => Promise<unknown>)(...args);
          await second.query('ROLLBACK'); // what PostgreSQL does with the transaction of a lost connection
          throw new Error('connection lost (test)');
        },
      } as unknown as PoolClient;
      const stopped = await restoreQueryIndexes(client, this.schema, writer, losing).then(
        () => false,
        () => true,
      );
      if (!stopped) return writer;
      const restarted = new ReadSideWriter(client, this.schema);
      await restarted.load();
      await restoreQueryIndexes(client, this.schema, restarted, second);
      return restarted;
    } finally {
      second.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await this.pool.end();
  }
}
