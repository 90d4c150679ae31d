// One reader of HTTP-dates for every door that meets one (the board's file conditions, a webhook's
// Retry-After): Date.parse guesses, taking "3000" for the year 3000 and 31 Feb for 3 March, and
// RFC 9110 has a recipient treat what is not an HTTP-date as no date at all (5.6.7, 10.2.3, 13.1).

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110, 5.6.7: IMF-fixdate, and the two obsolete forms every recipient must still read. Case-sensitive.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850_DATE = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

/**
 * The instant an HTTP-date names, or undefined when the text is not one (a real calendar day and
 * time of day included). `now` only places the two-digit year of the obsolete RFC 850 form.
 */
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
  // setUTCFullYear, not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, d);
  date.setUTCHours(h, m, Math.min(s, 59));
  // 31 Feb would roll over into March: not a day of the calendar.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== monthIndex || date.getUTCDate() !== d) return undefined;
  return date.getTime();
}
