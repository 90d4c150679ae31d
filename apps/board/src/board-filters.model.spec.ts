import type { OpportunitySearchHit } from '@stagecraft/contracts';
import { searchHitCard, type BoardCard, type BoardColumn } from './board.model';
import { filterColumns, filtering, filtersFrom, matches, ownersOf, searchOwner, searchSummary, searchWords, writeFilters } from './board-filters.model';
import { SEARCHED_OR_NOT } from '../../../test/support/search-needle-cases';

const card = (id: string, title: string, owner: string, amountValue: number | null, currency: string | null = amountValue === null ? null : 'EUR'): BoardCard => ({
  id,
  title,
  owner,
  ownerId: owner === 'unassigned' ? null : owner,
  amount: String(amountValue),
  amountValue,
  currency,
  teamId: 'direct',
  stageId: 'new',
  status: 'open',
  daysInStage: 1,
  rotting: false,
  expectedCloseDate: null,
  overdue: false,
  nextSteps: null,
  closedAt: null,
  lostReason: null,
  criteria: null,
  closedInStage: null,
  processVersion: null,
});
const cards = [card('a1', 'Umbrella CRM', 'ana', 500), card('b2', 'ACME renewal', 'bob', 2000), card('c3', 'Hooli analytics', 'ana', null)];
const column: BoardColumn = { key: 'new', target: { kind: 'stage', stageId: 'new', name: 'New' }, name: 'New', probability: 10, count: 3, amount: '', weightedAmount: null, converted: null, rotting: 0, cards, caption: null, more: null, omitted: 0, capped: false };

describe('board filters', () => {
  it('read from and write to the address, leaving the defaults out', () => {
    const filters = filtersFrom(new URLSearchParams('process=standard&q=acme&owner=bob&sort=title'));
    expect(filters).toEqual({ q: 'acme', owner: 'bob', sort: 'title' });
    expect(filtersFrom(new URLSearchParams('sort=nonsense')).sort).toBe('stage-time');
    const params = new URLSearchParams('process=standard&q=old');
    writeFilters(params, { q: ' ', owner: '', sort: 'stage-time' });
    expect(params.toString()).toBe('process=standard');
    writeFilters(params, { q: 'hooli', owner: 'ana', sort: 'amount-desc' });
    expect(filtersFrom(params)).toEqual({ q: 'hooli', owner: 'ana', sort: 'amount-desc' });
  });

  it('search the title, the owner and the id, case-insensitively; the owner filter is exact', () => {
    const base = { owner: '', sort: 'stage-time' as const };
    expect(cards.filter((entry) => matches(entry, { ...base, q: 'CRM' })).map((entry) => entry.id)).toEqual(['a1']);
    expect(cards.filter((entry) => matches(entry, { ...base, q: 'bo' })).map((entry) => entry.id)).toEqual(['b2']);
    expect(cards.filter((entry) => matches(entry, { ...base, q: 'c3' })).map((entry) => entry.id)).toEqual(['c3']);
    expect(cards.filter((entry) => matches(entry, { q: '', owner: 'ana', sort: 'stage-time' })).map((entry) => entry.id)).toEqual(['a1', 'c3']);
  });

  it('find a deal however its letters were written: accents composed or decomposed, or left out; other cases; full-width letters; other spaces', () => {
    const odd = [
      // As a Mac or an import may write it: each accent a letter of its own after its e.
      card('d1', 'Société Générale'.normalize('NFD'), 'zoë', 1),
      card('d2', 'İstanbul Straße', 'bob', 1),
      card('d3', 'ＡＣＭＥ  Tokyo', 'ana', 1),
      card('d4', 'Øresund Bridge', 'łukasz', 1),
      card('d5', 'Umbrella CRM', 'ana', 1),
    ];
    const found = (q: string) => odd.filter((entry) => matches(entry, { q, owner: '', sort: 'stage-time' })).map((entry) => entry.id);
    expect(found('Société'.normalize('NFC'))).toEqual(['d1']);
    expect(found('societe generale')).toEqual(['d1']);
    expect(found('SOCIÉTÉ')).toEqual(['d1']);
    expect(found('zoe')).toEqual(['d1']);
    expect(found('istanbul')).toEqual(['d2']);
    expect(found('strasse')).toEqual(['d2']);
    expect(found('STRASSE')).toEqual(['d2']);
    expect(found('acme tokyo')).toEqual(['d3']);
    expect(found('oresund')).toEqual(['d4']);
    expect(found('lukasz')).toEqual(['d4']);
    expect(found('umbrella\u00a0crm')).toEqual(['d5']);
    expect(found('umbrella   crm')).toEqual(['d5']);
    // Folding never makes a match of what differs in its letters.
    expect(found('societe generales')).toEqual([]);
  });

  it('fold only the accents of Latin and Greek letters: a mark that is part of another script\'s letter tells words apart', () => {
    const scripts = [
      card('j1', 'ガス供給', 'ana', 1), // gas supply
      card('j2', 'カス処理', 'ana', 1), // dregs disposal: the same kana without the voicing mark
      card('h1', 'दिल्ली', 'ana', 1), // Delhi: its vowel signs are marks
      card('h2', 'दल्ल', 'ana', 1),
      card('g1', 'Αθήνα', 'ana', 1),
    ];
    const found = (q: string) => scripts.filter((entry) => matches(entry, { q, owner: '', sort: 'stage-time' })).map((entry) => entry.id);
    expect(found('ガス')).toEqual(['j1']);
    expect(found('カス')).toEqual(['j2']);
    // Half-width katakana, typed on another keyboard, are still the same letters.
    expect(found('ｶﾞｽ')).toEqual(['j1']);
    expect(found('दिल्ली')).toEqual(['h1']);
    expect(found('दल्ल')).toEqual(['h2']);
    // Greek accents fold as Latin ones do.
    expect(found('αθηνα')).toEqual(['g1']);
  });

  it('say what a search or owner filter found, and in which columns (a screen reader hears it; a phone shows one column): nothing without one', () => {
    const won: BoardColumn = { ...column, key: 'won', name: 'Won', target: { kind: 'won', name: 'Won' }, count: 1, cards: [card('w1', 'ACME expansion', 'ana', 10)] };
    const summary = (q: string, owner = '', sort: 'stage-time' | 'title' = 'stage-time') => searchSummary(filterColumns([column, won], { q, owner, sort }), { q, owner, sort });
    expect(summary('acme')).toBe('2 deals match: \u2068New\u2069 (1), \u2068Won\u2069 (1).');
    expect(summary('', 'ana')).toBe('3 deals match: \u2068New\u2069 (2), \u2068Won\u2069 (1).');
    expect(summary('hooli')).toBe('1 deal matches: \u2068New\u2069 (1).');
    expect(summary('nothing like it')).toBe('No deal matches.');
    expect(summary('', '', 'title')).toBe('');
    expect(summary('  ')).toBe('');
    // A column longer than what was loaded was searched in part, and that is said.
    const crowded = { ...column, count: 1_203, more: '1,200 more not shown', omitted: 1_200, capped: true };
    expect(searchSummary(filterColumns([crowded, won], { q: 'acme', owner: '', sort: 'stage-time' }), { q: 'acme', owner: '', sort: 'stage-time' })).toBe('2 deals match: \u2068New\u2069 (1), \u2068Won\u2069 (1). Not searched: 1,200 more in \u2068New\u2069.');
  });

  it('sort within a column, keeping the API order by default, and count what a filter hides', () => {
    const ids = (sort: 'stage-time' | 'amount-desc' | 'amount-asc' | 'title', q = '') => filterColumns([column], { q, owner: '', sort })[0]!.cards.map((entry) => entry.id);
    expect(ids('stage-time')).toEqual(['a1', 'b2', 'c3']);
    expect(ids('amount-desc')).toEqual(['b2', 'a1', 'c3']);
    expect(ids('amount-asc')).toEqual(['a1', 'b2', 'c3']); // a deal with no amount comes last either way
    expect(ids('title')).toEqual(['b2', 'c3', 'a1']);
    expect(filterColumns([column], { q: 'ana', owner: '', sort: 'stage-time' })[0]!.hidden).toBe(1);
    expect(ownersOf([column])).toEqual(['ana', 'bob']);
  });

  it('say, on a column longer than what was loaded, that a search, filter or sort covers the cards listed', () => {
    const plain = filtersFrom(new URLSearchParams(''));
    const capped = { ...column, count: 1_203, more: '1,200 more not shown', omitted: 1_200, capped: true };
    expect(filtering(plain)).toBe(false);
    expect(filterColumns([capped], plain)[0]!.more).toBe('1,200 more not shown');
    for (const query of ['q=acme', 'owner=ana', 'sort=title']) {
      const filters = filtersFrom(new URLSearchParams(query));
      expect([query, filtering(filters)]).toEqual([query, true]);
      expect([query, filterColumns([capped], filters)[0]!.more]).toEqual([query, '1,200 more not shown: the search, filter and sort cover the 3 listed']);
    }
  });

  it('sort amounts within a currency, never across: KWD 3,161 is not placed by comparing it with €3,168', () => {
    const mixed = { ...column, cards: [card('e1', 'E', 'ana', 3168, 'EUR'), card('k1', 'K', 'ana', 3161, 'KWD'), card('e2', 'E2', 'ana', 9000, 'EUR'), card('n1', 'N', 'ana', null), card('k2', 'K2', 'ana', 10, 'KWD')] };
    const ids = (sort: 'amount-desc' | 'amount-asc') => filterColumns([mixed], { q: '', owner: '', sort })[0]!.cards.map((entry) => entry.id);
    expect(ids('amount-desc')).toEqual(['e2', 'e1', 'k1', 'k2', 'n1']);
    expect(ids('amount-asc')).toEqual(['e1', 'e2', 'k2', 'k1', 'n1']);
  });

  it('ask the API\'s search for deals nobody owns without an owner (it has no way to name none), keeping only those it finds with none', () => {
    const none = searchOwner('unassigned');
    expect(none.ownerId).toBeUndefined();
    expect([{ ownerId: null }, { ownerId: 'bob' }, { ownerId: 'unassigned' }].map((hit) => none.keeps(hit))).toEqual([true, false, true]);
    const bob = searchOwner('bob');
    expect([bob.ownerId, bob.keeps({ ownerId: 'bob' })]).toEqual(['bob', true]);
    expect(searchOwner('').ownerId).toBeUndefined();
  });

  it('find among the cards what the API\'s search finds among the deals: a deal nobody owns has no owner to match, not the word "unassigned"', () => {
    // The same deals and answers as the API's rule in libs/projections/src/opportunity-search.spec.ts.
    const hit = (id: string, title: string, ownerId: string | null): OpportunitySearchHit => ({ id, title, ownerId, processId: 'standard', processVersion: 'v1', status: 'open', stageId: 'new', closedAt: null, teamId: null, amount: null, currency: null });
    const deals = [hit('o1', 'Umbrella CRM', null), hit('o2', 'Signage for Acme', 'ana'), hit('o3', 'Unassigned leads clean-up', null), hit('o4', 'Hooli', 'bob')];
    const found = (q: string) => deals.filter((deal) => matches(searchHitCard(deal), { q, owner: '', sort: 'stage-time' })).map((deal) => deal.id);
    const asked = ['unassigned', 'UNASSIGNED', 'unass', 'sign', 'ned', 'a', 'ana', 'bob', 'o1', 'crm'];
    expect(asked.map((q) => [q, found(q)])).toEqual([
      ['unassigned', ['o3']],
      ['UNASSIGNED', ['o3']],
      ['unass', ['o3']],
      ['sign', ['o2', 'o3']],
      ['ned', ['o3']],
      ['a', ['o1', 'o2', 'o3']],
      ['ana', ['o2']],
      ['bob', ['o4']],
      ['o1', ['o1']],
      ['crm', ['o1']],
    ]);
  });

  it('search only what the API searches: words with no letter or digit filter nothing, and say so (the API refuses them)', () => {
    // The cases both ends are held to (test/support/search-needle-cases.ts).
    const deals = [card('p1', 'Acme - renewal', 'ana', 1), card('p2', 'Hooli!!', 'bob', 1), card('p3', 'Initech', 'ana', 1)];
    // Not searched: every card stays, as the API lists no deal for it; searched: only what holds the words.
    const filtersCards = (q: string) => deals.filter((entry) => matches(entry, { q, owner: '', sort: 'stage-time' })).length < deals.length;
    expect(SEARCHED_OR_NOT.map(([q]) => [q, filtersCards(q)])).toEqual(SEARCHED_OR_NOT);
    expect(SEARCHED_OR_NOT.map(([q]) => [q, searchWords(q) !== undefined])).toEqual(SEARCHED_OR_NOT);
    // Nothing searched is no filter: the column is the API's, no capped column asks for its 1,000 cards for it.
    expect(filtering({ q: '--', owner: '', sort: 'stage-time' })).toBe(false);
    const summary = (q: string, owner = '') => searchSummary(filterColumns([column], { q, owner, sort: 'stage-time' }), { q, owner, sort: 'stage-time' });
    expect(summary('!!')).toBe('Nothing searched: a search needs a letter or digit.');
    expect(summary('!!', 'ana')).toBe('Nothing searched: a search needs a letter or digit. 2 deals match: \u2068New\u2069 (2).');
  });
});
