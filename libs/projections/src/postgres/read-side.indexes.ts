import type { ClientBase } from 'pg';
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
    await client.query('COMMIT');
    return rows.length;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Creates every index noted in `deferred_indexes` (none: nothing to do); the summaries' note is the writer's to end. */
export async function restoreQueryIndexes(client: ClientBase, schema: string, summaries: { restoreSummaries(definition: string): Promise<void> }): Promise<number> {
  const { rows } = await client.query<{ index_name: string; definition: string }>(`SELECT index_name, definition FROM ${schema}.deferred_indexes ORDER BY index_name`);
  if (rows.length === 0) return 0;
  await client.query(`SET maintenance_work_mem = '256MB'`);
  for (const { index_name, definition } of rows) {
    if (index_name === SUMMARIES_NOTE) {
      await summaries.restoreSummaries(definition);
      continue;
    }
    await client.query('BEGIN');
    try {
      await client.query(definition);
      await client.query(`DELETE FROM ${schema}.deferred_indexes WHERE index_name = $1`, [index_name]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
  await client.query('RESET maintenance_work_mem');
  // VACUUM too: it marks the pages all-visible, so the queries can answer from the indexes alone.
  await client.query(`VACUUM (ANALYZE) ${schema}.opportunities, ${schema}.stage_visits, ${schema}.outcomes, ${schema}.transitions, ${schema}.board_segments, ${schema}.win_loss_summary, ${schema}.funnel_summary, ${schema}.transition_summary`);
  return rows.length;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
