import { dealMatches, dealSearchText, ownerMatcher, searchNeedle, searchNeedleOf } from './opportunity-search';
import { SEARCHED_OR_NOT } from '../../../test/support/search-needle-cases';

describe('the search rule of GET /opportunities?q=', () => {
  it('match the title, the owner or the id: a deal nobody owns has no owner to match (the board\'s "unassigned" is a label, not text of the deal)', () => {
    // The same deals and answers as the board's search in apps/board/src/board-filters.model.spec.ts.
    const deals = [
      { id: 'o1', title: 'Umbrella CRM', ownerId: null },
      { id: 'o2', title: 'Signage for Acme', ownerId: 'ana' },
      { id: 'o3', title: 'Unassigned leads clean-up', ownerId: null },
      { id: 'o4', title: 'Hooli', ownerId: 'bob' },
    ];
    const found = (q: string) => {
      const needle = searchNeedle(q);
      const ownerHolds = ownerMatcher(needle);
      return deals.filter((deal) => dealMatches(needle, ownerHolds(deal.ownerId), deal.title, deal.id)).map((deal) => deal.id);
    };
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

  it('search only what holds a letter or digit once folded: the board applies the same rule to its cards', () => {
    // The cases both ends are held to (test/support/search-needle-cases.ts).
    expect(SEARCHED_OR_NOT.map(([q]) => [q, searchNeedleOf(q) !== undefined])).toEqual(SEARCHED_OR_NOT);
    for (const [q, searched] of SEARCHED_OR_NOT) if (!searched) expect(() => searchNeedle(q)).toThrow(RangeError);
  });
});

describe('dealSearchText: what the PostgreSQL read side keeps to find the deals a search may match', () => {
  const titles = ['Umbrella CRM', 'Café  Crème', 'Cafe\u0301 cre\u0300me', 'ＡＣＭＥ Straße', 'Łódź\u00a0depot', 'ガス 配管', 'שלום עולם', 'Deal o1', 'x\ny', ' padded ', 'İstanbul'];
  const ids = ['o1', 'O-7', 'Ψ-3'];
  const owners = [null, 'ana', 'Ærø', 'BOB'];
  const needles = ['crm', 'CAFÉ CRÈME', 'cafe creme', 'acme strasse', 'lodz depot', 'ガ', 'カス', 'שלום', 'o1', 'o-7', 'ψ', 'aero', 'bob', 'y', 'x y', 'padded', 'istanbul', 'a', 'deal o', ...SEARCHED_OR_NOT.filter(([, searched]) => searched).map(([q]) => q)];

  it('holds a folded needle exactly when the deal matches it (dealMatches): a substring test on it finds no more and no fewer deals', () => {
    let matched = 0;
    for (const title of titles)
      for (const id of ids)
        for (const ownerId of owners) {
          const text = dealSearchText(title, id, ownerId);
          for (const q of needles) {
            const needle = searchNeedle(q);
            const matches = dealMatches(needle, ownerMatcher(needle)(ownerId), title, id);
            if (matches) matched += 1;
            expect([title, id, ownerId, q, text.includes(needle)]).toEqual([title, id, ownerId, q, matches]);
          }
        }
    // Both answers occur: the table tests something.
    expect(matched).toBeGreaterThan(100);
    expect(matched).toBeLessThan(titles.length * ids.length * owners.length * needles.length);
  });

  it('never lets a needle span two fields: the title\'s end and the id\'s start are not one word', () => {
    expect(dealSearchText('Deal ab', 'cd', 'ef').includes(searchNeedle('abcd'))).toBe(false);
    expect(dealSearchText('Deal ab', 'cd', 'ef').includes(searchNeedle('ab cd'))).toBe(false);
    expect(dealSearchText('Deal ab', 'cd', null).includes(searchNeedle('cd'))).toBe(true);
  });
});
