import type { Client } from 'pg';
import { refusalOf } from './read-side.savepoint';

// Analysts build on the read side: a view in a schema of their own over `stagecraft.stage_visits`.
// PostgreSQL binds a view to the tables it read when it was made, not to their names, so after a
// rebuild's swap such a view would still read the old schema's tables, and the old schema's
// `DROP … CASCADE` would then drop it with them, silently. So the swap re-points each such view at
// the rebuilt tables (`CREATE OR REPLACE VIEW` with its own definition, the old schema's name
// replaced by the live one's): the view keeps its identity, so its grants and the views built on
// it stay. What cannot be re-pointed (a materialized view; a view the projector's role does not
// own; one whose columns the rebuilt tables no longer give; one a session holds, below) is
// dropped with the old schema, as before, and named with the statement that makes it again; so is
// anything else of another schema that depends on the old one (a function with a SQL-standard
// body, a foreign key), named.

/**
 * How long re-pointing one view waits for its lock. Replacing a view waits for every transaction
 * that read it to end, and the swap holds the live projector meanwhile: a BI tool left idle in a
 * transaction would otherwise hold the live read side for as long as it stays so.
 */
export const REPOINT_LOCK_WAIT_MS = 2_000;

/** Views and materialized views outside `schema` that read its tables, views or functions. */
const DEPENDENT_VIEWS = `
SELECT DISTINCT v.oid, quote_ident(vn.nspname) || '.' || quote_ident(v.relname) AS name, v.relkind = 'm' AS materialized,
       pg_get_viewdef(v.oid) AS definition, array_to_string(v.reloptions, ', ') AS options
FROM pg_depend d
JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class
JOIN pg_namespace vn ON vn.oid = v.relnamespace
WHERE vn.nspname <> $1 AND (
  (d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1))
  OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1)))
ORDER BY v.oid`;

/**
 * What else outside `schema` its drop takes with it, once the views are re-pointed: a function
 * with a SQL-standard body over its tables, a foreign key to them, a table inheriting one, a view
 * that could not be re-pointed (already named, so left out). Each as PostgreSQL names it.
 */
const OTHER_DEPENDENTS = `
SELECT DISTINCT o.type || ' ' || o.identity AS object
FROM pg_depend d
CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) o
-- a column's default, a trigger, a policy have no schema of their own: their table's
LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid
LEFT JOIN pg_policy pl ON d.classid = 'pg_policy'::regclass AND pl.oid = d.objid
LEFT JOIN pg_class owner ON owner.oid = coalesce(ad.adrelid, tg.tgrelid, pl.polrelid)
LEFT JOIN pg_namespace owner_space ON owner_space.oid = owner.relnamespace
WHERE d.deptype = 'n' AND d.classid <> 'pg_rewrite'::regclass AND coalesce(o.schema, owner_space.nspname) IS DISTINCT FROM $1 AND (
  (d.refclassid = 'pg_class'::regclass AND d.refobjid IN (SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1))
  OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid IN (SELECT p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1))
  OR (d.refclassid = 'pg_type'::regclass AND d.refobjid IN (SELECT t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1)))
ORDER BY 1`;

interface DependentView {
  readonly name: string;
  readonly materialized: boolean;
  readonly definition: string;
  readonly options: string | null;
}

/**
 * In the swap's transaction, once `retired` (the old schema) and `live` (the rebuilt one) bear
 * their new names: re-points the views of other schemas that read `retired` at `live`. Returns a
 * warning for each that could not be, with the statement to make it again once it is gone.
 */
export async function repointDependentViews(client: Client, retired: string, live: string): Promise<string[]> {
  // Every name printed qualified, so the definition reads the same objects whoever replays it.
  await client.query('SET LOCAL search_path = pg_catalog, pg_temp');
  await client.query(`SET LOCAL lock_timeout = '${REPOINT_LOCK_WAIT_MS}ms'`);
  const { rows } = await client.query<DependentView>(DEPENDENT_VIEWS, [retired]);
  const warnings: string[] = [];
  for (const view of rows) {
    const query = view.definition.replaceAll(`${retired}.`, `${live}.`).replace(/;\s*$/, '');
    const options = view.options ? ` WITH (${view.options})` : '';
    if (view.materialized) {
      warnings.push(`The materialized view ${view.name} reads the read side's tables and is dropped with the old schema (a materialized view cannot be re-pointed); make it again with: CREATE MATERIALIZED VIEW ${view.name}${options} AS ${query}`);
      continue;
    }
    const refused = await refusalOf(client, `CREATE OR REPLACE VIEW ${view.name}${options} AS ${query}`);
    if (refused) {
      warnings.push(`The view ${view.name} reads the read side's tables and could not be re-pointed at the rebuilt ones (${refused.message}): it is dropped with the old schema, with whatever depends on it; make it again (and give its grants again) with: CREATE VIEW ${view.name}${options} AS ${query}`);
    }
  }
  // Not views, so not re-pointed: said rather than dropped without a word.
  const others = await client.query<{ object: string }>(OTHER_DEPENDENTS, [retired]);
  for (const { object } of others.rows) {
    warnings.push(`The ${object} depends on the read side's old tables or functions and is dropped with the old schema (only views are re-pointed at the rebuilt ones): make it again over schema ${live}`);
  }
  return warnings;
}
