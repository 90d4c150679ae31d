import type { ClientBase } from 'pg';

// Which PostgreSQL schema names the read side may take. It creates its schema, and a rebuild
// makes `<schema>_rebuild` and `<schema>_retired_<time>`, swaps them and drops the old one whole
// (DROP SCHEMA … CASCADE): a name PostgreSQL keeps for itself, or one everybody's tables share,
// would lose other people's tables; a name ending like the rebuild's own would be one deployment's
// shadow of another's.

/** A plain lower-case identifier, so it needs no quoting anywhere. */
export const READ_SIDE_SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * The words PostgreSQL's grammar will not take as an unquoted schema name (pg_get_keywords()'s
 * reserved and type/function-name keywords, as of PostgreSQL 17): the read side writes its schema's
 * name unquoted, so one of these would fail start-up on a syntax error instead of naming the setting.
 */
const RESERVED_WORDS: ReadonlySet<string> = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column concurrently ' +
    'constraint create cross current_catalog current_date current_role current_schema current_time current_timestamp current_user default ' +
    'deferrable desc distinct do else end except false fetch for foreign freeze from full grant group having ilike in initially inner ' +
    'intersect into is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on only or order ' +
    'outer overlaps placing primary references returning right select session_user similar some symmetric system_user table tablesample ' +
    'then to trailing true union unique user using variadic verbose when where window with'
  ).split(' '),
);

/** Why `schema` cannot be the read side's, or undefined when it can. */
export function readSideSchemaProblem(schema: string): string | undefined {
  if (!READ_SIDE_SCHEMA_PATTERN.test(schema)) return 'must be a lower-case identifier of letters, digits and "_" (at most 40, not starting with a digit), e.g. stagecraft';
  if (RESERVED_WORDS.has(schema)) return 'is a word PostgreSQL reserves, which it takes as a schema name only quoted; choose another name, e.g. stagecraft';
  if (schema === 'public' || schema === 'information_schema' || schema.startsWith('pg_')) {
    return "is one of PostgreSQL's own or shared schemas; a rebuild replaces the read side's schema whole, so it needs one of its own, e.g. stagecraft";
  }
  if (/_rebuild$|_retired_\d*$/.test(schema)) return 'ends as the schemas a rebuild makes and drops (_rebuild, _retired_<time>); choose another name';
  return undefined;
}

/**
 * Tables the first migrations made, never renamed (a shipped migration is never edited): a schema
 * holding them all is the read side's own, whatever else it lost.
 */
const FIRST_READ_SIDE_TABLES = ['checkpoint', 'opportunities', 'processes', 'stages'] as const;

/** READ_MODELS_SCHEMA names a schema that holds what the read side did not make. */
export class ReadSideSchemaTakenError extends Error {
  constructor(
    readonly schema: string,
    readonly found: readonly string[],
  ) {
    const listed = found.length > 5 ? `${found.slice(0, 5).join(', ')} and ${found.length - 5} more` : found.join(', ');
    super(`the schema ${schema} already holds ${listed}, which Stagecraft did not make: it needs a schema of its own (it creates it, and a rebuild replaces it whole), so name another one`);
    this.name = 'ReadSideSchemaTakenError';
  }
}

/**
 * The read side's own schema holds its tables without schema_migrations, their record of the
 * migrations applied (dropped by hand). Its own class, not ReadSideSchemaTakenError: the setting
 * names the right schema, so the start-up line must not blame READ_MODELS_SCHEMA.
 */
export class ReadSideUnrecordedError extends Error {
  constructor(readonly schema: string) {
    // Not "did not make, name another": they are Stagecraft's, and which migrations they have can no longer be told.
    super(
      `the schema ${schema} holds the read side's tables, but not schema_migrations, its record of the migrations applied to them (dropped by hand?): without it no migration can be known to be there or not. The read models are derived from the event log: drop the schema (DROP SCHEMA ${schema} CASCADE) and start again to build them anew, or restore schema_migrations from a backup of this database`,
    );
    this.name = 'ReadSideUnrecordedError';
  }
}

/**
 * Refuses, before anything is created in it or dropped, a schema that exists and holds tables,
 * views or sequences but not the read side's own record of its migrations (schema_migrations with
 * version, name and applied_at): another application's schema, named by mistake. Absent or empty
 * is fine.
 */
export async function assertReadSideSchema(client: ClientBase, schema: string): Promise<void> {
  const { rows } = await client.query<{ name: string; ours: boolean }>(
    `SELECT c.relname AS name,
       (SELECT count(*) FROM information_schema.columns k WHERE k.table_schema = $1 AND k.table_name = 'schema_migrations' AND k.column_name IN ('version', 'name', 'applied_at')) = 3 AS ours
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') ORDER BY c.relname`,
    [schema],
  );
  if (rows.length === 0 || rows[0]!.ours) return;
  const found = rows.map((row) => row.name);
  if (FIRST_READ_SIDE_TABLES.every((table) => found.includes(table))) throw new ReadSideUnrecordedError(schema);
  throw new ReadSideSchemaTakenError(schema, found);
}
