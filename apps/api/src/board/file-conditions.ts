import type { IncomingHttpHeaders } from 'node:http';

// The static file server reads a board file's conditions with Date.parse and parseInt, which guess:
// If-Modified-Since "3000" was the year 3000 (304: a cache told its stale copy is current), "2026"
// a date the file changed after (If-Unmodified-Since: 412), a Range "bytes=1e3-" the bytes from 1.
// RFC 9110 has a recipient ignore a date that is not an HTTP-date (13.1.3, 13.1.4) and a Range it
// cannot read (14.2), and evaluate an If-Range it cannot meet as false: the whole file (13.1.5).
// So the headers reach the file server as HTTP-dates it reads exactly, or not at all.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110, 5.6.7: IMF-fixdate, and the two obsolete forms every recipient must still read. Case-sensitive.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/** The instant an HTTP-date names, or undefined when the text is not one (a real calendar day and time of day included). */
export function httpDateOf(text: string, now: Date): number | undefined {
  let parts: [day: string, month: string, year: number, hour: string, minute: string, second: string] | undefined;
  let match = IMF_FIXDATE.exec(text);
  if (match) parts = [match[1]!, match[2]!, Number(match[3]), match[4]!, match[5]!, match[6]!];
  else if ((match = RFC850_DATE.exec(text))) {
    // A two-digit year more than 50 years ahead is the most recent past year ending in those digits.
    const twoDigits = Number(match[3]);
    const thisYear = now.getUTCFullYear();
    let year = thisYear - (thisYear % 100) + twoDigits;
    if (year > thisYear + 50) year -= 100;
    parts = [match[1]!, match[2]!, year, match[4]!, match[5]!, match[6]!];
  } else if ((match = ASCTIME_DATE.exec(text))) parts = [match[2]!.trim(), match[1]!, Number(match[6]), match[3]!, match[4]!, match[5]!];
  if (!parts) return undefined;
  const [day, month, year, hour, minute, second] = parts;
  const [d, h, m, s] = [Number(day), Number(hour), Number(minute), Number(second)];
  if (h > 23 || m > 59 || s > 60) return undefined;
  const monthIndex = MONTHS.indexOf(month);
  const date = new Date(Date.UTC(year, monthIndex, d, h, m, Math.min(s, 59)));
  // 31 Feb would roll over into March: not a day of the calendar.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== monthIndex || date.getUTCDate() !== d) return undefined;
  return date.getTime();
}

/** A byte-range set (RFC 9110, 14.1.2): first-last, first-, or -suffix, comma-separated (empty elements and spaces around commas allowed). */
export function isByteRangeSet(text: string): boolean {
  const ranges = text
    .split(',')
    .map((range) => range.trim())
    .filter((range) => range !== '');
  return ranges.length > 0 && ranges.every((range) => /^(?:\d+-\d*|-\d+)$/.test(range));
}

/**
 * Rewrites a board file request's conditions as the file server should read them (see above):
 * If-Modified-Since and If-Unmodified-Since become the IMF-fixdate they name, or go when they name
 * none; a Range that is not a byte-range set goes, and so does any Range under an If-Range that is
 * not an HTTP-date: the files' ETags are weak (W/"…"), which If-Range never matches (it compares
 * strongly), and a date it cannot read is a condition not met.
 */
export function readableFileConditions(headers: IncomingHttpHeaders, now: Date): void {
  for (const name of ['if-modified-since', 'if-unmodified-since'] as const) {
    const value = headers[name];
    if (value === undefined) continue;
    const instant = httpDateOf(value, now);
    if (instant === undefined) delete headers[name];
    else headers[name] = new Date(instant).toUTCString();
  }
  const range = headers.range;
  if (range === undefined) return;
  const unit = /^\s*bytes\s*=/i.exec(range);
  // Another unit is not a byte range: the file server already ignores it.
  if (unit && !isByteRangeSet(range.slice(unit[0].length))) delete headers.range;
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return;
  const instant = typeof ifRange === 'string' ? httpDateOf(ifRange.trim(), now) : undefined;
  if (instant === undefined) {
    delete headers.range;
    delete headers['if-range'];
  } else headers['if-range'] = new Date(instant).toUTCString();
}
