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

/** An instant in the reader's time zone, down to the minute. */
export function formatInstant(instant: string): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

/** The day of an instant in the reader's time zone, e.g. "27 Nov 2026". */
export function formatDate(instant: string): string {
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium' }).format(date);
}

/** A date input's value (yyyy-mm-dd) as the first or last instant of that day in UTC. */
export function dayBoundary(day: string, edge: 'start' | 'end'): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  return edge === 'start' ? `${day}T00:00:00.000Z` : `${day}T23:59:59.999Z`;
}

/** A calendar day (yyyy-mm-dd, no time zone), e.g. "1 Dec 2026": read as written, never shifted by a zone. */
export function formatCalendarDay(day: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return day;
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}
