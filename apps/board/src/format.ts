// Numbers as people read them. Pure: unit-tested in format.spec.ts.

const DAY_MS = 86_400_000;

/**
 * Sums per currency, each with its own currency ("€1,500 · $200"): two currencies are never added
 * into one number (issue 15). Amounts without a currency read "300 (no currency)"; none at all, "0".
 */
export function formatAmounts(byCurrency: Readonly<Record<string, number>>): string {
  const parts = Object.entries(byCurrency).map(([currency, sum]) => (currency === 'unspecified' ? `${formatNumber(sum)} (no currency)` : formatMoney(sum, currency)));
  return parts.length === 0 ? '0' : parts.join(' · ');
}

export function formatMoney(amount: number, currency: string | null): string {
  if (!currency) return formatNumber(amount);
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency, maximumFractionDigits: 0 }).format(amount);
  } catch {
    return `${formatNumber(amount)} ${currency}`;
  }
}

/**
 * One deal's own amount, exactly as recorded (up to the 4 decimals the API keeps): €48,000.50, not
 * €48,001. Whole amounts stay whole (€48,000); sums and charts keep formatMoney's whole units.
 */
export function formatDealAmount(amount: number, currency: string | null): string {
  const whole = Number.isInteger(amount);
  try {
    if (!currency) throw new RangeError('no currency');
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().minimumFractionDigits ?? 2;
    return new Intl.NumberFormat('en', { style: 'currency', currency, minimumFractionDigits: whole ? 0 : Math.min(digits, 4), maximumFractionDigits: 4 }).format(amount);
  } catch {
    const number = new Intl.NumberFormat('en', { maximumFractionDigits: 4 }).format(amount);
    return currency ? `${number} ${currency}` : number;
  }
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat('en', { maximumFractionDigits: 0 }).format(value);
}

/** Whole days since an instant, never negative (a clock a little behind the server's). */
export function daysSince(instant: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(instant)) / DAY_MS));
}

export function formatDays(days: number): string {
  return days === 1 ? '1 day' : `${days} days`;
}

/** Seconds as days, one decimal: stage visits last days or weeks. */
export function secondsToDays(seconds: number | null): number | null {
  return seconds === null ? null : Math.round((seconds / 86_400) * 10) / 10;
}

export function formatPercent(ratio: number | null): string {
  return ratio === null ? '–' : `${Math.round(ratio * 1000) / 10}%`;
}

// Every date the board shows or asks about is in the rep's own time zone (the browser's): a deal
// closed at 23:30 in Berlin is closed that day on its card, in the Won column's period, in the
// charts' periods and in the timeline alike. `timeZone` is for the specs only (undefined: the reader's).

/**
 * Building an Intl.DateTimeFormat costs a fraction of a millisecond, formatting with one next to
 * nothing: the board formats a date or two per card on every redraw, so each kind is built once per zone.
 */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
function dateFormat(kind: 'instant' | 'date' | 'time' | 'parts', timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${kind} ${timeZone ?? ''}`;
  let format = dateFormats.get(key);
  if (!format) {
    format =
      kind === 'parts'
        ? new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
        : new Intl.DateTimeFormat('en-GB', kind === 'instant' ? { dateStyle: 'medium', timeStyle: 'short', timeZone } : kind === 'time' ? { timeStyle: 'short', timeZone } : { dateStyle: 'medium', timeZone });
    dateFormats.set(key, format);
  }
  return format;
}

/** An instant in the reader's time zone, down to the minute. */
export function formatInstant(instant: string, timeZone?: string): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return dateFormat('instant', timeZone).format(date);
}

/** An instant as a time of day in the reader's time zone ("14:05"), with its day when it is not today's ("29 Nov 2026, 18:02"). */
export function formatTimeOfDay(instant: Date, now: Date, timeZone?: string): string {
  return localDay(instant, timeZone) === localDay(now, timeZone) ? dateFormat('time', timeZone).format(instant) : formatInstant(instant.toISOString(), timeZone);
}

/** The day of an instant in the reader's time zone, e.g. "27 Nov 2026". */
export function formatDate(instant: string, timeZone?: string): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return dateFormat('date', timeZone).format(date);
}

/** The calendar day (yyyy-mm-dd) an instant falls on in the reader's time zone: what a date input shows for "today". */
export function localDay(instant: Date, timeZone?: string): string {
  const parts = zoneParts(instant.getTime(), timeZone);
  return `${String(parts.year).padStart(4, '0')}-${String(parts.month).padStart(2, '0')}-${String(parts.day).padStart(2, '0')}`;
}

/**
 * A date input's value (yyyy-mm-dd) as the first or last instant of that day in the reader's time
 * zone: the day the rep picked, not the UTC day, which starts hours before or after theirs.
 */
export function dayBoundary(day: string, edge: 'start' | 'end', timeZone?: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const instant = edge === 'start' ? startOfDay(year, month, date, timeZone) : startOfDay(year, month, date + 1, timeZone) - 1;
  return new Date(instant).toISOString();
}

/**
 * The instant whose UTC reading is this wall-clock time; a day past the month's end rolls over.
 * Not Date.UTC, which reads years 0–99 as 1900–1999 (the API takes instants from year 0001).
 */
function utcWall(year: number, month: number, date: number, hour = 0, minute = 0, second = 0): number {
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, date);
  wall.setUTCHours(hour, minute, second, 0);
  return wall.getTime();
}

/** The first instant of a calendar day in a zone (utcWall rolls a day past the month's end over). */
function startOfDay(year: number, month: number, date: number, timeZone: string | undefined): number {
  const wall = utcWall(year, month, date);
  const day = new Date(wall).toISOString().slice(0, 10);
  // Midnight read with the offset of the day before and of the day after (the same but across a
  // change of offset): the earlier reading that falls on the day. Where the clocks go forward at
  // midnight (Santiago, Havana) no instant reads 00:00 and the day starts where they skip: the day
  // before's reading; the day after's is the previous day's last hour. A day the zone skipped
  // whole (Samoa, 30 Dec 2011) has no reading on it: it starts and ends where the skip is.
  const readings = [wall - offsetAt(wall - DAY_MS, timeZone), wall - offsetAt(wall + DAY_MS, timeZone)];
  const onTheDay = readings.filter((instant) => localDay(new Date(instant), timeZone) === day);
  return onTheDay.length > 0 ? Math.min(...onTheDay) : readings[0]!;
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(instant: number, timeZone: string | undefined): number {
  const parts = zoneParts(instant, timeZone);
  return utcWall(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second) - Math.floor(instant / 1000) * 1000;
}

function zoneParts(instant: number, timeZone: string | undefined): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const parts = dateFormat('parts', timeZone).formatToParts(instant);
  const value = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return { year: value('year'), month: value('month'), day: value('day'), hour: value('hour'), minute: value('minute'), second: value('second') };
}

/** A calendar day (yyyy-mm-dd, no time zone), e.g. "1 Dec 2026": read as written, never shifted by a zone. */
export function formatCalendarDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  return dateFormat('date', 'UTC').format(new Date(`${day}T00:00:00Z`));
}

/**
 * Text people wrote (a deal's title, an owner, a reason, next steps) set in a sentence, isolated
 * (U+2068 FIRST STRONG ISOLATE … U+2069 POP DIRECTIONAL ISOLATE): a right-to-left title keeps its
 * own order without reordering the words around it ("“صفقة 42” moved to Qualification." came out
 * with the stage and the quotes in the wrong places). Where an element can be built, <bdi> does the same.
 */
export function isolated(text: string): string {
  return `\u2068${text}\u2069`;
}

/**
 * A deal's title (or another name in quotes: a criterion's description) in a sentence: quoted, the
 * quotes outside the isolate (dialogs.ts draws them around a <bdi> alike).
 */
export function quotedTitle(title: string): string {
  return `“${isolated(title)}”`;
}
