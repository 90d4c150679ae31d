import type { IncomingHttpHeaders } from 'node:http';
import { httpDateOf } from '@stagecraft/http';

// The static file server reads a board file's conditions with Date.parse and parseInt, which guess:
// If-Modified-Since "3000" was the year 3000 (304: a cache told its stale copy is current), "2026"
// a date the file changed after (If-Unmodified-Since: 412), a Range "bytes=1e3-" the bytes from 1.
// RFC 9110 has a recipient ignore a date that is not an HTTP-date (13.1.3, 13.1.4) and a Range it
// cannot read (14.2), and evaluate an If-Range it cannot meet as false: the whole file (13.1.5).
// So the headers reach the file server as HTTP-dates it reads exactly (httpDateOf), or not at all.

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
 * none; a Range that is not a byte-range set goes, and so does any Range under an If-Range. If-Range
 * is met only by a strong validator (RFC 9110, 13.1.5) and the files have none: their ETags are weak
 * (W/"…"), and so is their Last-Modified, whole seconds of a file a rebuild may rewrite twice within
 * one (8.8.2.2). The file server read an If-Range date as "not modified since", serving a range
 * under a date after the file's; a condition not met is the whole file.
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
  if (headers['if-range'] === undefined) return;
  delete headers.range;
  delete headers['if-range'];
}
