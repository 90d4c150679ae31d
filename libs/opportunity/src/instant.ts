// ISO 8601 date-time with an explicit zone: a business time without one is ambiguous.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Milliseconds since the epoch, or undefined when the text is not an ISO 8601 instant of a real
 * calendar date and time. Date.parse alone would take 2026-02-30 as 2 March and 24:00 as the next
 * day: a typo would silently become another instant.
 */
export function parseInstant(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = ISO_INSTANT.exec(text);
  if (!parts) return undefined;
  // Read field by field (no intermediate arrays): every command parses two or three instants.
  const year = Number(parts[1]);
  const month = Number(parts[2]);
  const day = Number(parts[3]);
  const hour = Number(parts[4]);
  const minute = Number(parts[5]);
  const second = parts[6] === undefined ? 0 : Number(parts[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** What every API, CLI and query parameter that takes an instant says when it gets something else. */
export const INSTANT_RULE = 'an ISO 8601 date-time with a time zone, such as 2026-03-31T23:59:59Z (a real calendar date and time)';

/** Milliseconds of an instant a caller gave; a RangeError naming the parameter when it is not one. */
export function requireInstant(text: string, name: string): number {
  const ms = parseInstant(text);
  if (ms === undefined) throw new RangeError(`${name} must be ${INSTANT_RULE} (got "${text}")`);
  return ms;
}
