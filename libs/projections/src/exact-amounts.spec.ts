import { ExactSum, ExactSums, unitsOf, valueOfUnits, valueOfUnitsText } from './exact-amounts';

// Every unweighted sum of amounts (the pipeline's columns and closed sections, win/loss, the
// forecast, the waterfall, velocity) adds whole minor units: the exact decimal, in any order.

describe('exact sums of amounts', () => {
  const sumOf = (amounts: readonly number[]) => {
    const sums = new ExactSums(2);
    for (const amount of amounts) sums.add(1, amount);
    return sums.value(1);
  };

  it('adds decimals exactly where floats do not: 0.1 + 0.2 is 0.3, 626.97 + 142.69 is 769.66', () => {
    expect([0.1 + 0.2, 626.97 + 142.69]).toEqual([0.30000000000000004, 769.6600000000001]);
    expect([sumOf([0.1, 0.2]), sumOf([626.97, 142.69]), sumOf([142.69, 626.97])]).toEqual([0.3, 769.66, 769.66]);
  });

  it('keeps cells apart, and a cell without an amount (NaN) at 0', () => {
    const sums = new ExactSums(3);
    sums.add(0, 0.1);
    sums.add(2, 0.2);
    sums.add(2, NaN);
    sums.add(0, 0.2);
    expect([sums.value(0), sums.value(1), sums.value(2)]).toEqual([0.3, 0, 0.2]);
  });

  it('neither overflows nor loses digits near the limit of the amount rule (10^15, 4 decimals)', () => {
    // A sum past the safe integers of minor units goes on in a bigint, in the one cell only.
    const big = [123456789012.3456, 123456789012.3456, 1e15, 1e15];
    expect(sumOf(big)).toBe(Number('2000246913578024.6912'));
    const single = new ExactSum();
    for (const amount of big) single.add(unitsOf(amount));
    expect(single.value()).toBe(sumOf(big));
    // 10,000 deals of 10^15: 10^23 minor units, past any 64-bit integer; the float sum said 1e19 too.
    const many = new ExactSums(1);
    for (let i = 0; i < 10_000; i++) many.add(0, 1e15);
    expect(many.value(0)).toBe(1e19);
    // An amount of 17 significant digits (as it reads back) is added by those digits.
    expect(unitsOf(123456789012345.12)).toBe(1234567890123451200n);
  });

  it('gives a number the amount rule refuses, which an older log may hold, units instead of an error (as amount_units does in SQL)', () => {
    // Past 10^21 String() writes the exponent form: BigInt('1e+21') would throw, and every query adding it answer 500.
    expect([unitsOf(1e21), unitsOf(1.5e21), unitsOf(1e300) === 10n ** 304n]).toEqual([10n ** 25n, 15n * 10n ** 24n, true]);
    expect(sumOf([1e21, 0.1])).toBe(1e21);
    // More than 4 decimals: truncated past 10^11, rounded below (floor(x + 0.5), in floats, as SQL rounds it).
    expect([unitsOf(123456789012.00002), unitsOf(0.3000000000001), unitsOf(4.9999999999999996e-5)]).toEqual([1234567890120000n, 3000, 1]);
  });

  it('reads a sum PostgreSQL wrote as a whole numeric (read-side.amounts.ts) as valueOfUnits gives it', () => {
    for (const units of ['0', '3000', '7696600', '-7696600', '90071992547409910000', '100000000000000000000000']) expect(valueOfUnitsText(units)).toBe(valueOfUnits(BigInt(units)));
    expect([valueOfUnitsText('3000'), valueOfUnitsText('100000000000000000000000')]).toEqual([0.3, 1e19]);
  });
});
