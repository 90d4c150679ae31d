import { searchableText, searchNeedleOf, type OpportunitySearchHit, type OpportunitySearchResult } from '@stagecraft/contracts';
import type { PipelineFilter } from './pipeline.projection';

// GET /opportunities?q=: every deal, open or closed, whose title, owner or id holds the words asked
// (searchableText: accents, case and spaces as the board's search folds them), newest first, a page
// at a time. The board searches the cards it loaded; this finds a deal it did not load (a column
// longer than its cards, a deal closed before the board's window). Both read sides match in
// JavaScript with the same rule over the same rows in the same order, so they list the same deals.

export type SearchStatus = OpportunitySearchHit['status'];

export interface OpportunitySearchQuery extends PipelineFilter {
  /** What the caller typed; it must hold something once folded (searchableText). */
  readonly q: string;
  /** Only deals whose latest outcome is one of these; all when absent. */
  readonly statuses?: readonly SearchStatus[];
  /** At most this many deals (a whole number ≥ 1). */
  readonly limit: number;
  /** The `next` of the previous page: the deals opened before that one (a deal of the same process, team and owner filters). */
  readonly after?: string;
}

/** A cursor that names no deal of the question's filters (process, team, owner): none an earlier page could have given. */
export class SearchCursorError extends RangeError {
  constructor(readonly after: string) {
    super(`after (${after}) names no deal of this search's filters: pass back the next of an earlier answer to the same question`);
    this.name = 'SearchCursorError';
  }
}

/** The words to find, folded; undefined when they hold no letter or digit: the rule of libs/contracts, which the board applies to its cards too. */
export { searchNeedleOf };

/** searchNeedleOf for a library caller: a RangeError instead of undefined (the API says which field first). */
export function searchNeedle(q: string): string {
  const needle = searchNeedleOf(q);
  if (needle === undefined) throw new RangeError('q must hold a letter or digit to search for');
  return needle;
}

/** Whether an owner holds the needle: each owner folded once per search (owners are few, deals many). */
export function ownerMatcher(needle: string): (ownerId: string | null) => boolean {
  const known = new Map<string, boolean>();
  return (ownerId) => {
    if (ownerId === null) return false;
    let holds = known.get(ownerId);
    if (holds === undefined) known.set(ownerId, (holds = searchableText(ownerId).includes(needle)));
    return holds;
  };
}

/** Whether a deal's owner (`ownerHolds`: ownerMatcher's answer), title or id holds the needle; the title and id are folded only when needed. */
export function dealMatches(needle: string, ownerHolds: boolean, title: string, id: string): boolean {
  return ownerHolds || searchableText(title).includes(needle) || searchableText(id).includes(needle);
}

/**
 * What the PostgreSQL read side keeps of a deal for its search (opportunities.search_text): its
 * title, id and owner, folded, one per line. A folded needle is never more than one line (folding
 * makes every run of spaces one space), so it is held by this text exactly when dealMatches says
 * the deal matches: PostgreSQL keeps the rows that hold it, and JavaScript still decides on each.
 */
export function dealSearchText(title: string, id: string, ownerId: string | null): string {
  return `${searchableText(title)}\n${searchableText(id)}\n${ownerId === null ? '' : searchableText(ownerId)}`;
}

/** Checks the query's limit (the API validates it first, with its own maximum; a library caller gets a RangeError). */
export function searchLimitOf(query: OpportunitySearchQuery): number {
  if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError(`limit must be a whole number of at least 1 (got ${query.limit})`);
  return query.limit;
}

/** Collects hits in the order offered until one past the limit: that one says whether there is a next page. */
export class SearchPage {
  private readonly hits: OpportunitySearchHit[] = [];
  private more = false;

  constructor(private readonly limit: number) {}

  /** False once the page is full (one more was seen: there is a next page). */
  add(hit: OpportunitySearchHit): boolean {
    if (this.hits.length === this.limit) {
      this.more = true;
      return false;
    }
    this.hits.push(hit);
    return true;
  }

  result(): OpportunitySearchResult {
    return { opportunities: this.hits, next: this.more ? this.hits[this.hits.length - 1]!.id : null };
  }
}
