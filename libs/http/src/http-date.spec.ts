import { httpDateOf } from './http-date';

const NOW = new Date('2026-12-02T12:00:00Z');

describe('httpDateOf', () => {
  it('reads the three forms of an HTTP-date, the two-digit year of the obsolete one as the past century when it would be over 50 years ahead', () => {
    const instant = Date.parse('1994-11-06T08:49:37Z');
    expect(httpDateOf('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(instant);
    expect(httpDateOf('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(instant);
    expect(httpDateOf('Sun Nov  6 08:49:37 1994', NOW)).toBe(instant);
    expect(httpDateOf('Thursday, 06-Nov-70 08:49:37 GMT', NOW)).toBe(Date.parse('2070-11-06T08:49:37Z'));
    expect(httpDateOf('Friday, 06-Nov-77 08:49:37 GMT', NOW)).toBe(Date.parse('1977-11-06T08:49:37Z'));
  });

  it('refuses what Date.parse would guess at: a year alone, another form, a day the calendar lacks, a time past the day, no zone, other letter case', () => {
    for (const text of ['3000', '2026', '0', '-1', '12/31/2099', 'tomorrow', '2026-12-02T12:00:00Z', 'Wed, 21 Oct 2099 07:28:00', 'Wed, 31 Feb 2099 07:28:00 GMT', 'Wed, 21 Oct 2099 24:00:00 GMT', 'wed, 21 oct 2099 07:28:00 gmt', 'Wed, 21 Oct 2099 07:28:00 UTC', ' Wed, 21 Oct 2099 07:28:00 GMT']) {
      expect(httpDateOf(text, NOW)).toBeUndefined();
    }
  });

  it('reads a year under 100 as that year (Date.UTC would take 0050 for 1950), and a leap second as the second before', () => {
    expect(httpDateOf('Sat, 01 Jan 0050 00:00:00 GMT', NOW)).toBe(Date.parse('0050-01-01T00:00:00Z'));
    expect(httpDateOf('Sat, 31 Dec 2016 23:59:60 GMT', NOW)).toBe(Date.parse('2016-12-31T23:59:59Z'));
  });

  it('refuses 29 February outside a leap year and takes it in one', () => {
    expect(httpDateOf('Sun, 29 Feb 2026 00:00:00 GMT', NOW)).toBeUndefined();
    expect(httpDateOf('Sat, 29 Feb 2028 00:00:00 GMT', NOW)).toBe(Date.parse('2028-02-29T00:00:00Z'));
  });
});
