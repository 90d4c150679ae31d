import { dayBoundary, isolated, quotedTitle, daysSince, formatDate, formatInstant, formatTimeOfDay, localDay, formatAmounts, formatDealAmount, formatPercent, secondsToDays } from './format';

describe('formatting', () => {
  it('gives each sum its own currency and never adds two currencies into one number', () => {
    expect(formatAmounts({ EUR: 1234.5 })).toBe('€1,235');
    expect(formatAmounts({ EUR: 100, USD: 200 })).toBe('€100 · $200');
    expect(formatAmounts({ unspecified: 300, EUR: 5 })).toBe('300 (no currency) · €5');
    expect(formatAmounts({})).toBe('0');
  });

  it('shows one deal\'s amount exactly as recorded: never rounded to a whole unit', () => {
    expect(formatDealAmount(48000.5, 'EUR')).toBe('€48,000.50');
    expect(formatDealAmount(1099.4, 'EUR')).toBe('€1,099.40');
    expect(formatDealAmount(0.4, 'EUR')).toBe('€0.40');
    expect(formatDealAmount(48000, 'EUR')).toBe('€48,000');
    expect(formatDealAmount(12.345, 'KWD')).toMatch(/^KWD\s12\.345$/);
    expect(formatDealAmount(10.0001, 'USD')).toBe('$10.0001');
    expect(formatDealAmount(7.25, null)).toBe('7.25');
  });

  it('counts whole days in stage, never fewer than 0', () => {
    const now = new Date('2026-03-10T12:00:00Z');
    expect(daysSince('2026-03-08T12:00:01Z', now)).toBe(1);
    expect(daysSince('2026-03-08T12:00:00Z', now)).toBe(2);
    expect(daysSince('2026-03-10T12:00:05Z', now)).toBe(0);
  });

  it('turns seconds into days and ratios into percentages', () => {
    expect(secondsToDays(86_400 * 2.25)).toBe(2.3);
    expect(secondsToDays(null)).toBeNull();
    expect(formatPercent(2 / 3)).toBe('66.7%');
    expect(formatPercent(null)).toBe('–');
  });

  it('reads a date input as the first or last instant of that day in the rep\'s time zone, not UTC\'s', () => {
    expect(dayBoundary('2026-03-01', 'start', 'UTC')).toBe('2026-03-01T00:00:00.000Z');
    expect(dayBoundary('2026-03-01', 'end', 'UTC')).toBe('2026-03-01T23:59:59.999Z');
    expect(dayBoundary('2026-03-01', 'start', 'Europe/Berlin')).toBe('2026-02-28T23:00:00.000Z');
    expect(dayBoundary('2026-03-01', 'end', 'Europe/Berlin')).toBe('2026-03-01T22:59:59.999Z');
    expect(dayBoundary('2026-12-31', 'end', 'America/New_York')).toBe('2027-01-01T04:59:59.999Z');
    // Years 1 to 99 are their own (Date.UTC would read 0026 as 1926): the API takes instants from year 0001.
    expect(dayBoundary('0026-03-01', 'start', 'UTC')).toBe('0026-03-01T00:00:00.000Z');
    expect(dayBoundary('0026-02-28', 'end', 'UTC')).toBe('0026-02-28T23:59:59.999Z');
    expect(dayBoundary('0099-12-31', 'end', 'UTC')).toBe('0099-12-31T23:59:59.999Z');
    const tokyo = Date.parse(dayBoundary('0026-03-01', 'start', 'Asia/Tokyo')!);
    expect([localDay(new Date(tokyo), 'Asia/Tokyo'), localDay(new Date(tokyo - 1), 'Asia/Tokyo')]).toEqual(['0026-03-01', '0026-02-28']);
    // A day the clocks go forward is 23 hours long.
    expect(dayBoundary('2026-03-29', 'start', 'Europe/Berlin')).toBe('2026-03-28T23:00:00.000Z');
    expect(dayBoundary('2026-03-29', 'end', 'Europe/Berlin')).toBe('2026-03-29T21:59:59.999Z');
    // Where the clocks go forward at midnight (Santiago, Havana, Asunción), the day starts at 01:00:
    // the instant the clocks skip at; the day before keeps its last hour.
    expect(dayBoundary('2026-09-06', 'start', 'America/Santiago')).toBe('2026-09-06T04:00:00.000Z');
    expect(dayBoundary('2026-09-05', 'end', 'America/Santiago')).toBe('2026-09-06T03:59:59.999Z');
    expect(dayBoundary('2026-03-08', 'start', 'America/Havana')).toBe('2026-03-08T05:00:00.000Z');
    // And where they go back at midnight, the day starts at the midnight that is its own (the second).
    expect(dayBoundary('2026-04-05', 'start', 'America/Santiago')).toBe('2026-04-05T04:00:00.000Z');
    expect(dayBoundary('2026-04-04', 'end', 'America/Santiago')).toBe('2026-04-05T03:59:59.999Z');
    // A day the zone skipped whole (Samoa crossed the date line) is an empty period, not an error.
    expect(dayBoundary('2011-12-30', 'start', 'Pacific/Apia')).toBe('2011-12-30T10:00:00.000Z');
    expect(dayBoundary('', 'start')).toBeUndefined();
  });

  it('shows every instant on the rep\'s own calendar: the day, the minute and "today" agree', () => {
    const lateEvening = '2026-03-10T23:30:00.000Z';
    expect([formatDate(lateEvening, 'Pacific/Auckland'), formatInstant(lateEvening, 'Pacific/Auckland'), localDay(new Date(lateEvening), 'Pacific/Auckland')]).toEqual(['11 Mar 2026', '11 Mar 2026, 12:30', '2026-03-11']);
    expect([formatDate(lateEvening, 'America/New_York'), localDay(new Date(lateEvening), 'America/New_York')]).toEqual(['10 Mar 2026', '2026-03-10']);
  });
  it('says a time of the rep\'s day as a time, and one of another day with its day', () => {
    const read = new Date('2026-03-10T23:30:00.000Z');
    expect(formatTimeOfDay(read, new Date('2026-03-10T23:45:00.000Z'), 'UTC')).toBe('23:30');
    // Past the rep's midnight (Auckland's 11 March is UTC's 10th): another day.
    expect(formatTimeOfDay(read, new Date('2026-03-11T11:30:00.000Z'), 'Pacific/Auckland')).toBe('11 Mar 2026, 12:30');
    expect(formatTimeOfDay(read, new Date('2026-03-11T10:30:00.000Z'), 'Pacific/Auckland')).toBe('12:30');
  });

  it('isolates a deal title or other text people wrote set in a sentence (U+2068 … U+2069), quotes outside it', () => {
    expect(isolated('שלום')).toBe('\u2068שלום\u2069');
    expect(quotedTitle('صفقة 42')).toBe('“\u2068صفقة 42\u2069”');
    expect(quotedTitle('ACME')).toBe('“\u2068ACME\u2069”');
  });
});
