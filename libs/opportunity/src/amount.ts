// The amount rule, in one place for the API, the CLI's import and decide: a deal's amount is a
// number from 0 to 10^15 with at most 4 decimal places (the finest minor unit of any ISO 4217
// currency). Exponent notation is just a way of writing a number: 1e-7 is refused for its 7
// decimals, 1.5e3 is 1500.

export const MAX_AMOUNT = 1e15;
export const AMOUNT_DECIMALS = 4;
export const AMOUNT_RULE = `a number from 0 to 10^15 with at most ${AMOUNT_DECIMALS} decimal places`;

export function isValidAmount(value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_AMOUNT) return false;
  return decimalPlaces(value) <= AMOUNT_DECIMALS;
}

/**
 * The decimal places of a number as written in its shortest form that reads back as the same
 * number (what JavaScript prints, and what the API answers): 0.3 has one, 0.30000000000000004
 * seventeen, 1e-7 seven. A decimal of at most 15 significant digits is always printed as written,
 * so every amount a client writes with 4 decimals passes; a tolerance for binary rounding (tried
 * before) let through numbers that are not such amounts (0.3000000000001, 123456789012.00001,
 * stored as …00002), kept as sent.
 */
export function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(Math.abs(value)).split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}
