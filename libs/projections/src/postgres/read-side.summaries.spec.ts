import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { periodCover, type PeriodCover } from './read-side.summaries';

const DAY = 86_400_000;
const START = Date.UTC(2025, 10, 20);

/** How many times the cover counts an instant: in a month row, in a day row, and in each signed edge. */
function timesCounted(cover: PeriodCover, at: number): number {
  const iso = new Date(at).toISOString();
  const day = iso.slice(0, 10);
  const month = `${iso.slice(0, 7)}-01`;
  const within = ([from, to]: readonly [string | null, string | null], date: string) => (from === null || date >= from) && (to === null || date < to);
  let times = 0;
  if (cover.all || (cover.months !== null && within(cover.months, month))) times += 1;
  for (const days of cover.days) if (within(days, day)) times += 1;
  for (const [from, to, sign] of cover.edges) if (at >= from && at < to) times += sign;
  return times;
}

// Instants on and beside day and month boundaries, and anywhere, over a few months.
const instant = fc.oneof(
  fc.integer({ min: START, max: START + 120 * DAY }),
  fc.tuple(fc.integer({ min: 0, max: 120 }), fc.constantFrom(0, 1, -1, -1000, 1000, DAY / 2)).map(([days, offset]) => START + days * DAY + offset),
  fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 1, -1, -1000)).map(([months, offset]) => Date.UTC(2025, 11 + months, 1) + offset),
);
const bound = fc.option(instant, { nil: undefined });

describe('periodCover: whole months, whole days and signed pieces of days', () => {
  it('counts every instant once when it is within [from, to] and never otherwise', () => {
    assertProperty(
      fc.property(bound, bound, fc.array(instant, { minLength: 1, maxLength: 30 }), (from, to, instants) => {
        const cover = periodCover(from ?? -Infinity, to ?? Infinity, from !== undefined || to !== undefined)!;
        for (const at of [...instants, ...(from === undefined ? [] : [from, from - 1]), ...(to === undefined ? [] : [to, to + 1])]) {
          const inside = (from === undefined || at >= from) && (to === undefined || at <= to);
          expect([at, timesCounted(cover, at)]).toEqual([at, inside ? 1 : 0]);
        }
      }),
    );
  });

  it('reads at most half a day of rows at either end: the shorter of a piece and the rest of its day', () => {
    assertProperty(
      fc.property(instant, instant, (a, b) => {
        const cover = periodCover(Math.min(a, b), Math.max(a, b), true)!;
        const read = cover.edges.reduce((total, [from, to]) => total + (to - from), 0);
        expect(read).toBeLessThanOrEqual(DAY);
      }),
    );
  });

  it('reads month rows for whole months and no rows of unknown time once bounded', () => {
    expect(periodCover(Date.UTC(2025, 2, 1), Date.UTC(2025, 9, 1) - 1000, true)).toEqual({
      all: false,
      months: ['2025-03-01', '2025-09-01'],
      // September's days but its last from the day rows; that last day's row less its last 999 ms.
      days: [
        ['2025-09-30', '2025-10-01'],
        ['2025-09-01', '2025-09-30'],
      ],
      edges: [[Date.UTC(2025, 9, 1) - 999, Date.UTC(2025, 9, 1), -1]],
    });
    expect(periodCover(-Infinity, Infinity, false)).toEqual({ all: true, months: null, days: [], edges: [] });
    expect(periodCover(Date.UTC(2025, 0, 1), -Infinity, true)).toEqual({ all: false, months: null, days: [], edges: [] });
  });

  // Date.UTC reads years 0–99 as 1900–1999: a month start there must still be the month's own.
  it('covers periods in years 1 to 99 as in any other year', () => {
    const year26 = Date.parse('0026-03-01T00:00:00Z');
    const early = fc.integer({ min: year26 - 400 * DAY, max: year26 + 400 * DAY });
    assertProperty(
      fc.property(early, early, fc.array(early, { minLength: 1, maxLength: 30 }), (a, b, instants) => {
        const [from, to] = [Math.min(a, b), Math.max(a, b)];
        const cover = periodCover(from, to, true)!;
        for (const at of [...instants, from, from - 1, to, to + 1]) expect([at, timesCounted(cover, at)]).toEqual([at, at >= from && at <= to ? 1 : 0]);
      }),
    );
    expect(periodCover(year26, Date.parse('0026-06-01T00:00:00Z') - 1, true)).toEqual({ all: false, months: ['0026-03-01', '0026-06-01'], days: [], edges: [] });
  });

  it('leaves bounds beyond what a date column holds to the general query', () => {
    expect(periodCover(-8.64e15, Infinity, true)).toBeUndefined();
    expect(periodCover(0, 8.64e15, true)).toBeUndefined();
  });
});
