import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { describeWithPostgres, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { rebuildIntoShadow } from './postgres.projector';
import { migrateReadSide } from './read-side.migrations';

// A rebuild swaps new objects in for the live ones: what a DBA granted on the live schema (an
// analysts' role, a column kept from another, a function's EXECUTE taken from PUBLIC, default
// privileges) must be what the rebuilt schema carries, and analysts' views over it must read the
// rebuilt tables rather than be dropped with the old ones. The rebuild runs as a role that is not
// a superuser, as a projector's usually is.

/** Every privilege on the schema's objects and its default privileges, owner's included, by name (not by schema or OID). */
const PRIVILEGES_OF = `
WITH objects AS (
  SELECT 'schema' AS kind, NULL::text AS name, NULL::text AS column_name, coalesce(n.nspacl, acldefault('n', n.nspowner)) AS acl FROM pg_namespace n WHERE n.nspname = $1
  UNION ALL
  SELECT 'relation', c.relname::text, NULL, coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'S')
  UNION ALL
  SELECT 'column', c.relname::text, a.attname::text, a.attacl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
  WHERE n.nspname = $1 AND a.attacl IS NOT NULL
  UNION ALL
  SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL, coalesce(p.proacl, acldefault('f', p.proowner))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
  UNION ALL
  SELECT 'default ' || d.defaclobjtype::text || ' for ' || pg_get_userbyid(d.defaclrole), NULL, NULL, d.defaclacl
  FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = $1
)
SELECT o.kind || coalesce(' ' || o.name, '') || coalesce(' (' || o.column_name || ')', '') || ': ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
       || ' ' || a.privilege_type || CASE WHEN a.is_grantable THEN ' with grant option' ELSE '' END AS privilege
FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a ORDER BY 1`;

describeWithPostgres('a rebuild\'s swap keeps what analysts set up on the read side', () => {
  const admin = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
  const suffix = uniqueSchema('r');
  const [projector, analyst, clerk, other] = ['projector', 'analyst', 'clerk', 'other'].map((role) => `${role}_${suffix}`) as [string, string, string, string];
  const live = uniqueSchema('granted');
  const theirs = uniqueSchema('analysis');
  const database = new URL(POSTGRES_TEST_URL).pathname.slice(1) || 'postgres';
  const asProjector = (() => {
    const url = new URL(POSTGRES_TEST_URL);
    url.username = projector;
    url.password = '';
    return url.toString();
  })();
  const dir = mkdtempSync(join(tmpdir(), 'privileges-'));

  beforeAll(async () => {
    await admin.query(`CREATE ROLE ${projector} LOGIN; CREATE ROLE ${analyst}; CREATE ROLE ${clerk}; CREATE ROLE ${other}`);
    await admin.query(`GRANT CREATE ON DATABASE ${database} TO ${projector}`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${live} CASCADE; DROP SCHEMA IF EXISTS ${live}_rebuild CASCADE; DROP SCHEMA IF EXISTS ${theirs} CASCADE`);
    await admin.query(`REVOKE CREATE ON DATABASE ${database} FROM ${projector}`);
    for (const role of [projector, analyst, clerk, other]) await admin.query(`DROP OWNED BY ${role} CASCADE; DROP ROLE ${role}`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  const privileges = async (schema: string) => (await admin.query<{ privilege: string }>(PRIVILEGES_OF, [schema])).rows.map((row) => row.privilege);

  it('grants, column grants, a revoked PUBLIC EXECUTE, default privileges and views over it are kept; what cannot be is named', async () => {
    const client = new Client({ connectionString: asProjector });
    await client.connect();
    await admin.query(`CREATE SCHEMA ${theirs}; GRANT USAGE, CREATE ON SCHEMA ${theirs} TO ${projector}, ${other}`);
    try {
      await migrateReadSide(client as never, live);
      // Views of the analysts' own schema: over a table, over such a view, over a function; and a materialized one.
      await client.query(`
        CREATE VIEW ${theirs}.titles AS SELECT opportunity_id, title FROM ${live}.opportunities;
        CREATE VIEW ${theirs}.counted AS SELECT count(*) AS n FROM ${theirs}.titles;
        CREATE VIEW ${theirs}.bucket AS SELECT ${live}.duration_bucket(3600) AS bucket;
        CREATE MATERIALIZED VIEW ${theirs}.snapshot AS SELECT opportunity_id FROM ${live}.opportunities;
      `);
    } finally {
      await client.end();
    }
    // One the projector's role does not own: it cannot replace it.
    await admin.query(`CREATE VIEW ${theirs}.not_mine AS SELECT title FROM ${live}.opportunities; ALTER VIEW ${theirs}.not_mine OWNER TO ${other}; GRANT SELECT ON ${theirs}.titles TO ${analyst}`);
    const oidOf = async (name: string) => (await admin.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid AS oid`, [name])).rows[0]!.oid;
    const titlesView = await oidOf(`${theirs}.titles`);
    // What a DBA does for analysts, on the live schema (as a superuser, like most DBAs).
    await admin.query(`
      GRANT USAGE ON SCHEMA ${live} TO ${analyst}, ${clerk};
      GRANT SELECT ON ALL TABLES IN SCHEMA ${live} TO ${analyst};
      GRANT SELECT (opportunity_id, title) ON ${live}.opportunities TO ${clerk};
      REVOKE EXECUTE ON FUNCTION ${live}.duration_bucket(double precision) FROM PUBLIC;
      GRANT EXECUTE ON FUNCTION ${live}.duration_bucket(double precision) TO ${analyst} WITH GRANT OPTION;
      ALTER DEFAULT PRIVILEGES FOR ROLE ${projector} IN SCHEMA ${live} GRANT SELECT ON TABLES TO ${clerk};
      ALTER DEFAULT PRIVILEGES FOR ROLE ${other} IN SCHEMA ${live} GRANT SELECT ON TABLES TO ${analyst};
      -- given to every table the projector makes from now on, the rebuilt ones too: not the live ones
      ALTER DEFAULT PRIVILEGES FOR ROLE ${projector} GRANT INSERT ON TABLES TO ${clerk};
    `);
    const before = await privileges(live);
    const tableOid = async () => (await admin.query<{ oid: number }>(`SELECT '${live}.opportunities'::regclass::oid AS oid`)).rows[0]!.oid;
    const liveTable = await tableOid();
    // The test means something only if those grants are there to carry.
    expect(before).toEqual(expect.arrayContaining([
      `schema: ${analyst} USAGE`,
      `relation opportunities: ${analyst} SELECT`,
      `relation win_loss: ${analyst} SELECT`,
      `column opportunities (title): ${clerk} SELECT`,
      `function duration_bucket(seconds double precision): ${analyst} EXECUTE with grant option`,
      `default r for ${projector}: ${clerk} SELECT`,
      `default r for ${other}: ${analyst} SELECT`,
    ]));
    expect(before).not.toContain('function duration_bucket(seconds double precision): PUBLIC EXECUTE');

    const store = getSQLiteEventStore({ path: join(dir, 'events.db') });
    const warnings: string[] = [];
    try {
      await rebuildIntoShadow(store, { url: asProjector, schema: live }, { target: () => 0, swap: (swapIn) => swapIn(), logId: () => '', onWarning: (message) => warnings.push(message) });
    } finally {
      await store.close();
    }
    const after = await privileges(live);
    // The one thing this role may not give: another role's default privileges, named with the statement to run.
    expect(after).toEqual(before.filter((privilege) => !privilege.startsWith(`default r for ${other}:`)));

    // The views read the rebuilt tables, and are the same views (their grants, the view over one of them).
    expect(await oidOf(`${theirs}.titles`)).toBe(titlesView);
    const { rows: reads } = await admin.query<{ table: string }>(
      `SELECT DISTINCT d.refobjid::regclass::text AS table FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class = $1::regclass AND d.refobjid <> r.ev_class`,
      [`${theirs}.titles`],
    );
    expect(reads).toEqual([{ table: `${live}.opportunities` }]);
    expect((await admin.query(`SELECT has_table_privilege($1, $2, 'SELECT') AS granted`, [analyst, `${theirs}.titles`])).rows).toEqual([{ granted: true }]);
    expect((await admin.query(`SELECT n FROM ${theirs}.counted`)).rows).toEqual([{ n: '0' }]);
    expect((await admin.query(`SELECT bucket FROM ${theirs}.bucket`)).rows).toHaveLength(1);
    // Dropped with the old schema, each named with the statement that makes it again.
    expect(await oidOf(`${theirs}.snapshot`)).toBeNull();
    expect(await oidOf(`${theirs}.not_mine`)).toBeNull();
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringContaining(`ALTER DEFAULT PRIVILEGES FOR ROLE ${other} IN SCHEMA ${live} GRANT SELECT ON TABLES TO ${analyst}`),
      expect.stringContaining(`CREATE MATERIALIZED VIEW ${theirs}.snapshot AS  SELECT opportunities.opportunity_id\n   FROM ${live}.opportunities`),
      expect.stringMatching(new RegExp(`The view ${theirs}.not_mine .*could not be re-pointed.*CREATE VIEW ${theirs}.not_mine AS  SELECT opportunities.title\\n   FROM ${live}.opportunities`, 's')),
    ]));
    expect(warnings).toHaveLength(3);
    // The tables are new ones (else this proves nothing).
    expect(await tableOid()).not.toBe(liveTable);
  });
});
