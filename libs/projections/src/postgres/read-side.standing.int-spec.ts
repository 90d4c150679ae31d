import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { Pool } from 'pg';
import { describeWithPostgres, POSTGRES_TEST_URL, uniqueSchema } from '../testing/postgres.testing';
import { queryAll } from './read-side.batch';
import { migrateReadSide } from './read-side.migrations';
import { standingAt } from './read-side.standing';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EPOCH = Date.UTC(2025, 0, 1);

// Instants on and beside the edges the levels cut at: whole hours, days and large aligned blocks,
// their last millisecond and microsecond, before and after 1970, and beyond what a timestamptz holds.
const edge = fc
  .tuple(fc.integer({ min: -20, max: 20 }), fc.constantFrom(1, 2, 7, 64, 1024, 65_536), fc.constantFrom(0, 1, -1, 0.001, -0.001, 1234))
  .map(([n, hours, offset]) => EPOCH + n * hours * HOUR + offset);
const instant = fc.oneof(
  edge,
  fc.integer({ min: EPOCH - 400 * DAY, max: EPOCH + 400 * DAY }),
  fc.constantFrom(0, -1, HOUR, -HOUR, -86_400_000 * 365 * 30, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
);
const period = fc.record({
  from: fc.oneof(instant, fc.constant(null)),
  length: fc.oneof(fc.constantFrom(0, 1, HOUR - 1, HOUR, HOUR + 1, DAY), fc.integer({ min: 0, max: 900 * DAY }), fc.constant(null)),
});

describeWithPostgres('board segments standing at an instant (read-side.standing.ts, migration 11)', () => {
  const pool = new Pool({ connectionString: POSTGRES_TEST_URL, max: 2 });
  const schema = uniqueSchema('standing');
  beforeAll(async () => {
    const client = await pool.connect();
    try {
      await migrateReadSide(client, schema);
    } finally {
      client.release();
    }
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('keeps exactly the segments valid_from <= t < valid_to (open: still standing), as the range of the period does, for any periods and instants', async () => {
    await assertProperty(
      fc.asyncProperty(fc.array(period, { minLength: 1, maxLength: 40 }), fc.array(instant, { minLength: 1, maxLength: 8 }), async (periods, instants) => {
        const client = await pool.connect();
        try {
          await client.query(`TRUNCATE ${schema}.board_segments`);
          const iso = (ms: number | null) => (ms === null || Math.abs(ms) > 8.64e15 ? null : new Date(ms).toISOString());
          const rows = periods.map(({ from, length }, i) => [i, iso(from), from === null || length === null ? null : iso(from + length)]);
          await client.query(
            `INSERT INTO ${schema}.board_segments (started_position, opportunity_id, process_id, stage_id, valid_from, valid_to, probability, title)
             SELECT p, 'o' || p, 'p', 's', f, t, 0, '' FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[]) AS r(p, f, t)`,
            [rows.map((row) => row[0]), rows.map((row) => row[1]), rows.map((row) => row[2])],
          );
          for (const at of instants) {
            const values: unknown[] = [];
            const condition = standingAt(at, (value) => `$${values.push(value)}`);
            // Planned both ways: through the index of standing periods, and by reading every row.
            const [, byIndex, , byScan] = await queryAll(client, [
              'SET LOCAL enable_seqscan = off',
              { sql: `SELECT started_position FROM ${schema}.board_segments WHERE ${condition} ORDER BY 1`, values },
              'SET LOCAL enable_seqscan = on',
              { sql: `SELECT started_position FROM ${schema}.board_segments WHERE ${condition} ORDER BY 1`, values },
            ]);
            const expected = periods.flatMap(({ from, length }, i) => {
              const start = iso(from) === null ? NaN : Date.parse(iso(from)!);
              const end = from === null || length === null || iso(from + length) === null ? Infinity : Date.parse(iso(from + length)!);
              // As stage-intervals.projection.ts: start <= t < end, at whole milliseconds.
              return start <= at && at < end ? [String(i)] : [];
            });
            const found = (result: { rows: { started_position: string }[] }) => result.rows.map((row) => String(row.started_position));
            expect({ at, byIndex: found(byIndex as never) }).toEqual({ at, byIndex: expected });
            expect({ at, byScan: found(byScan as never) }).toEqual({ at, byScan: expected });
          }
        } finally {
          client.release();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
