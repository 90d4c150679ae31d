import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { boolArray, isoOf, numberArray, textArray } from './read-side.encoding';

// The driver's own conversion of a parameter (not in its type declarations).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { prepareValue } = require('pg/lib/utils') as { prepareValue: (value: unknown) => unknown };

// The writer's own encoders replace the driver's for the multi-row parameters: the text sent (and
// so every row written) must be what the driver and Date would have made.

describe('read-side parameter encoding', () => {
  it('writes an instant as Date#toISOString does, across and beyond the four-digit years', () => {
    assertProperty(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(isoOf(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
    for (const ms of [0, -1, 1.5, -62_135_596_800_000, -62_135_596_800_001, 253_402_300_799_999, 253_402_300_800_000]) expect(isoOf(ms)).toBe(new Date(ms).toISOString());
    expect([isoOf(null), isoOf(NaN), isoOf(Infinity)]).toEqual([null, null, null]);
  });

  it('writes text arrays exactly as the driver does: quotes, backslashes, NULL, braces and any Unicode', () => {
    assertProperty(
      fc.property(fc.array(fc.option(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('NULL', '', '"', '\\', '{a,b}', "it's"))), { maxLength: 20 }), (values) => {
        expect(textArray(values)).toBe(prepareValue(values));
      }),
    );
  });

  it('writes numbers and booleans as the driver does, up to its quotes around each element', () => {
    assertProperty(
      fc.property(fc.array(fc.option(fc.oneof(fc.double(), fc.integer(), fc.constant(-0)))), (values) => {
        expect(numberArray(values)).toBe((prepareValue(values) as string).replace(/"/g, ''));
      }),
    );
    expect(boolArray([true, false])).toBe('{t,f}');
  });
});
