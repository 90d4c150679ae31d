import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { Pool } from 'pg';
import { describeWithPostgres, POSTGRES_TEST_URL } from '../testing/postgres.testing';
import { copyBool, copyNumber, copyOf, copyText, queryWithCopies } from './read-side.copy';
import { isoOf } from './read-side.encoding';

// Rows copied in (COPY's text format, several COPYs in one simple query among other statements)
// must read back as the same values sent as the driver's parameters do: any text (tabs, newlines,
// carriage returns, backslashes, `\N`, `\.`; PostgreSQL text holds no NUL), any double, instants.
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
const tricky = fc.constantFrom('\t', '\n', '\r', '\r\n', '\\', '\\N', 'N', '\\.', '.', '\\t', "'", '"', 'NULL', '', ' ');
const value = fc.oneof(text, tricky, fc.array(tricky, { minLength: 2, maxLength: 4 }).map((parts) => parts.join('x')));
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, -1, 0.1, -1e-300, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE));
const instant = fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 });
const row = fc.record({ s: fc.option(value), x: fc.option(number), at: fc.option(instant), flag: fc.boolean(), list: fc.array(value, { maxLength: 3 }) });

describeWithPostgres('rows copied in by the writer (read-side.copy.ts)', () => {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
  afterAll(() => pool.end());

  it('reads back as the same rows inserted with parameters, whatever the text, and the last result is the last statement', async () => {
    await assertProperty(
      fc.asyncProperty(fc.array(row, { maxLength: 6 }), fc.array(row, { maxLength: 3 }), async (first, second) => {
        const client = await pool.connect();
        try {
          await client.query('CREATE TEMP TABLE IF NOT EXISTS copied (n int, s text, x float8, at timestamptz, flag bool, list jsonb)');
          await client.query('CREATE TEMP TABLE IF NOT EXISTS sent (n int, s text, x float8, at timestamptz, flag bool, list jsonb)');
          await client.query('TRUNCATE copied, sent');
          const rows = [...first, ...second];
          for (const [n, r] of rows.entries()) await client.query('INSERT INTO sent VALUES ($1, $2, $3, $4, $5, $6)', [n, r.s, r.x, isoOf(r.at), r.flag, JSON.stringify(r.list)]);
          const line = (offset: number) => (r: (typeof rows)[number], i: number) =>
            `${i + offset}\t${copyText(r.s)}\t${copyNumber(r.x)}\t${copyText(isoOf(r.at))}\t${copyBool(r.flag)}\t${copyText(JSON.stringify(r.list))}`;
          const withIndex = <T>(items: T[]) => items.map((item, i) => ({ item, i }));
          const a = copyOf('copied', 'n, s, x, at, flag, list', withIndex(first), ({ item, i }) => line(0)(item, i));
          const b = copyOf('copied', 'n, s, x, at, flag, list', withIndex(second), ({ item, i }) => line(first.length)(item, i));
          const results = await queryWithCopies(client, ['BEGIN', a.sql, 'SELECT 1', b.sql, 'SELECT count(*)::int AS rows FROM copied'].join(';\n'), [a.data, b.data]);
          await client.query('COMMIT');
          expect(results.map((result) => result.command)).toEqual(['BEGIN', 'COPY', 'SELECT', 'COPY', 'SELECT']);
          expect(results[results.length - 1]!.rows).toEqual([{ rows: rows.length }]);
          // Doubles compared as text: NaN, -0 and the last bit included.
          const read = (table: string) => client.query(`SELECT n, s, x::text AS x, at, flag, list FROM ${table} ORDER BY n`).then((result) => result.rows);
          expect(await read('copied')).toEqual(await read('sent'));
        } finally {
          await client.query('ROLLBACK'); // after a failed run (outside a transaction it only warns)
          client.release();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('fails the whole query, and leaves the connection usable, when a copied row breaks a constraint', async () => {
    const client = await pool.connect();
    try {
      await client.query('CREATE TEMP TABLE IF NOT EXISTS keyed (n int PRIMARY KEY)');
      await client.query('TRUNCATE keyed');
      const twice = copyOf('keyed', 'n', [1, 1], (n) => String(n));
      await expect(queryWithCopies(client, ['BEGIN', twice.sql, 'SELECT 1'].join(';\n'), [twice.data])).rejects.toThrow(/duplicate key/);
      await client.query('ROLLBACK');
      expect((await client.query('SELECT count(*)::int AS n FROM keyed')).rows).toEqual([{ n: 0 }]);
    } finally {
      client.release();
    }
  });
});
