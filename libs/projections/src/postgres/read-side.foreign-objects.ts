import type { Client } from 'pg';
import { refusalOf } from './read-side.savepoint';
import { REPOINT_LOCK_WAIT_MS } from './read-side.dependent-views';

// What a DBA or an analyst added inside the read side's own schema: an index on stage_visits for
// their queries, a table of notes, a view, a function. A rebuild replaces the schema whole, so each
// was dropped with the old one, silently, data and all. The rebuild now takes them along: an index
// on one of the read side's tables is made again on the rebuilt table before the swap (a build
// that may take a while, so not while the live projector waits); every other object with no
// namesake in the rebuilt schema is moved into it in the swap's transaction (ALTER … SET SCHEMA:
// a table keeps its rows, indexes and grants). A moved view still reads the old tables, and is
// re-pointed with the analysts' views elsewhere (read-side.dependent-views.ts).

/** Indexes on the live schema's tables that the rebuilt schema lacks (by name), on a table it has. */
const FOREIGN_INDEXES = `
SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = $1 AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_class i2 JOIN pg_namespace n2 ON n2.oid = i2.relnamespace WHERE n2.nspname = $2 AND i2.relname = i.relname)
  AND EXISTS (SELECT 1 FROM pg_class t2 JOIN pg_namespace n2 ON n2.oid = t2.relnamespace WHERE n2.nspname = $2 AND t2.relname = t.relname)
ORDER BY i.relname`;

/**
 * The live schema's own relations and functions the rebuilt one has no namesake of, each with the
 * statement that moves it: tables (with their sequences), views, sequences no column owns, functions.
 */
const FOREIGN_OBJECTS = `
SELECT c.relname AS name,
       format('ALTER %s %I.%I SET SCHEMA %I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, $1::text, c.relname, $2::text) AS statement
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_class c2 JOIN pg_namespace n2 ON n2.oid = c2.relnamespace WHERE n2.nspname = $2 AND c2.relname = c.relname)
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT p.proname, format('ALTER ROUTINE %I.%I(%s) SET SCHEMA %I', $1::text, p.proname, pg_get_function_identity_arguments(p.oid), $2::text)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = $1
  AND NOT EXISTS (SELECT 1 FROM pg_proc p2 JOIN pg_namespace n2 ON n2.oid = p2.pronamespace WHERE n2.nspname = $2 AND p2.proname = p.proname
                  AND pg_get_function_identity_arguments(p2.oid) = pg_get_function_identity_arguments(p.oid))
ORDER BY 1`;

/**
 * Makes again on the rebuilt tables the indexes a DBA added to the live ones (before the swap, while
 * the live schema serves). Returns a warning for each that could not be, with its statement.
 */
export async function copyForeignIndexes(client: Client, live: string, shadow: string): Promise<string[]> {
  const warnings: string[] = [];
  await client.query('BEGIN');
  try {
    // Every name printed qualified, whatever search_path the role has.
    await client.query('SET LOCAL search_path = pg_catalog, pg_temp');
    const { rows } = await client.query<{ name: string; definition: string }>(FOREIGN_INDEXES, [live, shadow]);
    for (const { name, definition } of rows) {
      const statement = definition.replace(/ ON (ONLY )?([^ ]+)\./, (_, only: string | undefined) => ` ON ${only ?? ''}${shadow}.`);
      const refused = await refusalOf(client, statement);
      if (refused) warnings.push(`The index ${live}.${name}, which Stagecraft did not make, could not be made again on the rebuilt table (${refused.message}): it goes with the old schema; make it again with: ${definition}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
  return warnings;
}

/**
 * In the swap's transaction, before the renames: moves what else the live schema holds that the
 * read side did not make into the rebuilt one. Returns a warning for each that could not be moved.
 */
export async function moveForeignObjects(client: Client, live: string, shadow: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string; statement: string }>(FOREIGN_OBJECTS, [live, shadow]);
  if (rows.length === 0) return [];
  // Moving takes the object's lock, which a session that read it holds until its transaction ends:
  // bounded, as re-pointing a view is, for the swap holds the live projector meanwhile.
  await client.query(`SET LOCAL lock_timeout = '${REPOINT_LOCK_WAIT_MS}ms'`);
  const warnings: string[] = [];
  for (const { name, statement } of rows) {
    const refused = await refusalOf(client, statement);
    if (refused) warnings.push(`${live}.${name}, which Stagecraft did not make, could not be moved into the rebuilt schema (${refused.message}): it goes with the old schema; keep such objects in a schema of their own`);
  }
  await client.query('SET LOCAL lock_timeout = 0'); // the renames that follow wait as before
  return warnings;
}
