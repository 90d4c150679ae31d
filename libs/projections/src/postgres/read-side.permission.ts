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
  /** The live schema's owner, when the role may not rename it (a rebuild's swap): set only for that refusal. */
  readonly owner?: string;
}

/** READ_MODELS_URL's role may not create or change the read side's schema or tables. */
export class ReadSideNotPermittedError extends Error {
  constructor(readonly refused: NotPermitted) {
    const { role, database, schema, schemaExists, reason, owner } = refused;
    const [r, d, s] = [sqlName(role), sqlName(database), sqlName(schema)];
    const grant = `GRANT CREATE ON DATABASE ${d} TO ${r}`;
    super(
      owner !== undefined
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
 * Refuses a rebuild, before its fold, when the role may not rename the live schema away at the swap
 * (nor drop it after): PostgreSQL lets only its owner (or a member of the owner's role) do that,
 * and would say "must be owner of schema" only once the whole log had been folded.
 */
export async function assertMaySwapIn(client: ClientBase, live: string): Promise<void> {
  const { rows } = await client.query<{ role: string; database: string; owner: string; owns: boolean }>(
    `SELECT current_user AS role, current_database() AS database, pg_get_userbyid(nspowner) AS owner, pg_has_role(current_user, nspowner, 'USAGE') AS owns FROM pg_namespace WHERE nspname = $1`,
    [live],
  );
  const row = rows[0];
  if (row === undefined || row.owns) return; // none yet: the swap's rename makes the rebuilt schema, the role's own, the live one
  throw new ReadSideNotPermittedError({ role: row.role, database: row.database, schema: live, schemaExists: true, owner: row.owner, reason: 'only the owner of a schema may rename or drop it, which the swap does' });
}
