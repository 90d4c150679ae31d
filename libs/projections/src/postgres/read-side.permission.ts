import { escapeIdentifier, type ClientBase } from 'pg';

// A role a DBA made for Stagecraft may lack a right the read side needs: CREATE on the database
// (it creates its schema, and each rebuild creates `<schema>_rebuild` beside it and renames the two),
// or ownership of a schema made for it. PostgreSQL says only "permission denied for database x";
// start-up (and a rebuild) says which role lacks what, and the statement that gives it.

/** Names in the statements to run: quoted when PostgreSQL would otherwise fold or refuse them. */
const sqlName = (name: string) => (/^[a-z_][a-z0-9_$]*$/.test(name) ? name : escapeIdentifier(name));

export interface NotPermitted {
  readonly role: string;
  readonly database: string;
  readonly schema: string;
  /** Whether the schema was there already (made by someone else), or was to be created. */
  readonly schemaExists: boolean;
  /** PostgreSQL's own words. */
  readonly reason: string;
  /** The live schema's owner, when the role may not rename it (a rebuild's swap): set only for that refusal (and `table`'s). */
  readonly owner?: string;
  /** A table of the live schema the swap reads and the role may not (another role, `owner`, owns it): set only for that refusal. */
  readonly table?: string;
}

/** READ_MODELS_URL's role may not create or change the read side's schema or tables. */
export class ReadSideNotPermittedError extends Error {
  constructor(readonly refused: NotPermitted) {
    const { role, database, schema, schemaExists, reason, owner, table } = refused;
    const [r, d, s] = [sqlName(role), sqlName(database), sqlName(schema)];
    const grant = `GRANT CREATE ON DATABASE ${d} TO ${r}`;
    super(
      owner !== undefined && table !== undefined
        ? `the PostgreSQL role ${role} may not swap a rebuilt schema in for ${schema}: the swap reads ${schema}.${table}, which ${owner} owns: ${reason}. Make ${role} its owner with ALTER TABLE ${s}.${sqlName(table)} OWNER TO ${r} (run as ${owner} or a superuser), then rebuild`
        : owner !== undefined
        ? `the PostgreSQL role ${role} may not swap a rebuilt schema in for ${schema}, which ${owner} owns: ${reason}. Make ${role} its owner with ALTER SCHEMA ${s} OWNER TO ${r} (run as ${owner} or a superuser), then rebuild`
        : // A rebuild's shadow (no read side's own schema ends so: read-side.schema-name.ts): dropped and made anew by each rebuild.
        /_rebuild$/.test(schema)
        ? `the PostgreSQL role ${role} may not create the rebuild's schema ${schema} in database ${database} (${reason}): a rebuild needs ${grant} (it makes ${schema} anew and swaps it in by renaming)`
        : schemaExists
        ? `the PostgreSQL role ${role} may not create or change the read side's tables in schema ${schema} of database ${database} (${reason}): make it the schema's owner with ALTER SCHEMA ${s} OWNER TO ${r} (and its tables'), and for rebuilds ${grant} (each creates ${schema}_rebuild and swaps it in)`
        : `the PostgreSQL role ${role} may not create the read side's schema ${schema} in database ${database} (${reason}): give it the right with ${grant} (each rebuild also creates ${schema}_rebuild there), or have the schema made for it with CREATE SCHEMA ${s} AUTHORIZATION ${r}`,
    );
    this.name = 'ReadSideNotPermittedError';
  }
}

/** `error` as a ReadSideNotPermittedError when PostgreSQL refused it for a missing right (42501); else `error` itself. */
export async function explainNotPermitted(client: ClientBase, schema: string, error: unknown): Promise<unknown> {
  if ((error as { code?: unknown } | null)?.code !== '42501') return error;
  try {
    const { rows } = await client.query<{ role: string; database: string; exists: boolean }>(
      'SELECT current_user AS role, current_database() AS database, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists',
      [schema],
    );
    const { role, database, exists } = rows[0]!;
    return new ReadSideNotPermittedError({ role, database, schema, schemaExists: exists, reason: (error as Error).message });
  } catch {
    return error;
  }
}

/**
 * The live schema's tables the swap reads (postgres.projector.ts, rebuildIntoShadow): its checkpoint,
 * for the revision readers cache the catalog by. Everything else the swap does to the live schema
 * is its owner's (the renames; the drop after, which takes every table whoever owns it) or refused
 * one object at a time with a warning (a DBA's objects moved, views re-pointed).
 */
const SWAP_READS = ['checkpoint'];

/**
 * Refuses a rebuild, before its fold, when the role may not do what the swap does to the live
 * schema: rename it away (and drop it after), which PostgreSQL lets only its owner (or a member of
 * the owner's role) do; read its tables that the swap reads, which a schema given to the role after
 * another role made its tables does not let it. PostgreSQL would say so only once the whole log
 * had been folded.
 */
export async function assertMaySwapIn(client: ClientBase, live: string): Promise<void> {
  const { rows } = await client.query<{ role: string; database: string; owner: string; owns: boolean }>(
    `SELECT current_user AS role, current_database() AS database, pg_get_userbyid(nspowner) AS owner, pg_has_role(current_user, nspowner, 'USAGE') AS owns FROM pg_namespace WHERE nspname = $1`,
    [live],
  );
  const row = rows[0];
  if (row === undefined) return; // none yet: the swap's rename makes the rebuilt schema, the role's own, the live one
  if (!row.owns) throw new ReadSideNotPermittedError({ role: row.role, database: row.database, schema: live, schemaExists: true, owner: row.owner, reason: 'only the owner of a schema may rename or drop it, which the swap does' });
  const unread = await client.query<{ table: string; owner: string }>(
    `SELECT c.relname AS table, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND NOT has_table_privilege(c.oid, 'SELECT') ORDER BY c.relname`,
    [live, SWAP_READS],
  );
  const table = unread.rows[0];
  if (table === undefined) return;
  throw new ReadSideNotPermittedError({ role: row.role, database: row.database, schema: live, schemaExists: true, owner: table.owner, table: table.table, reason: `${row.role} may not read it (no SELECT on it)` });
}
