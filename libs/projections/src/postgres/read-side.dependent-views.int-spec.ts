import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { describeWithPostgres, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { rebuildIntoShadow } from './postgres.projector';
import { migrateReadSide } from './read-side.migrations';

// The swap runs while the live projector waits (between two of its batches). Re-pointing an
// analyst's view takes that view's lock, which any session that read it holds until its
// transaction ends: a BI tool left idle in a transaction must not hold the swap, and with it the
// live read side, for as long as it stays so.

describeWithPostgres('a rebuild\'s swap and a session reading an analyst\'s view', () => {
  const admin = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
  const live = uniqueSchema('held');
  const theirs = uniqueSchema('analysis');
  const live2 = uniqueSchema('kept');
  const theirs2 = uniqueSchema('notes');
  const live3 = uniqueSchema('added');
  const live4 = uniqueSchema('busy');
  const dir = mkdtempSync(join(tmpdir(), 'repoint-'));

  afterAll(async () => {
    for (const [schema, analysts] of [[live, theirs], [live2, theirs2], [live3, `${live3}_none`], [live4, `${live4}_none`]] as const) {
      await admin.query(`DROP SCHEMA IF EXISTS ${analysts} CASCADE; DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_rebuild CASCADE`);
      const { rows } = await admin.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${schema}_retired_%`]);
      for (const { nspname } of rows) await admin.query(`DROP SCHEMA ${nspname} CASCADE`);
    }
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Migrates `schema` as the read side does, then runs `sql` (what an analyst or a DBA made). */
  const readSideWith = async (schema: string, sql: string) => {
    const setup = await admin.connect();
    try {
      await migrateReadSide(setup as never, schema);
    } finally {
      setup.release();
    }
    await admin.query(sql);
  };

  /**
   * Rebuilds `schema` while a session that ran `read` stays idle in its transaction; the session
   * ends it once told (a warning), so the old schema's drop need not wait for it. Its warnings.
   */
  const rebuildWhileHeld = async (schema: string, read: string, storeFile: string): Promise<string[]> => {
    const analyst = new Client({ connectionString: POSTGRES_TEST_URL });
    await analyst.connect();
    await analyst.query(`BEGIN; ${read}`); // and then left idle
    const store = getSQLiteEventStore({ path: join(dir, storeFile) });
    const warnings: string[] = [];
    let released: Promise<unknown> | undefined;
    // Without a bound the swap waits for as long as the session stays idle: end it after a while, so the test fails instead of hanging.
    const guard = setTimeout(() => (released ??= analyst.query('COMMIT')), 15_000);
    try {
      await rebuildIntoShadow(store, { url: POSTGRES_TEST_URL, schema }, {
        target: () => 0,
        swap: (swapIn) => swapIn(),
        logId: () => '',
        onWarning: (message) => {
          warnings.push(message);
          released ??= analyst.query('COMMIT');
        },
      });
    } finally {
      clearTimeout(guard);
      await released;
      await analyst.end();
      await store.close();
    }
    return warnings;
  };

  /** Rebuilds `schema` (an empty log): its warnings. */
  const rebuild = async (schema: string, storeFile: string): Promise<string[]> => {
    const store = getSQLiteEventStore({ path: join(dir, storeFile) });
    const warnings: string[] = [];
    try {
      await rebuildIntoShadow(store, { url: POSTGRES_TEST_URL, schema }, { target: () => 0, swap: (swapIn) => swapIn(), logId: () => '', onWarning: (message) => warnings.push(message) });
    } finally {
      await store.close();
    }
    return warnings;
  };

  it('a view a session holds idle in a transaction is named, not waited for without end', async () => {
    await readSideWith(live, `CREATE SCHEMA ${theirs}; CREATE VIEW ${theirs}.titles AS SELECT opportunity_id, title FROM ${live}.opportunities`);
    const warnings = await rebuildWhileHeld(live, `SELECT * FROM ${theirs}.titles`, 'events.db');
    expect(warnings).toEqual([expect.stringContaining(`The view ${theirs}.titles reads the read side's tables and could not be re-pointed`)]);
    expect(warnings[0]).toContain(`CREATE VIEW ${theirs}.titles AS`);
  }, 30_000);

  it('what else of another schema the old schema\'s drop takes with it (a function over its tables, a foreign key to them) is named', async () => {
    await readSideWith(live2, `
      CREATE SCHEMA ${theirs2};
      CREATE FUNCTION ${theirs2}.open_deals() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT count(*) FROM ${live2}.opportunities; END;
      CREATE TABLE ${theirs2}.notes (opportunity_id text REFERENCES ${live2}.opportunities (opportunity_id), note text);
      CREATE VIEW ${theirs2}.titles AS SELECT opportunity_id, title FROM ${live2}.opportunities;
    `);
    const warnings = await rebuild(live2, 'events-2.db');
    // The view is re-pointed (no warning); the others are gone with the old schema, and said so.
    expect(warnings).toEqual([
      expect.stringContaining(`function ${theirs2}.open_deals()`),
      expect.stringContaining(`table constraint notes_opportunity_id_fkey on ${theirs2}.notes`),
    ]);
    expect((await admin.query(`SELECT to_regprocedure($1) AS f`, [`${theirs2}.open_deals()`])).rows).toEqual([{ f: null }]);
  });

  it('what a DBA or an analyst added inside the read side\'s schema goes along: an index on its table, a table with its rows, a view, a function', async () => {
    await readSideWith(live3, `
      CREATE INDEX visits_by_owner ON ${live3}.stage_visits (owner_id);
      CREATE TABLE ${live3}.notes (id serial PRIMARY KEY, opportunity_id text, note text);
      INSERT INTO ${live3}.notes (opportunity_id, note) VALUES ('a', 'call back'), ('b', 'budget in Q3');
      CREATE VIEW ${live3}.deal_count AS SELECT count(*) AS n FROM ${live3}.opportunities;
      CREATE FUNCTION ${live3}.note_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM ${live3}.notes';
    `);
    const oidOf = async (name: string) => (await admin.query<{ oid: number | null }>(`SELECT to_regclass($1)::oid AS oid`, [name])).rows[0]!.oid;
    const liveTable = await oidOf(`${live3}.opportunities`);
    const warnings = await rebuild(live3, 'events-3.db');
    expect(warnings).toEqual([]);
    expect(await oidOf(`${live3}.opportunities`)).not.toBe(liveTable); // rebuilt, really
    const { rows: index } = await admin.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'visits_by_owner'`, [live3]);
    expect(index).toEqual([{ indexdef: `CREATE INDEX visits_by_owner ON ${live3}.stage_visits USING btree (owner_id)` }]);
    expect((await admin.query(`SELECT note FROM ${live3}.notes ORDER BY id`)).rows).toEqual([{ note: 'call back' }, { note: 'budget in Q3' }]);
    await admin.query(`INSERT INTO ${live3}.notes (opportunity_id, note) VALUES ('c', 'its sequence came along')`);
    expect((await admin.query(`SELECT ${live3}.note_count() AS n, (SELECT n FROM ${live3}.deal_count) AS deals`)).rows).toEqual([{ n: '3', deals: '0' }]);
    // The view reads the rebuilt table, not the old one.
    const { rows: reads } = await admin.query(`SELECT DISTINCT d.refobjid::regclass::text AS t FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class = $1::regclass AND d.refobjid <> r.ev_class`, [`${live3}.deal_count`]);
    expect(reads).toEqual([{ t: `${live3}.opportunities` }]);
  });

  it('a table of its own that a session holds idle in a transaction is named, not waited for without end', async () => {
    await readSideWith(live4, `CREATE TABLE ${live4}.notes (note text); INSERT INTO ${live4}.notes VALUES ('kept?')`);
    const warnings = await rebuildWhileHeld(live4, `SELECT * FROM ${live4}.notes`, 'events-4.db');
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${live4}\\.notes, which Stagecraft did not make, could not be moved into the rebuilt schema \\(canceling statement due to lock timeout\\)`))]);
  }, 30_000);
});
