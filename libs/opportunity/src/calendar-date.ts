// A calendar date (YYYY-MM-DD) such as an expected close date: a day, not an instant, so it has no
// time zone and never moves when the server's zone does.

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * Days since 1970-01-01 of a real calendar date written YYYY-MM-DD, or undefined for anything
 * else (2026-02-30, 2026-2-3, a date-time). Read models keep the day number: four bytes a row.
 */
export function parseCalendarDay(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = ISO_DATE.exec(text);
  if (!parts) return undefined;
  const [year, month, day] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  const ms = Date.UTC(year, month - 1, day);
  const date = new Date(ms);
  // Date.UTC rolls 02-30 over into March: a typo must not become another day. (Years below 100
  // are mapped to 19xx by Date.UTC, hence setUTCFullYear.)
  date.setUTCFullYear(year);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return Math.round(date.getTime() / DAY_MS);
}

/** The YYYY-MM-DD text of a day number (days since 1970-01-01). */
export function calendarDateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** What the API and the CLI say when a date is not one. */
export const CALENDAR_DATE_RULE = 'a calendar date written YYYY-MM-DD, such as 2026-06-30 (a real date)';
