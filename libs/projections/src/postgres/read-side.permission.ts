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
}

/** READ_MODELS_URL's role may not create or change the read side's schema or tables. */
export class ReadSideNotPermittedError extends Error {
  constructor(readonly refused: NotPermitted) {
    const { role, database, schema, schemaExists, reason } = refused;
    const [r, d, s] = [sqlName(role), sqlName(database), sqlName(schema)];
    const grant = `GRANT CREATE ON DATABASE ${d} TO ${r}`;
    super(
      // A rebuild's shadow (no read side's own schema ends so: read-side.schema-name.ts): dropped and made anew by each rebuild.
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
