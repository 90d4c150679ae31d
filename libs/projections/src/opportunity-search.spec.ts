import { dealMatches, ownerMatcher, searchNeedle, searchNeedleOf } from './opportunity-search';
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
