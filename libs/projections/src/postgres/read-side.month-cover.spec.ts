import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { monthCover } from './read-side.month-cover';

// The cover must count every instant of the period exactly once and none outside it: for any
// instant, the month rows that hold it plus the edges that hold it (with their signs) add up to 1
// inside [from, to] and 0 outside.

const DAY = 86_400_000;
const BASE = Date.UTC(2025, 0, 1);
/** Instants near month ends (where the pieces meet), and anywhere in a few years. */
const instant = fc.oneof(
  fc.integer({ min: 0, max: 40 }).chain((month) => fc.integer({ min: -3 * DAY, max: 3 * DAY }).map((offset) => Date.UTC(2025, month, 1) + offset)),
  fc.integer({ min: BASE - 400 * DAY, max: BASE + 1200 * DAY }),
  fc.integer({ min: -2, max: 2 }).map((offset) => Date.UTC(2025, 8, 30, 23, 59, 59) + offset),
);
const bound = fc.oneof({ weight: 6, arbitrary: instant }, { weight: 1, arbitrary: fc.constantFrom(-Infinity, Infinity) });

const counted = (cover: NonNullable<ReturnType<typeof monthCover>>, t: number) => {
  const month = new Date(t).toISOString().slice(0, 7) + '-01';
  const inMonths = cover.months.filter(([from, to]) => (from === null || month >= from) && (to === null || month < to)).length;
  return inMonths + cover.edges.reduce((sum, [from, to, sign]) => sum + (t >= from && t < to ? sign : 0), 0);
};

describe('monthCover', () => {
  it('counts every instant of [from, to] once and none outside, from whole months and the pieces at either end', () => {
    assertProperty(
      fc.property(bound, bound, fc.array(instant, { minLength: 1, maxLength: 20 }), (fromMs, toMs, probes) => {
        const cover = monthCover(fromMs, toMs)!;
        expect(cover).toBeDefined();
        for (const t of [...probes, fromMs - 1, fromMs, toMs, toMs + 1].filter(Number.isFinite)) {
          expect(counted(cover, t)).toBe(t >= fromMs && t <= toMs ? 1 : 0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads whole months from their rows, and no more than half a month of visits at either end', () => {
    const cover = monthCover(Date.parse('2025-03-01T00:00:00Z'), Date.parse('2025-09-30T23:59:59Z'))!;
    expect(cover.months).toEqual([['2025-03-01', '2025-10-01']]);
    expect(cover.edges).toEqual([[Date.parse('2025-09-30T23:59:59.001Z'), Date.parse('2025-10-01T00:00:00Z'), -1]]);
    assertProperty(
      fc.property(instant, instant, (fromMs, toMs) => {
        for (const [from, to] of monthCover(fromMs, toMs)!.edges) expect(to - from).toBeLessThanOrEqual(16 * DAY);
      }),
    );
  });

  // Date.UTC reads years 0–99 as 1900–1999: a month start there must still be the month's own (a
  // business time in year 0026, a typo the instant rule accepts, is counted like any other).
  it('covers periods in years 1 to 99 as in any other year', () => {
    const year26 = Date.parse('0026-03-01T00:00:00Z');
    const early = fc.integer({ min: year26 - 400 * DAY, max: year26 + 400 * DAY });
    assertProperty(
      fc.property(early, early, fc.array(early, { minLength: 1, maxLength: 20 }), (a, b, probes) => {
        const [fromMs, toMs] = [Math.min(a, b), Math.max(a, b)];
        const cover = monthCover(fromMs, toMs)!;
        for (const t of [...probes, fromMs - 1, fromMs, toMs, toMs + 1]) expect([t, counted(cover, t)]).toEqual([t, t >= fromMs && t <= toMs ? 1 : 0]);
      }),
    );
    expect(monthCover(year26, Date.parse('0026-05-31T23:59:59.999Z'))).toEqual({ months: [['0026-03-01', '0026-06-01']], edges: [] });
  });

  it('leaves fractions of a millisecond, NaN and instants a month row cannot say to the visits', () => {
    expect(monthCover(0.5, 10)).toBeUndefined();
    expect(monthCover(NaN, 10)).toBeUndefined();
    expect(monthCover(0, 8.64e15)).toBeUndefined();
    expect(monthCover(10, 5)).toEqual({ months: [], edges: [] });
  });
});
