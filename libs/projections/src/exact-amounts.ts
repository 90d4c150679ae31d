import { AMOUNT_DECIMALS } from '@stagecraft/opportunity';

// Amounts added exactly: every unweighted sum of amounts the API answers (the pipeline's columns
// and closed sections, win/loss, the forecast, the waterfall, velocity) is the exact decimal sum,
// so 0.1 + 0.2 is 0.3 and two answers about the same deals agree to the last digit whatever order
// they add in. An amount has at most AMOUNT_DECIMALS decimals (the amount rule), so it is a whole
// number of minor units (10^-AMOUNT_DECIMALS); those are added, and the sum is given back as the
// double nearest to it. The PostgreSQL read side adds the same units in SQL (amountUnitsSql in
// postgres/read-side.encoding.ts) and reads them back with valueOfUnitsText. Weighted amounts
// (amount × probability) are not decimals of that kind: they stay float sums.

const SCALE = 10 ** AMOUNT_DECIMALS;
// Below this an amount times SCALE is within a few units in the last place of a whole number < 2^53.
export const FAST_UNITS_BELOW = Number.MAX_SAFE_INTEGER / SCALE / 8;

/**
 * An amount as whole minor units (10^-AMOUNT_DECIMALS): exact for every valid amount. A number the
 * amount rule refuses may still be in the log (written before the rule, or by another writer): it
 * gets what amount_units (migration 21) gives it in SQL, so the two read sides still agree, and no
 * error: below FAST_UNITS_BELOW floor(x × 10^4 + 0.5) in floats, as SQL computes it (Math.round
 * differs for the double just below 0.5); above it its shortest text truncated to 4 decimals, in
 * exponent form too (1e+21).
 */
export function unitsOf(amount: number): number | bigint {
  if (Math.abs(amount) < FAST_UNITS_BELOW) return Math.floor(amount * SCALE + 0.5);
  return unitsOfText(String(amount));
}

/** The decimal `text` (as String() writes a number, exponent form included) times 10^AMOUNT_DECIMALS, truncated toward zero. */
function unitsOfText(text: string): bigint {
  const negative = text.startsWith('-');
  const [mantissa = '', exponent = '0'] = (negative ? text.slice(1) : text).split('e');
  const [whole = '', fraction = ''] = mantissa.split('.');
  const shift = Number(exponent) + AMOUNT_DECIMALS - fraction.length;
  const digits = BigInt(whole + fraction);
  const units = shift >= 0 ? digits * 10n ** BigInt(shift) : digits / 10n ** BigInt(-shift);
  return negative ? -units : units;
}

/** A sum of minor units, in a double while it stays exact there, else in a bigint. */
export class ExactSum {
  private units = 0;
  private big: bigint | undefined;

  add(units: number | bigint): void {
    if (this.big === undefined && typeof units === 'number') {
      const next = this.units + units;
      if (Number.isSafeInteger(next)) {
        this.units = next;
        return;
      }
    }
    this.big = (this.big ?? BigInt(this.units)) + BigInt(units);
  }

  /** The sum as the double nearest to it. */
  value(): number {
    return valueOfUnits(this.big ?? this.units);
  }
}

/**
 * Exact sums of amounts in numbered cells (a stage × currency, a group × currency): ExactSum's
 * rule in one typed array, a cell moving to a bigint only once its sum leaves the safe integers.
 */
export class ExactSums {
  private readonly units: Float64Array;
  private big: Map<number, bigint> | undefined;

  constructor(cells: number) {
    this.units = new Float64Array(cells);
  }

  /** Adds an amount to a cell; NaN (no amount) adds nothing. */
  add(cell: number, amount: number): void {
    if (Number.isNaN(amount)) return;
    const units = unitsOf(amount);
    if (typeof units === 'number' && this.big?.has(cell) !== true) {
      const next = this.units[cell]! + units;
      if (Number.isSafeInteger(next)) {
        this.units[cell] = next;
        return;
      }
    }
    const big = (this.big ??= new Map());
    big.set(cell, (big.get(cell) ?? BigInt(this.units[cell]!)) + BigInt(units));
  }

  /** The cell's sum as the double nearest to it. */
  value(cell: number): number {
    return valueOfUnits(this.big?.get(cell) ?? this.units[cell]!);
  }
}

/** Minor units as the double nearest to the amount (a whole number of units over 10^4 is correctly rounded; a bigint goes through its decimal text). */
export function valueOfUnits(units: number | bigint): number {
  if (typeof units === 'number') return units / SCALE;
  const negative = units < 0n;
  const size = negative ? -units : units;
  const fraction = String(size % BigInt(SCALE)).padStart(AMOUNT_DECIMALS, '0');
  return Number(`${negative ? '-' : ''}${size / BigInt(SCALE)}.${fraction}`);
}

/** A sum of minor units as PostgreSQL writes a whole numeric (amountUnitsSql), as the double nearest to the amount. */
export function valueOfUnitsText(text: string): number {
  const units = BigInt(text);
  return valueOfUnits(units >= BigInt(Number.MIN_SAFE_INTEGER) && units <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(units) : units);
}
