import { isByteRangeSet, readableFileConditions } from './file-conditions';

const NOW = new Date('2026-12-02T12:00:00Z');

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

  // RFC 9110, 13.1.5: an If-Range date is met only by an exact match of a strong Last-Modified;
  // the file server read it as "not modified since" (a date after the file's served the range).
  // The files' Last-Modified is weak (whole seconds of a file a rebuild may rewrite twice within
  // one), so no If-Range date is met: the whole file.
  it('drops a Range under any If-Range, a date included (the files have no strong validator), and leaves another unit to the file server', () => {
    for (const ifRange of ['Sun Nov  6 08:49:37 1994', 'Wed, 21 Oct 2099 07:28:00 GMT']) {
      const headers: Record<string, string> = { range: 'bytes=0-1', 'if-range': ifRange };
      readableFileConditions(headers, NOW);
      expect([ifRange, headers]).toEqual([ifRange, {}]);
    }
    const items: Record<string, string> = { range: 'items=0-1' };
    readableFileConditions(items, NOW);
    expect(items).toEqual({ range: 'items=0-1' });
  });
});
