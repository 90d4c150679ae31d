// The amount rule, in one place for the API, the CLI's import and decide: a deal's amount is a
// number from 0 to 10^15 with at most 4 decimal places (the finest minor unit of any ISO 4217
// currency). Exponent notation is just a way of writing a number: 1e-7 is refused for its 7
// decimals, 1.5e3 is 1500.

export const MAX_AMOUNT = 1e15;
export const AMOUNT_DECIMALS = 4;
export const AMOUNT_RULE = `a number from 0 to 10^15 with at most ${AMOUNT_DECIMALS} decimal places`;

const SCALE = 10 ** AMOUNT_DECIMALS;

export function isValidAmount(value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_AMOUNT) return false;
  // Scaled to minor units, a valid amount is a whole number, up to the rounding of binary
  // floating point (0.1 × 10^4 is 1000.0000000000001): a few units in the last place.
  const scaled = value * SCALE;
  return Math.abs(scaled - Math.round(scaled)) <= Math.max(1e-9, scaled * 8 * Number.EPSILON);
}
