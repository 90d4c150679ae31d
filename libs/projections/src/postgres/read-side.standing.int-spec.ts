import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { describeWithPostgres, migratedTestSchema } from '../testing/postgres.testing';
import { queryAll } from './read-side.batch';
import { periodFiling, standingAt, standingSegments } from './read-side.standing';

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

// From the first instant a timestamptz holds (4713 BC) to the last a Date does (275760 AD): the
// writer stores years 1 to 9999 only (PostgreSQL reads no other ISO year), beyond them the SQL
// functions still define the filing. Whole milliseconds, as stored.
const FIRST_MS = -210_866_803_200_000;
const LAST_MS = 8.64e15;
const YEAR_1_MS = -62_135_596_800_000;
const YEAR_10000_MS = 253_402_300_800_000;
const YEAR_13380_MS = 360_100_000_800_000; // where floor(epoch / 3600) starts rounding to 8 decimals
const anywhere = fc.oneof(
  fc.integer({ min: FIRST_MS, max: LAST_MS }),
  fc
    .tuple(
      fc.constantFrom(0, EPOCH, YEAR_1_MS, YEAR_10000_MS, YEAR_13380_MS, FIRST_MS + DAY, LAST_MS - DAY),
      fc.integer({ min: -3, max: 3 }),
      fc.constantFrom(1, 2, 1024, 2 ** 20, 2 ** 31),
      fc.constantFrom(0, 1, -1, 1234),
    )
    .map(([base, n, hours, offset]) => Math.min(LAST_MS, Math.max(FIRST_MS, Math.floor(base / HOUR) * HOUR + n * hours * HOUR + offset))),
);
const filed = fc.oneof(
  fc.record({ from: fc.oneof(anywhere, fc.constant(null)), to: fc.oneof(anywhere, fc.constant(null)) }),
  fc
    .tuple(anywhere, fc.oneof(fc.constantFrom(0, 1, HOUR - 1, HOUR, HOUR + 1), fc.integer({ min: 1, max: 2000 * DAY })))
    .map(([from, length]) => ({ from, to: Math.min(LAST_MS, from + length) })),
);

describeWithPostgres('board segments standing at an instant (read-side.standing.ts, migration 11)', () => {
  const { pool, schema } = migratedTestSchema('standing');

  it('keeps exactly the segments valid_from <= t < valid_to (open: still standing), as the range of the period does, for any periods and instants', async () => {
    await assertProperty(
      fc.asyncProperty(fc.array(period, { minLength: 1, maxLength: 40 }), fc.array(instant, { minLength: 1, maxLength: 8 }), async (periods, instants) => {
        const client = await pool.connect();
        try {
          await client.query(`TRUNCATE ${schema}.board_segments`);
          const iso = (ms: number | null) => (ms === null || Math.abs(ms) > 8.64e15 ? null : new Date(ms).toISOString());
          const rows = periods.map(({ from, length }, i) => {
            const [start, end] = [iso(from), from === null || length === null ? null : iso(from + length)];
            // Filed as the writer files them.
            const filing = periodFiling(start === null ? null : Date.parse(start), end === null ? null : Date.parse(end));
            return [i, start, end, filing.level, filing.block];
          });
          await client.query(
            `INSERT INTO ${schema}.board_segments (started_position, opportunity_id, process_id, stage_id, valid_from, valid_to, probability, title, period_level, period_block)
             SELECT p, 'o' || p, 'p', 's', f, t, 0, '', l, b FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::int[], $5::bigint[]) AS r(p, f, t, l, b)`,
            [0, 1, 2, 3, 4].map((column) => rows.map((row) => row[column])),
          );
          for (const at of instants) {
            const values: unknown[] = [];
            const condition = standingAt(at, (value) => `$${values.push(value)}`);
            // The board as of reads the two walks of standingRuns instead (by start, or by end in the later half of a block).
            const walks = standingSegments(schema, 'started_position', at, [], (value) => `$${values.push(value)}`);
            // Planned both ways: through the indexes of standing periods, and by reading every row.
            const [, byIndex, byWalks, , byScan, byWalksScan] = await queryAll(client, [
              'SET LOCAL enable_seqscan = off',
              { sql: `SELECT started_position FROM ${schema}.board_segments WHERE ${condition} ORDER BY 1`, values },
              { sql: `SELECT started_position FROM (${walks}) walks ORDER BY 1`, values },
              'SET LOCAL enable_seqscan = on',
              { sql: `SELECT started_position FROM ${schema}.board_segments WHERE ${condition} ORDER BY 1`, values },
              { sql: `SELECT started_position FROM (${walks}) walks ORDER BY 1`, values },
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
            expect({ at, byWalks: found(byWalks as never) }).toEqual({ at, byWalks: expected });
            expect({ at, byWalksScan: found(byWalksScan as never) }).toEqual({ at, byWalksScan: expected });
          }
        } finally {
          client.release();
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('files every period where the SQL functions period_level and period_block (migration 11) do, and where their numeric definition before did for every instant the writer can store', async () => {
    await assertProperty(
      fc.asyncProperty(fc.array(filed, { minLength: 1, maxLength: 50 }), async (periods) => {
        // An instant of any year PostgreSQL holds, exactly: days and seconds since 1970 (a timestamp, so no time zone shifts a day).
        const at = (ms: number | null) => (ms === null ? [null, null] : [Math.floor(ms / DAY), (ms - Math.floor(ms / DAY) * DAY) / 1000]);
        const [fromDays, fromSeconds, toDays, toSeconds] = [0, 1, 2, 3].map((column) => periods.map(({ from, to }) => [...at(from), ...at(to)][column]));
        const { rows } = await pool.query<{ level: number | null; block: string | null; writable: boolean; level_before: number | null; block_before: string | null }>(
          `SELECT ${schema}.period_level(valid_from, valid_to) AS level, ${schema}.period_block(valid_from, valid_to) AS block,
             coalesce(valid_from, 'epoch') BETWEEN '0001-01-01Z' AND '9999-12-31 23:59:59.999Z' AND coalesce(valid_to, 'epoch') BETWEEN '0001-01-01Z' AND '9999-12-31 23:59:59.999Z' AS writable,
             ${LEVEL_BEFORE} AS level_before, CASE WHEN ${LEVEL_BEFORE} >= 64 THEN 0 ELSE floor(EXTRACT(EPOCH FROM valid_from) / 3600)::bigint >> ${LEVEL_BEFORE} END AS block_before
           FROM (SELECT (timestamp 'epoch' + make_interval(days => fd, secs => fs)) AT TIME ZONE 'UTC' AS valid_from, (timestamp 'epoch' + make_interval(days => td, secs => ts)) AT TIME ZONE 'UTC' AS valid_to, n
                 FROM unnest($1::int[], $2::float8[], $3::int[], $4::float8[]) WITH ORDINALITY AS r(fd, fs, td, ts, n)) p ORDER BY n`,
          [fromDays, fromSeconds, toDays, toSeconds],
        );
        periods.forEach(({ from, to }, i) => {
          const row = rows[i]!;
          const sql = { level: row.level, block: row.block === null ? null : Number(row.block) };
          expect({ from, to, filing: periodFiling(from, to) }).toEqual({ from, to, filing: sql });
          if (row.writable) expect({ from, to, before: { level: row.level_before, block: row.block_before === null ? null : Number(row.block_before) } }).toEqual({ from, to, before: sql });
        });
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});

/** period_level as migration 11 first defined it (floor of a numeric quotient, which rounds it first): the same values wherever the writer can store an instant. */
const LEVEL_BEFORE = `(CASE WHEN valid_from IS NULL THEN NULL WHEN valid_to IS NULL THEN 65 WHEN valid_to <= valid_from THEN 0
    ELSE 65 - position('1' IN ((floor(EXTRACT(EPOCH FROM valid_from) / 3600)::bigint # floor((EXTRACT(EPOCH FROM valid_to) - 0.000001) / 3600)::bigint)::bit(64)::text || '1')) END)`;
