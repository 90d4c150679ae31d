import type { ClientBase } from 'pg';
import { LEARNED_NOTE, rebuildLearnedSql } from './read-side.learned';
import { rebuildSummariesSql, SUMMARIES_NOTE, summaryPieces } from './read-side.summaries';

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

/**
 * The tables a fold writes row by row, VACUUMed before the indexes are made: it sets their rows'
 * hint bits and visibility once, so the index builds and the summaries that then read them all do
 * not (each would dirty every page it reads first), and with only their primary keys it has
 * little index work. ANALYZE gives the summaries' plans the statistics a catch-up has not gathered.
 */
const FOLDED_TABLES = ['board_segments', 'stage_visits', 'transitions', 'opportunities', 'outcomes', 'deal_setbacks', 'stage_duration_buckets'] as const;
/** The tables the end of the fold writes (summaries, duration counts, learned labels), VACUUMed last. */
const COMPUTED_TABLES = ['stage_duration_dim_buckets', 'stage_duration_month_buckets', 'transition_summary', 'win_loss_summary', 'funnel_summary', 'win_probability_labels', 'win_probability_daily'] as const;

/**
 * Creates every index noted in `deferred_indexes`, and computes what the notes of the summaries
 * and of the learned tables wait for (none: nothing to do). With a `second` connection the work is
 * shared between the two, each taking the next piece as it finishes one, longest first: the
 * GiST index, the computed tables, then the other indexes, largest table first. PostgreSQL then works on both
 * cores while the projector's own thread is idle (at 1M events this step is about a third of a
 * first fold). The summaries are computed in pieces (`summaryPieces`), and their note goes, and
 * the writer keeps them from then on, once every piece has committed. VACUUMs wait for every
 * index: a VACUUM and an index build on one table would wait for each other.
 */
export async function restoreQueryIndexes(client: ClientBase, schema: string, summaries: { summariesKept(): void }, second?: ClientBase): Promise<number> {
  const { rows } = await client.query<{ index_name: string; definition: string; table_bytes: string | null }>(
    `SELECT d.index_name, d.definition, pg_relation_size(to_regclass(substring(d.definition FROM ' ON (?:ONLY )?(\\S+) USING'))) AS table_bytes
     FROM ${schema}.deferred_indexes d ORDER BY 3 DESC NULLS LAST, 1`,
  );
  if (rows.length === 0) return 0;
  const summariesWait = rows.some((row) => row.index_name === SUMMARIES_NOTE);
  const notes = rows.filter((row) => row.index_name !== SUMMARIES_NOTE);
  const noted = (note: (typeof notes)[number]) => (lane: ClientBase) => runNoted(lane, schema, note.index_name, note.definition);
  // Longest first, so that no lane is left with a long piece while the other idles: a GiST index
  // (board periods: ~5× a B-tree of the same table, the longest piece of all at 1M events), then
  // the computed tables, then the B-trees, largest table first.
  const isGist = (note: (typeof notes)[number]) => / USING gist /i.test(note.definition);
  const pieces = [
    ...notes.filter((note) => note.table_bytes !== null && isGist(note)).map(noted),
    ...notes.filter((note) => note.table_bytes === null).map(noted), // the learned tables: no index definition, no table size
    ...(summariesWait ? summaryPieces(schema).map((piece) => (lane: ClientBase) => inTransaction(lane, () => lane.query(piece.sql))) : []),
    ...notes.filter((note) => note.table_bytes !== null && !isGist(note)).map(noted),
  ];
  const lanes = second ? [client, second] : [client];
  const vacuum = (lane: ClientBase, table: string) => lane.query(`VACUUM (ANALYZE) ${schema}.${table}`).then(() => undefined);
  await shareAmong(lanes, FOLDED_TABLES, vacuum);
  await everyLane(lanes, (lane) => lane.query(`SET maintenance_work_mem = '256MB'`));
  await shareAmong(lanes, pieces, (lane, piece) => piece(lane));
  await everyLane(lanes, (lane) => lane.query('RESET maintenance_work_mem'));
  if (summariesWait) {
    await client.query(`DELETE FROM ${schema}.deferred_indexes WHERE index_name = $1`, [SUMMARIES_NOTE]);
    summaries.summariesKept();
  }
  await shareAmong(lanes, COMPUTED_TABLES, vacuum);
  return rows.length;
}

/**
 * Runs what a note in `deferred_indexes` defines and removes the note, in one transaction: killed
 * in between, the note is still there and the work is done again on the next start.
 */
export async function runNoted(client: ClientBase, schema: string, name: string, definition: string): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(definition);
    await client.query(`DELETE FROM ${schema}.deferred_indexes WHERE index_name = $1`, [name]);
  });
}

/** Runs `work`'s statements on `client` in one transaction. */
async function inTransaction(client: ClientBase, work: () => Promise<unknown>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Runs `work` on each item, each lane taking the next one as it finishes one; waits for every lane (everyLane). */
async function shareAmong<T>(lanes: readonly ClientBase[], items: readonly T[], work: (lane: ClientBase, item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await everyLane(lanes, async (lane) => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(lane, item);
  });
}

/** Runs `work` on each connection at once; waits for all of them before it throws the first failure (none is left mid-statement). */
async function everyLane(lanes: readonly ClientBase[], work: (lane: ClientBase) => Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(lanes.map((lane) => work(lane)));
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
