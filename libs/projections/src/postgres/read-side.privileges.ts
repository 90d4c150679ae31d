import type { Client } from 'pg';
import { refusalOf } from './read-side.savepoint';

// A rebuild swaps a new schema in for the live one: every object in it is new, so the privileges a
// DBA gave on the live one (an analysts' role reading the tables, a column kept from them, a
// function's EXECUTE taken from PUBLIC, default privileges for the tables a later migration
// adds) would silently be gone, and the analysts would get "permission denied" after each rebuild.
// So the swap first makes each object of the rebuilt schema carry exactly the privileges of its
// live namesake: what the rebuilt one has and the live one does not is revoked, what the live one
// has is granted. Both are compared as written out (aclexplode), a NULL ACL read as the default
// it stands for (acldefault), so a function left at its default keeps PUBLIC's EXECUTE and one
// a DBA took it from does not get it back. The objects' owner keeps what ownership gives.

/** Object kinds with an ACL in pg_class, and the word GRANT uses for each. */
const RELATION_KINDS = `('r', 'p', 'v', 'm', 'f', 'S')`;

/**
 * Lines of `GRANT`/`REVOKE` that make the objects of `to` carry the privileges of their
 * namesakes in `from`: the schema, its tables, views and sequences, their columns, and its
 * functions. Objects of `to` with no namesake in `from` (a table this version adds) keep theirs.
 */
const PRIVILEGE_STATEMENTS = `
WITH spaces AS (
  SELECT f.oid AS from_oid, t.oid AS to_oid, t.nspname AS to_name FROM pg_namespace f, pg_namespace t WHERE f.nspname = $1 AND t.nspname = $2
),
relations AS (
  SELECT f.oid AS from_oid, t.oid AS to_oid, f.relkind, quote_ident(s.to_name) || '.' || quote_ident(t.relname) AS name,
         f.relacl AS from_acl, f.relowner AS from_owner, t.relacl AS to_acl, t.relowner AS to_owner
  FROM spaces s JOIN pg_class f ON f.relnamespace = s.from_oid AND f.relkind IN ${RELATION_KINDS}
  JOIN pg_class t ON t.relnamespace = s.to_oid AND t.relname = f.relname AND t.relkind = f.relkind
),
objects AS (
  -- the schema itself
  SELECT 'n' AS kind, 'SCHEMA ' || quote_ident(s.to_name) AS target, f.nspacl AS from_acl, f.nspowner AS from_owner, t.nspacl AS to_acl, t.nspowner AS to_owner
  FROM spaces s JOIN pg_namespace f ON f.oid = s.from_oid JOIN pg_namespace t ON t.oid = s.to_oid
  UNION ALL
  -- tables, views, sequences (a sequence's ACL defaults as such)
  SELECT CASE WHEN relkind = 'S' THEN 's' ELSE 'r' END, CASE WHEN relkind = 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || name, from_acl, from_owner, to_acl, to_owner
  FROM relations
  UNION ALL
  -- functions, matched by name and argument types
  SELECT 'f', 'FUNCTION ' || quote_ident(s.to_name) || '.' || quote_ident(t.proname) || '(' || pg_get_function_identity_arguments(t.oid) || ')',
         f.proacl, f.proowner, t.proacl, t.proowner
  FROM spaces s JOIN pg_proc f ON f.pronamespace = s.from_oid
  JOIN pg_proc t ON t.pronamespace = s.to_oid AND t.proname = f.proname
   AND pg_get_function_identity_arguments(t.oid) = pg_get_function_identity_arguments(f.oid)
),
columns AS (
  -- a column with no ACL has no privilege of its own
  SELECT 'TABLE ' || r.name AS target, quote_ident(fa.attname) AS column_name, fa.attacl AS from_acl, ta.attacl AS to_acl
  FROM relations r JOIN pg_attribute fa ON fa.attrelid = r.from_oid AND fa.attnum > 0 AND NOT fa.attisdropped
  JOIN pg_attribute ta ON ta.attrelid = r.to_oid AND ta.attname = fa.attname AND NOT ta.attisdropped
  WHERE fa.attacl IS NOT NULL OR ta.attacl IS NOT NULL
),
entries AS (
  SELECT o.target, NULL::text AS column_name, 'from' AS side, a.grantee, a.privilege_type, a.is_grantable
  FROM objects o CROSS JOIN LATERAL aclexplode(coalesce(o.from_acl, acldefault(o.kind::"char", o.from_owner))) a WHERE a.grantee <> o.from_owner
  UNION ALL
  SELECT o.target, NULL, 'to', a.grantee, a.privilege_type, a.is_grantable
  FROM objects o CROSS JOIN LATERAL aclexplode(coalesce(o.to_acl, acldefault(o.kind::"char", o.to_owner))) a WHERE a.grantee <> o.to_owner
  UNION ALL
  SELECT c.target, c.column_name, 'from', a.grantee, a.privilege_type, a.is_grantable FROM columns c CROSS JOIN LATERAL aclexplode(c.from_acl) a
  UNION ALL
  SELECT c.target, c.column_name, 'to', a.grantee, a.privilege_type, a.is_grantable FROM columns c CROSS JOIN LATERAL aclexplode(c.to_acl) a
),
named AS (
  -- a privilege of a role dropped since is not given again
  SELECT e.*, CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS role,
         e.privilege_type || coalesce(' (' || e.column_name || ')', '') AS privilege
  FROM entries e LEFT JOIN pg_roles r ON r.oid = e.grantee
  WHERE e.grantee = 0 OR r.oid IS NOT NULL
)
SELECT statement FROM (
  SELECT 0 AS step, format('REVOKE %s ON %s FROM %s CASCADE', n.privilege, n.target, n.role) AS statement
  FROM named n WHERE n.side = 'to'
    AND NOT EXISTS (SELECT 1 FROM named f WHERE f.side = 'from' AND (f.target, f.privilege, f.grantee, f.is_grantable) = (n.target, n.privilege, n.grantee, n.is_grantable))
  UNION ALL
  SELECT 1, format('GRANT %s ON %s TO %s%s', n.privilege, n.target, n.role, CASE WHEN n.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM named n WHERE n.side = 'from'
    AND NOT EXISTS (SELECT 1 FROM named t WHERE t.side = 'to' AND (t.target, t.privilege, t.grantee, t.is_grantable) = (n.target, n.privilege, n.grantee, n.is_grantable))
) s ORDER BY step, statement`;

/**
 * The live schema's default privileges (ALTER DEFAULT PRIVILEGES … IN SCHEMA), each as the
 * statement that gives it on the rebuilt schema: they are kept per schema, so a rebuild would lose
 * what a DBA set for the tables a later version's migration adds.
 */
const DEFAULT_PRIVILEGE_STATEMENTS = `
SELECT format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO %s%s',
  owner.rolname, $2::text, a.privilege_type,
  CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' END,
  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(grantee.rolname) END,
  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END) AS statement
FROM pg_default_acl d
JOIN pg_namespace n ON n.oid = d.defaclnamespace AND n.nspname = $1
JOIN pg_roles owner ON owner.oid = d.defaclrole
CROSS JOIN LATERAL aclexplode(d.defaclacl) a
LEFT JOIN pg_roles grantee ON grantee.oid = a.grantee
WHERE d.defaclobjtype IN ('r', 'S', 'f', 'T') AND (a.grantee = 0 OR grantee.oid IS NOT NULL)
ORDER BY 1`;

/**
 * Gives the objects of the schema `to` the privileges of their namesakes in `from`, and `from`'s
 * default privileges, in the caller's transaction (the swap's). Returns what could not be carried
 * (a default privilege for a role the projector's role is not a member of), each as the statement
 * an operator would run, so that the caller can say so.
 */
export async function carryPrivileges(client: Client, from: string, to: string): Promise<string[]> {
  const { rows } = await client.query<{ statement: string }>(PRIVILEGE_STATEMENTS, [from, to]);
  for (const { statement } of rows) await client.query(statement);
  const defaults = await client.query<{ statement: string }>(DEFAULT_PRIVILEGE_STATEMENTS, [from, to]);
  const notCarried: string[] = [];
  for (const { statement } of defaults.rows) {
    // Another role's defaults need its membership: a refusal must not undo the swap's transaction.
    if (await refusalOf(client, statement)) notCarried.push(statement);
  }
  return notCarried;
}

/** What an operator reads when default privileges could not be carried: the statements to run. */
export function privilegesNotCarriedMessage(live: string, shadow: string, statements: readonly string[]): string {
  const asLive = statements.map((statement) => statement.replace(` IN SCHEMA ${shadow} `, ` IN SCHEMA ${live} `));
  return `The rebuild swapped in schema ${live} without ${statements.length} of its default privileges (another role's, which this role is not a member of); run as that role: ${asLive.join('; ')}`;
}
