import type { WaterfallBucket, WaterfallMemoBucket } from '@stagecraft/contracts';
import { FIRST_INSTANT_MS, LAST_INSTANT_MS } from '@stagecraft/opportunity';
import { compareIds } from './process-catalog';

// The waterfall's drill-down (include=opportunities) in pages: a busy window has a change for
// every move, amount edit and closing of every deal, and listing them all built answers of tens of
// megabytes on the event loop. The changes of a window are put in one order — instant, deal,
// bucket, currency — which restricted to one bucket is the order each bucket lists them in; a page
// is the first `limit` changes from a cursor on, so the pages' lists, joined bucket by bucket, are
// the whole lists. Both read sides hand their changes to the same tally (waterfall.figures.ts), so
// their pages and cursors are the same.

/** Every bucket a change can be listed under, in the order a deal's changes at one instant are paged. */
const PAGE_BUCKETS: readonly (WaterfallBucket | WaterfallMemoBucket)[] = ['created', 'reopened', 'movedIn', 'stageIn', 'amountIncreased', 'amountDecreased', 'stageOut', 'movedOut', 'won', 'lost', 'pushedOut', 'pulledIn'];
const BUCKET_ORDER = new Map(PAGE_BUCKETS.map((bucket, index) => [bucket, index]));

/** Where a change stands in a window's order of changes; a cursor names one. */
export interface WaterfallChangeKey {
  readonly atMs: number;
  readonly id: string;
  readonly bucket: WaterfallBucket | WaterfallMemoBucket;
  readonly currency: string | null;
}

/** Which changes a waterfall lists: those from `fromChange` on (all when absent), at most `limit`. */
export interface WaterfallPage {
  readonly fromChange?: WaterfallChangeKey;
  readonly limit: number;
}

export function compareChangeKeys(a: WaterfallChangeKey, b: WaterfallChangeKey): number {
  return a.atMs - b.atMs || compareIds(a.id, b.id) || BUCKET_ORDER.get(a.bucket)! - BUCKET_ORDER.get(b.bucket)! || compareIds(a.currency ?? '', b.currency ?? '');
}

/**
 * The question a page answers: its window, filter and breakdown. A cursor is bound to it, so that
 * one passed back with another question (another window, team, owner, process or `by`) is refused
 * as no answer to that question gave it, rather than followed into a list it does not belong to.
 */
export interface WaterfallQuestion {
  readonly fromMs: number;
  readonly toMs: number;
  readonly processId?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly byStage?: boolean;
}

/** A short digest of the question (FNV-1a, 32 bits): it catches a cursor of another question, it guards no secret. */
function questionTag({ fromMs, toMs, processId, teamId, ownerId, byStage }: WaterfallQuestion): string {
  const text = JSON.stringify([fromMs, toMs, processId ?? null, teamId ?? null, ownerId ?? null, byStage === true]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0');
}

/**
 * The cursor a client passes back as `fromChange`: opaque to it (base64url of the key's fields, of
 * its question's window and of its question's tag). The window is in it so that a page asked with
 * the cursor alone pages the window of the answer that gave it (cursorWindow): a window asked
 * without `to` ends at the instant it was answered, which the next request cannot name otherwise
 * (a CSV answer echoes no window).
 */
export function encodeChangeKey({ atMs, id, bucket, currency }: WaterfallChangeKey, question: WaterfallQuestion): string {
  return Buffer.from(JSON.stringify([atMs, id, bucket, currency, question.fromMs, question.toMs, questionTag(question)]), 'utf8').toString('base64url');
}

/** The fields of a cursor's text, undefined when it is not the JSON array encodeChangeKey writes. */
function cursorFields(cursor: string): unknown[] | undefined {
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return Array.isArray(fields) && fields.length === 7 ? fields : undefined;
}

/**
 * The window of the answer that gave a cursor: what a page asked without `from` or `to` stands for
 * (the tag, checked by decodeChangeKey, still binds the cursor to it). Undefined when the text is no cursor.
 */
export function cursorWindow(cursor: string): { fromMs: number; toMs: number } | undefined {
  const [, , , , fromMs, toMs] = cursorFields(cursor) ?? [];
  return isInstant(fromMs) && isInstant(toMs) ? { fromMs, toMs } : undefined;
}

/**
 * A whole millisecond a `from` or `to` may name, in years 0001–9999 (a cursor altered by hand may
 * name one beyond, even one a Date holds: no answer gave it, and the answer would echo a `from` of
 * year -271821 that no route takes back).
 */
const isInstant = (ms: unknown): ms is number => Number.isSafeInteger(ms) && (ms as number) >= FIRST_INSTANT_MS && (ms as number) <= LAST_INSTANT_MS;

/** The key a cursor names; undefined when the text is not a cursor encodeChangeKey could have written for this question. */
export function decodeChangeKey(cursor: string, question: WaterfallQuestion): WaterfallChangeKey | undefined {
  const fields = cursorFields(cursor);
  if (fields === undefined) return undefined;
  const [atMs, id, bucket, currency] = fields;
  if (!Number.isSafeInteger(atMs) || typeof id !== 'string' || id.length === 0 || !BUCKET_ORDER.has(bucket as WaterfallBucket)) return undefined;
  if (currency !== null && typeof currency !== 'string') return undefined;
  const key: WaterfallChangeKey = { atMs: atMs as number, id, bucket: bucket as WaterfallBucket, currency };
  // One text per key and question: a cursor of another question, or altered by hand into another
  // spelling of the same bytes, is refused, not guessed at.
  return encodeChangeKey(key, question) === cursor ? key : undefined;
}

/**
 * The first `limit` entries from `from` on, and the one after them, without holding every entry:
 * kept in a buffer sorted and cut back to limit + 1 whenever it doubles (O(n log limit) in all).
 */
export class PageSelection<Entry extends { readonly key: WaterfallChangeKey }> {
  private entries: Entry[] = [];

  constructor(private readonly page: WaterfallPage | undefined) {}

  add(entry: Entry): void {
    if (this.page?.fromChange !== undefined && compareChangeKeys(entry.key, this.page.fromChange) < 0) return;
    this.entries.push(entry);
    if (this.page !== undefined && this.entries.length >= 2 * (this.page.limit + 1)) this.cut();
  }

  /** The entries of the page in order, and the key the next page starts at (undefined: this is the last). */
  result(): { entries: Entry[]; next: WaterfallChangeKey | undefined } {
    this.cut();
    const limit = this.page?.limit ?? Infinity;
    return { entries: this.entries.slice(0, limit), next: this.entries[limit]?.key };
  }

  private cut(): void {
    this.entries.sort((a, b) => compareChangeKeys(a.key, b.key));
    if (this.page !== undefined) this.entries.length = Math.min(this.entries.length, this.page.limit + 1);
  }
}
