import { httpDateOf, isByteRangeSet, readableFileConditions } from './file-conditions';

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
});

describe('isByteRangeSet', () => {
  it('takes first-last, first- and -suffix ranges, comma-separated, and nothing else', () => {
    for (const set of ['0-1', '2-', '-3', '0-1, 3-4', '0-1,,3-4', ' 0-1']) expect(isByteRangeSet(set)).toBe(true);
    for (const set of ['', '-', ',', '1e3-', '0x1-', '+1-2', '1.5-2', 'a-b', '0-1-2']) expect(isByteRangeSet(set)).toBe(false);
  });
});

describe('readableFileConditions', () => {
  it('writes each date it reads as an IMF-fixdate, drops one it cannot read, and a Range under an If-Range that is no date', () => {
    const headers: Record<string, string> = { 'if-modified-since': 'Sunday, 06-Nov-94 08:49:37 GMT', 'if-unmodified-since': '3000', range: 'bytes=0-1', 'if-range': '"abc"' };
    readableFileConditions(headers, NOW);
    expect(headers).toEqual({ 'if-modified-since': 'Sun, 06 Nov 1994 08:49:37 GMT' });
  });

  it('keeps a byte range under an If-Range date, and leaves another unit to the file server', () => {
    const headers: Record<string, string> = { range: 'bytes=0-1', 'if-range': 'Sun Nov  6 08:49:37 1994' };
    readableFileConditions(headers, NOW);
    expect(headers).toEqual({ range: 'bytes=0-1', 'if-range': 'Sun, 06 Nov 1994 08:49:37 GMT' });
    const items: Record<string, string> = { range: 'items=0-1' };
    readableFileConditions(items, NOW);
    expect(items).toEqual({ range: 'items=0-1' });
  });
});
