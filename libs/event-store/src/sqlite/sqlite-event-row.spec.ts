import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { UnreadableEventError } from '../event-store.errors';
import { MAX_STORED_JSON_DEPTH } from '../json-depth';
import { fromEventTuple, type EventTuple } from './sqlite-event-row';

// A stored number past a double's range is refused wherever JSON can put it, and nothing else is:
// the reader looks for such numbers only where JSON writes numbers (sqlite-event-row.ts).

const tupleWith = (data: string): EventTuple => [7, 'e-1', 'opportunity-1', 0, 'OpportunityOpened', data, '{}', '2026-01-01T00:00:00.000Z'];
const read = (data: string) => fromEventTuple(tupleWith(data));

/** Numbers JSON.parse reads as ±Infinity. */
const overflowing = fc.oneof(
  fc.tuple(fc.constantFrom('', '-'), fc.integer({ min: 1, max: 9 }), fc.constantFrom('', '.5', '.000'), fc.constantFrom('e', 'E'), fc.constantFrom('', '+'), fc.integer({ min: 309, max: 99_999 })).map(
    ([sign, digit, fraction, e, plus, exponent]) => `${sign}${digit}${fraction}${e}${plus}${exponent}`,
  ),
  fc.tuple(fc.constantFrom('', '-'), fc.integer({ min: 309, max: 400 }), fc.constantFrom('', '.25')).map(([sign, digits, fraction]) => `${sign}9${'9'.repeat(digits - 1)}${fraction}`),
);
const blanks = fc.array(fc.constantFrom(' ', '\t', '\n', '\r'), { maxLength: 3 }).map((chars) => chars.join(''));

describe('reading a stored event whose JSON holds a number too large for a double', () => {
  it('is refused wherever JSON puts the number: a property, in an array, nested, after blanks', () => {
    assertProperty(
      fc.property(overflowing, blanks, blanks, fc.integer({ min: 0, max: 3 }), (number, before, after, place) => {
        expect(Number.isFinite(Number(number))).toBe(false);
        const data = [
          `{"to":${before}${number}${after}}`,
          `{"amounts":[${before}1,${before}${number}${after}]}`,
          `{"a":{"b":[${before}${number}${after},2]}}`,
          `{${before}"x"${before}:${before}${number}${after},"y":1}`,
        ][place]!;
        expect(() => read(data)).toThrow(UnreadableEventError);
        expect(() => read(data)).toThrow('holds a number too large for a double');
      }),
    );
  });

  it('reads every finite number, and texts that only look like one (ids with hex, titles)', () => {
    assertProperty(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), (number, title) => {
        const data = JSON.stringify({ amount: number, title, id: '4e123456-1e99-4e00-8e999-000000000000', note: 'rated 1e999 by "x":1e400' });
        expect(read(data).data).toEqual(JSON.parse(data));
      }),
    );
    expect(read(`{"small":1e-400,"big":1.7976931348623157e308,"digits":${'9'.repeat(308)}}`).data).toEqual({ small: 0, big: 1.7976931348623157e308, digits: Number('9'.repeat(308)) });
  });
});

describe('reading a stored event whose JSON nests too deep to be written out again', () => {
  const nested = (levels: number, pad = 0) => `{"x":${'['.repeat(levels - 1)}1${']'.repeat(levels - 1)},"pad":"${' '.repeat(pad)}"}`;

  it('is refused past the limit, in data and metadata alike, and read up to it however long the text', () => {
    expect(() => read(nested(MAX_STORED_JSON_DEPTH + 1))).toThrow(`its data is nested deeper than ${MAX_STORED_JSON_DEPTH} levels`);
    expect(() => fromEventTuple([7, 'e-1', 'opportunity-1', 0, 'OpportunityOpened', '{}', nested(20_000), '2026-01-01T00:00:00.000Z'])).toThrow('its metadata is nested deeper');
    expect(read(nested(MAX_STORED_JSON_DEPTH, 5_000)).data).toEqual(JSON.parse(nested(MAX_STORED_JSON_DEPTH, 5_000)));
  });
});
