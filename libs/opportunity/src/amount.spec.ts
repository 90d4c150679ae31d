import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { AMOUNT_DECIMALS, decimalPlaces, isValidAmount, MAX_AMOUNT } from './amount';

describe('the amount rule', () => {
  it('takes every amount written with at most 4 decimals, from 0 to 10^15', () => {
    // Written as a client writes it: whole minor units, as decimal text, then read as JSON does.
    const written = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 19n }), fc.integer({ min: 0, max: AMOUNT_DECIMALS })).map(([units, decimals]) => {
      const text = units.toString().padStart(decimals + 1, '0');
      return decimals === 0 ? text : `${text.slice(0, -decimals)}.${text.slice(-decimals)}`;
    });
    assertProperty(
      fc.property(written, (text) => {
        const value = JSON.parse(text) as number;
        // Past 15 significant digits a double cannot hold every such decimal: the rule is on what arrives.
        if (value > MAX_AMOUNT || text.replace('.', '').replace(/^0+/, '').length > 15) return;
        expect([text, isValidAmount(value)]).toEqual([text, true]);
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    [0.30000000000000004, 17],
    [0.3000000000001, 13],
    [123456789012.00002, 5],
    [1e-7, 7],
    [1.5e-5, 6],
    [12.34567, 5],
    [0.00005, 5],
  ])('refuses %p, which has %p decimals in its shortest form', (value, places) => {
    expect(decimalPlaces(value)).toBe(places);
    expect(isValidAmount(value)).toBe(false);
  });

  it.each([0, 0.1, 0.3, 0.0001, 19.99, 1500, 1.5e3, 123456789012.0001, 99999999999.9999, MAX_AMOUNT])('takes %p', (value) => {
    expect(isValidAmount(value)).toBe(true);
  });

  it.each([-0.5, -1, MAX_AMOUNT * 2, Number.NaN, Number.POSITIVE_INFINITY, '100', null])('refuses %p: not a number from 0 to 10^15', (value) => {
    expect(isValidAmount(value)).toBe(false);
  });
});
