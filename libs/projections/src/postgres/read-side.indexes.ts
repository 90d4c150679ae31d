import type { ClientBase } from 'pg';
import { LEARNED_NOTE, rebuildLearnedSql } from './read-side.learned';
import { rebuildSummariesSql, SUMMARIES_NOTE } from './read-side.summaries';

// Folding a long log from position 0 (a first start, a rebuild into the shadow schema) writes
// millions of rows; every non-unique index (they only serve the queries: the writer looks rows up
// by primary key) makes each of those writes dearer, the GiST index of board periods most. So such
// a catch-up drops them first, noting their definitions in `deferred_indexes` in the same
// transaction, and creates them again, each in one transaction with the removal of its note,
// before it reports caught up. A projector killed meanwhile finds the notes on its next start and
// creates them when it has caught up: a schema is never left without its indexes once serving.
// The summary tables (read-side.summaries.ts) wait the same way, under a note of their own, and
// the writer, told so, writes no deltas until it has computed them (`restoreSummaries`).

/** Below this many events to fold, dropping and rebuilding the indexes costs more than it saves. */
export const DEFER_INDEXES_FROM = 50_000;

/** Drops the schema's non-unique indexes, remembering how to make them again. */
export async function deferQueryIndexes(client: ClientBase, schema: string): Promise<number> {
  await client.query('BEGIN');
  try {
    const { rows } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
       JOIN pg_index x ON x.indexrelid = c.oid WHERE i.schemaname = $1 AND NOT x.indisunique ORDER BY i.indexname`,
      [schema],
    );
    for (const { indexname, indexdef } of rows) {
      await client.query(`INSERT INTO ${schema}.deferred_indexes (index_name, definition) VALUES ($1, $2) ON CONFLICT (index_name) DO NOTHING`, [indexname, indexdef]);
      await client.query(`DROP INDEX ${schema}.${quoteIdent(indexname)}`);
    }
    // The summary tables are not kept meanwhile either (each batch would re-add its deals' rows):
    // the note stops the writer keeping them and the queries reading them; they are computed once at the end.
    await client.query(`INSERT INTO ${schema}.deferred_indexes (index_name, definition) VALUES ($1, $2) ON CONFLICT (index_name) DO NOTHING`, [SUMMARIES_NOTE, rebuildSummariesSql(schema)]);
    // Nor are the learned win probability's daily counts and labels (read-side.learned.ts).
    await client.query(`INSERT INTO ${schema}.deferred_indexes (index_name, definition) VALUES ($1, $2) ON CONFLICT (index_name) DO NOTHING`, [LEARNED_NOTE, rebuildLearnedSql(schema)]);
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Tables VACUUMed once the indexes are made: it marks their pages all-visible, so the queries can answer from the indexes alone. */
const VACUUMED = ['stage_visits', 'stage_duration_buckets', 'stage_duration_dim_buckets', 'stage_duration_month_buckets', 'board_segments', 'transitions', 'opportunities', 'outcomes', 'transition_summary', 'win_loss_summary', 'funnel_summary'] as const;

/**
 * Creates every index noted in `deferred_indexes` (none: nothing to do); the summaries' note is
 * the writer's to end. With a `second` connection the work is shared between the two, each taking
 * the next piece as it finishes one (largest tables first, the summaries on `client`): PostgreSQL
 * then builds two at once, on the projector's otherwise idle connections, where one at a time left
 * a core idle (at 1M events this step is about a quarter of a first fold). VACUUMs wait for every
 * index: a VACUUM and an index build on one table would wait for each other.
 */
export async function restoreQueryIndexes(
  client: ClientBase,
  schema: string,
  summaries: { restoreSummaries(definition: string): Promise<void> },
  second?: ClientBase,
): Promise<number> {
  const { rows } = await client.query<{ index_name: string; definition: string; table_bytes: string | null }>(
    `SELECT d.index_name, d.definition, pg_relation_size(to_regclass(substring(d.definition FROM ' ON (?:ONLY )?(\\S+) USING'))) AS table_bytes
     FROM ${schema}.deferred_indexes d ORDER BY 3 DESC NULLS LAST, 1`,
  );
  if (rows.length === 0) return 0;
  const summaryNote = rows.find((row) => row.index_name === SUMMARIES_NOTE);
  const indexes = rows.filter((row) => row !== summaryNote);
  const lanes = second ? [client, second] : [client];
  await everyLane(lanes, async (lane, index) => {
    await lane.query(`SET maintenance_work_mem = '256MB'`);
    if (index === 0 && summaryNote) await summaries.restoreSummaries(summaryNote.definition);
    for (let next = indexes.shift(); next; next = indexes.shift()) await runNoted(lane, schema, next.index_name, next.definition);
    await lane.query('RESET maintenance_work_mem');
  });
  const tables = [...VACUUMED];
  await everyLane(lanes, async (lane) => {
    for (let table = tables.shift(); table; table = tables.shift()) await lane.query(`VACUUM (ANALYZE) ${schema}.${table}`);
  });
  return rows.length;
}

/**
 * Runs what a note in `deferred_indexes` defines and removes the note, in one transaction: killed
 * in between, the note is still there and the work is done again on the next start.
 */
export async function runNoted(client: ClientBase, schema: string, name: string, definition: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(definition);
    await client.query(`DELETE FROM ${schema}.deferred_indexes WHERE index_name = $1`, [name]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs `work` on each connection at once; waits for all of them before it throws the first failure (none is left mid-statement). */
async function everyLane(lanes: readonly ClientBase[], work: (lane: ClientBase, index: number) => Promise<void>): Promise<void> {
  const results = await Promise.allSettled(lanes.map((lane, index) => work(lane, index)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
