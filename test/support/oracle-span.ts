// ORACLE_START=YYYY-MM-DD moves an oracle's whole history to start on that day (UTC), the same length
// as by default: a history written on the last months of a year and the first of the next puts its
// cohorts, forecast quarters, backdated events and windows across the year's end, which the default
// span (inside one year) never does. The answers must not depend on where in the calendar a history lies.

const DAY_TEXT = /^\d{4}-\d{2}-\d{2}$/;

/** The oracle's START and NOW: the defaults, or both moved to begin on ORACLE_START. */
export function oracleSpan(defaultStart: number, defaultNow: number): { START: number; NOW: number } {
  const text = process.env.ORACLE_START?.trim();
  if (!text) return { START: defaultStart, NOW: defaultNow };
  const start = Date.parse(`${text}T00:00:00.000Z`);
  if (!DAY_TEXT.test(text) || Number.isNaN(start) || new Date(start).toISOString().slice(0, 10) !== text) throw new Error(`ORACLE_START must be a day, YYYY-MM-DD (got "${text}")`);
  return { START: start, NOW: start + (defaultNow - defaultStart) };
}
