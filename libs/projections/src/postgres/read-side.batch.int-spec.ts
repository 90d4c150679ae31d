import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { Pool } from 'pg';
import { describeWithPostgres, POSTGRES_TEST_URL } from '../testing/postgres.testing';
import { queryAll } from './read-side.batch';

// Parameters written in as literals must read back as the driver's parameters do: any text
// (quotes, backslashes, `$1`, `--`, non-ASCII; PostgreSQL text holds no NUL), any double, arrays.
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/\0/g, ''));
const tricky = fc.constantFrom("'", "''", '\\', "\\'", '$1', '$2::text', '--', '/*', '"', '{a,b}', 'NULL', ' ', '');
const value = fc.oneof(text, tricky);
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, -1, 0.1, -1e-300, 2 ** 53, -(2 ** 63)));

describeWithPostgres('one round trip for several statements (read-side.batch.ts)', () => {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 1 });
  afterAll(() => pool.end());

  it('answers what the same statements answer with their parameters sent apart', async () => {
    await assertProperty(
      fc.asyncProperty(
        fc.tuple(fc.option(value), number, fc.array(fc.option(value), { maxLength: 5 }), fc.array(fc.option(number), { maxLength: 5 }), fc.integer({ min: -5, max: 5 })),
        async ([s, x, texts, numbers, n]) => {
          const statement = {
            sql: `SELECT $1::text AS s, $2::float8 AS x, $3::text[] AS texts, $4::float8[] AS numbers, 1 - $5 AS minus, 1-$5 AS tight, $5::int AS n, '$1' AS literal`,
            values: [s, x, texts, numbers, n],
          };
          const client = await pool.connect();
          try {
            const apart = await client.query(statement.sql, [...statement.values]);
            const [first, second] = await queryAll(client, [statement, statement]);
            expect(first!.rows).toEqual(apart.rows);
            expect(second!.rows).toEqual(apart.rows);
          } finally {
            client.release();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
