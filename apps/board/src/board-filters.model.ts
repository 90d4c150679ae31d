// A value from a library: esbuild bundles it by path (the board's tsconfigRaw has no path aliases).
import { searchableText, searchNeedleOf } from '../../../libs/contracts/src/searchable-text';
import { UNASSIGNED, type BoardCard, type BoardColumn } from './board.model';
import { isolated } from './format';

// Search, owner filter and sort of the board, kept in the address (?q=&owner=&sort=) so a view can
// be shared. Pure: board-filters.model.spec.ts.

export const SORTS = ['stage-time', 'amount-desc', 'amount-asc', 'title'] as const;
export type Sort = (typeof SORTS)[number];
export const SORT_LABELS: Readonly<Record<Sort, string>> = {
  'stage-time': 'Longest in stage first',
  'amount-desc': 'Largest amount first',
  'amount-asc': 'Smallest amount first',
  title: 'Title A–Z',
};

export interface BoardFilters {
  /** Matches the title, the owner (none for a deal nobody owns) or the id (however accents, case and spaces are written: searchable). */
  readonly q: string;
  readonly owner: string;
  readonly sort: Sort;
}

export function filtersFrom(params: URLSearchParams): BoardFilters {
  const sort = params.get('sort') ?? '';
  return { q: params.get('q') ?? '', owner: params.get('owner') ?? '', sort: (SORTS as readonly string[]).includes(sort) ? (sort as Sort) : 'stage-time' };
}

/** Writes the filters into an address, leaving out the defaults so a plain board has a plain address. */
export function writeFilters(params: URLSearchParams, filters: BoardFilters): void {
  const set = (name: string, value: string, fallback: string) => (value && value !== fallback ? params.set(name, value) : params.delete(name));
  set('q', filters.q.trim(), '');
  set('owner', filters.owner, '');
  set('sort', filters.sort, 'stage-time');
}

/**
 * The words a search looks for, folded; undefined when what was typed holds no letter or digit
 * ("-", spaces, "!!"): the API's rule (searchNeedleOf), which refuses such a search, so the board
 * searches nothing for it either (it filtered its cards on "-" while the API listed none of them).
 */
export function searchWords(q: string): string | undefined {
  return searchNeedleOf(q);
}

/** Whether a search, an owner filter or a sort other than the API's order is on: it must see a column's cards, not its first hundred. */
export function filtering(filters: BoardFilters): boolean {
  return searchWords(filters.q) !== undefined || filters.owner !== '' || filters.sort !== 'stage-time';
}

/**
 * The API's rule (GET /opportunities?q=, opportunity-search.ts): the title, the owner or the id
 * holds the words. A deal nobody owns has no owner to match: its card's "unassigned" is the board's
 * label, not text of the deal (matching it found every unowned card for "a" or "sign" here, and none
 * of them through the API). The owner filter is how a rep asks for them.
 */
export function matches(card: Pick<BoardCard, 'id' | 'title' | 'owner' | 'ownerId'>, filters: BoardFilters): boolean {
  if (filters.owner && card.owner !== filters.owner) return false;
  const needle = searchWords(filters.q);
  return needle === undefined || [card.title, card.ownerId, card.id].some((text) => text !== null && searchable(text).includes(needle));
}

/**
 * The owner filter as the API's search (GET /opportunities?q=) is asked it. The board's
 * "unassigned" stands for the deals nobody owns, which the API cannot be asked for by `ownerId`
 * (it looked for an owner of that name, and found none of them): asked without an owner, and only
 * the deals found with none kept (or of that name, which the board's own filter shows alike).
 */
export function searchOwner(owner: string): { readonly ownerId: string | undefined; readonly keeps: (hit: { readonly ownerId: string | null }) => boolean } {
  if (owner !== UNASSIGNED) return { ownerId: owner || undefined, keeps: () => true };
  return { ownerId: undefined, keeps: (hit) => hit.ownerId === null || hit.ownerId === UNASSIGNED };
}

/** Text as the search compares it: one rule with the API's GET /opportunities?q= (searchable-text.ts). */
export const searchable = searchableText;

/**
 * The columns with only the matching cards, sorted. Header figures stay the API's (the whole
 * column); `shown` says how many cards match when a filter hides some.
 */
export function filterColumns(columns: readonly BoardColumn[], filters: BoardFilters): (BoardColumn & { readonly hidden: number })[] {
  return columns.map((column) => {
    const kept = column.cards.filter((card) => matches(card, filters));
    // A column longer than what was loaded: the search and sort cover the cards listed, and say so.
    const more = column.more !== null && filtering(filters) ? `${column.more}: the search, filter and sort cover the ${column.cards.length.toLocaleString('en')} listed` : column.more;
    return { ...column, more, cards: sortCards(kept, filters.sort), hidden: column.cards.length - kept.length };
  });
}

/**
 * What a search or owner filter found, for everyone: a screen reader hears it (the cards it leaves
 * are not announced), and a phone shows one column at a time, which may hold none of what was found.
 * How many cards match, and in which columns; empty when neither is on (a sort hides nothing).
 */
export function searchSummary(shown: readonly { readonly name: string; readonly count: number; readonly cards: readonly unknown[]; readonly hidden: number }[], filters: BoardFilters): string {
  // Typed, but nothing to search for: said, or the rep takes the whole board for what "-" found.
  const unsearchable = filters.q.trim() !== '' && searchWords(filters.q) === undefined ? 'Nothing searched: a search needs a letter or digit.' : '';
  if (searchWords(filters.q) === undefined && filters.owner === '') return unsearchable;
  const found = shown.filter((column) => column.cards.length > 0);
  const total = found.reduce((sum, column) => sum + column.cards.length, 0);
  const said = total === 0 ? 'No deal matches.' : `${total.toLocaleString('en')} ${total === 1 ? 'deal matches' : 'deals match'}: ${found.map((column) => `${isolated(column.name)} (${column.cards.length.toLocaleString('en')})`).join(', ')}.`;
  // A column longer than what was loaded was searched in part: the count is not the whole board's.
  const unsearched = shown.map((column) => ({ name: column.name, more: column.count - column.cards.length - column.hidden })).filter((column) => column.more > 0);
  const all = unsearchable ? `${unsearchable} ${said}` : said;
  return unsearched.length === 0 ? all : `${all} Not searched: ${unsearched.map((column) => `${column.more.toLocaleString('en')} more in ${isolated(column.name)}`).join(', ')}.`;
}

/** Stage-time keeps the API's order (longest in stage first; closed columns newest first). */
export function sortCards(cards: readonly BoardCard[], sort: Sort): BoardCard[] {
  const amount = (card: BoardCard) => card.amountValue ?? -1;
  // Amounts are compared within a currency, never across (KWD 3,161 is not less than €3,168): the
  // cards are grouped by currency, those without one last.
  const byCurrency = (a: BoardCard, b: BoardCard) => (a.currency === b.currency ? 0 : a.currency === null ? 1 : b.currency === null ? -1 : a.currency.localeCompare(b.currency));
  switch (sort) {
    case 'stage-time':
      return [...cards];
    case 'amount-desc':
      return [...cards].sort((a, b) => byCurrency(a, b) || amount(b) - amount(a) || a.title.localeCompare(b.title));
    case 'amount-asc':
      return [...cards].sort((a, b) => byCurrency(a, b) || amount(a) - amount(b) || a.title.localeCompare(b.title));
    case 'title':
      return [...cards].sort((a, b) => a.title.localeCompare(b.title, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id));
    default: {
      const exhaustive: never = sort;
      throw new Error(`Unknown sort ${String(exhaustive)}`);
    }
  }
}

/** The owners on the board, for the owner filter. */
export function ownersOf(columns: readonly BoardColumn[]): string[] {
  return [...new Set(columns.flatMap((column) => column.cards.map((card) => card.owner)))].sort();
}
