// ISO 8601 date-time with an explicit zone: a business time without one is ambiguous.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// Digits below the millisecond that are not all zeros: …00.0005Z, …00.000100Z.
const BELOW_MILLISECOND = /\.\d{3}\d*[1-9]/;

/**
 * The first and last millisecond an instant may be: years 0001 to 9999 in UTC. Within them
 * Date#toISOString writes the plain four-digit form every reader takes back (PostgreSQL's
 * timestamptz, parseInstant itself, spreadsheets); outside, it writes `0000-…` or `+010000-…`,
 * which a read model in PostgreSQL refuses and this parser would not read again. A business time
 * beyond them (9999-12-31T23:59:59.9995Z included) is a typo, never a sale.
 */
export const FIRST_INSTANT_MS = -62135596800000; // 0001-01-01T00:00:00.000Z
export const LAST_INSTANT_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/**
 * Milliseconds since the epoch, or undefined when the text is not an ISO 8601 instant of a real
 * calendar date and time. Date.parse alone would take 2026-02-30 as 2 March and 24:00 as the next
 * day: a typo would silently become another instant.
 */
export function parseInstant(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  if (text.length === 24) {
    const ms = canonicalInstantMs(text);
    if (ms !== undefined) return ms;
  }
  return parseInstantByPattern(text);
}

/** parseInstant's general reading, every form it takes (exported for the property test of the fast path). */
export function parseInstantByPattern(text: string): number | undefined {
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
  // Year 0000, or an offset that carries the instant out of years 0001–9999 in UTC. Date.parse
  // drops the digits below the millisecond: 9999-12-31T23:59:59.9995Z is after the last one, and
  // read as a lower bound (parseLowerBound) it would be a millisecond no date text can write.
  if (Number.isNaN(ms) || ms < FIRST_INSTANT_MS || ms > LAST_INSTANT_MS || (ms === LAST_INSTANT_MS && BELOW_MILLISECOND.test(text))) return undefined;
  return ms;
}

// The form Date#toISOString gives a year outside 0001–9999, which a log written before instants
// were bounded may hold (parseInstant refuses it).
const EXTENDED_YEAR_ISO = /^[+-]\d{6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The instant of a time already stored in the log, read as strictly as Stagecraft writes it: ISO
 * text with a zone (parseInstant), or the extended-year form of a log written before instants were
 * bounded (`-000001-…`), which deciding must still see as the time it is. Anything else is NaN:
 * only another tool or an edit puts it there, and Date.parse would read a time without a zone or a
 * date alone in the server's own zone ("5" as 2001), so two servers would fold one log differently.
 */
export function storedInstant(value: unknown): number {
  if (typeof value !== 'string') return Number.NaN;
  return parseInstant(value) ?? (EXTENDED_YEAR_ISO.test(value) ? Date.parse(value) : Number.NaN);
}

/**
 * The text Date#toISOString writes for `ms`, the instant `text` was read as (parseInstant(text)):
 * `text` itself when it is in that form already (every server time is), a new string otherwise.
 */
export function isoTextOf(text: string, ms: number): string {
  return text.length === 24 && canonicalInstantMs(text) === ms ? text : new Date(ms).toISOString();
}

const ZERO = 48;
/** The value of two decimal digits at `at`, or -1. */
function twoDigits(text: string, at: number): number {
  const tens = text.charCodeAt(at) - ZERO;
  const units = text.charCodeAt(at + 1) - ZERO;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : -1;
}

/**
 * The instant of the text Date#toISOString writes for years 100–9999 (YYYY-MM-DDTHH:MM:SS.sssZ),
 * read without a regular expression or Date.parse: every command carries its server time in that
 * form and folds and decides on instants in it. Anything else (another form, an impossible date)
 * is undefined here and left to the general reading, which answers the same for this form.
 */
function canonicalInstantMs(text: string): number | undefined {
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return undefined;
  const century = twoDigits(text, 0);
  const yearOfCentury = twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  const second = twoDigits(text, 17);
  const hundreds = text.charCodeAt(20) - ZERO;
  const milliseconds = twoDigits(text, 21);
  if (century < 0 || yearOfCentury < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || hundreds < 0 || hundreds > 9 || milliseconds < 0) return undefined;
  const year = century * 100 + yearOfCentury;
  // Date.UTC reads years 0–99 as 1900–1999: those few are left to the general reading.
  if (year < 100 || day > daysIn(year, month)) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, hundreds * 100 + milliseconds);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * An inclusive lower bound's whole millisecond: the first one at or after the instant `text`
 * names (undefined when it is not one). Business times are whole milliseconds and parseInstant
 * drops the digits below one (…00.0005Z reads as …00.000Z), so a lower bound read by it would take
 * in the millisecond before the instant given. An upper bound, an asOf and a waterfall's ends keep
 * parseInstant's reading: the instants at or before …00.0005Z, and the state then, are those of
 * …00.000Z.
 */
export function parseLowerBound(text: string): number | undefined {
  const ms = parseInstant(text);
  return ms !== undefined && BELOW_MILLISECOND.test(text) ? ms + 1 : ms;
}

/** parseLowerBound's milliseconds of a bound a caller gave; a RangeError naming the parameter when it is not an instant. */
export function requireLowerBound(text: string, name: string): number {
  requireInstant(text, name);
  return parseLowerBound(text)!;
}

/**
 * Whether the instant `from` is after the instant `to`, to the last digit given: a period is
 * refused by the instants asked, not by the milliseconds they stand for (…00.0005Z is after
 * …00.0001Z, though both fall in one millisecond; …00.0001Z to …00.0005Z is a period, if one no
 * stored time falls in). Both must be instants (parseInstant).
 */
export function instantIsAfter(from: string, to: string): boolean {
  const difference = parseInstant(from)! - parseInstant(to)!;
  return difference !== 0 ? difference > 0 : belowMillisecond(from) > belowMillisecond(to);
}

/** The digits below the millisecond as nanoseconds (0 to 999,999): instants have at most nine fraction digits. */
function belowMillisecond(text: string): number {
  const digits = /\.\d{3}(\d+)/.exec(text)?.[1];
  return digits === undefined ? 0 : Number(digits.padEnd(6, '0'));
}

/** What every API, CLI and query parameter that takes an instant says when it gets something else. */
export const INSTANT_RULE = 'an ISO 8601 date-time with a time zone, such as 2026-03-31T23:59:59Z (a real calendar date and time, in years 0001–9999 once read in UTC)';

/** Milliseconds of an instant a caller gave; a RangeError naming the parameter when it is not one. */
export function requireInstant(text: string, name: string): number {
  const ms = parseInstant(text);
  if (ms === undefined) throw new RangeError(`${name} must be ${INSTANT_RULE} (got "${text}")`);
  return ms;
}
