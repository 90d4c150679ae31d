import { ExactSums, unitsOf, valueOfUnitsText } from '../exact-amounts';
import { describeWithPostgres, migratedTestSchema } from '../testing/postgres.testing';
import { amountUnitsSum } from './read-side.amounts';

// PostgreSQL adds amounts as the in-memory read models do (exact-amounts.ts): amount_units
// (migration 21) gives unitsOf's minor units for every amount (in the API's sessions, and in an
// analyst's with the default extra_float_digits), and their numeric
// sum neither rounds nor overflows.

describeWithPostgres('amounts added exactly in SQL', () => {
  const { pool: admin, schema } = migratedTestSchema('amounts', 1);

  const AMOUNTS = [0, 0.0001, 0.1, 0.2, 626.97, 142.69, 9999.9999, 112589990684.2623, 112589990684.2624, 123456789012.3456, 987654321098.7654, 123456789012345.12, 999999999999999.9, 1e15];

  it.each(['1', '3'])('gives unitsOf\'s minor units for every amount, with extra_float_digits = %s', async (digits) => {
    const client = await admin.connect();
    try {
      await client.query(`SET extra_float_digits = ${digits}`);
      const { rows } = await client.query(`SELECT ${schema}.amount_units(x)::text AS units FROM unnest($1::float8[]) WITH ORDINALITY AS a(x, n) ORDER BY n`, [AMOUNTS]);
      expect(rows.map((row) => row.units)).toEqual(AMOUNTS.map((amount) => String(unitsOf(amount))));
      expect((await client.query(`SELECT ${schema}.amount_units(NULL) AS units`)).rows[0].units).toBeNull();
    } finally {
      await client.query('RESET extra_float_digits');
      client.release();
    }
  });

  it('gives unitsOf\'s minor units for numbers the amount rule refuses, which an older log may hold', async () => {
    const refused = [4.9999999999999996e-5, 0.3000000000001, 123456789012.00002, 1e21, 1.5e21, 1e300, Number.MAX_VALUE];
    const { rows } = await admin.query(`SELECT ${schema}.amount_units(x)::text AS units FROM unnest($1::float8[]) WITH ORDINALITY AS a(x, n) ORDER BY n`, [refused]);
    expect(rows.map((row) => row.units)).toEqual(refused.map((amount) => String(unitsOf(amount))));
  });

  it('sums them as the in-memory models do: 0.1 + 0.2 is 0.3, and 10,000 amounts of 10^15 do not overflow', async () => {
    const sumOf = async (amounts: readonly number[]) => (await admin.query(`SELECT ${amountUnitsSum(schema, 'x')} AS units FROM unnest($1::float8[]) AS a(x)`, [amounts])).rows[0].units as string | null;
    const inMemory = (amounts: readonly number[]) => {
      const sums = new ExactSums(1);
      for (const amount of amounts) sums.add(0, amount);
      return sums.value(0);
    };
    for (const amounts of [[0.1, 0.2], [626.97, 142.69], AMOUNTS, [...AMOUNTS].reverse(), Array.from({ length: 10_000 }, () => 1e15)]) {
      expect(valueOfUnitsText((await sumOf(amounts))!)).toBe(inMemory(amounts));
    }
    expect(valueOfUnitsText((await sumOf([0.1, 0.2]))!)).toBe(0.3);
    expect(valueOfUnitsText((await sumOf([626.97, 142.69]))!)).toBe(769.66);
    expect(await sumOf([])).toBeNull();
  });
});
