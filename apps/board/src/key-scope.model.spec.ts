import { criteriaReadOnlyReason, formReadOnlyReason, mayWriteDeals, newDealOffer, selectableTeams } from './key-scope.model';

const standard = { teams: ['direct', 'partners'] };
const everyTeam = { teams: [] as string[] };

describe('what a key may do with deals', () => {
  it('writes with the writer role or admin, never as an analyst or auditor', () => {
    expect([['writer'], ['admin'], ['analyst'], ['auditor', 'analyst'], []].map((roles) => mayWriteDeals({ roles }))).toEqual([true, true, false, false, false]);
    expect(mayWriteDeals(null)).toBe(false);
  });

  it('offers the teams of the key: its own of the process when limited, the process\'s all otherwise', () => {
    expect(selectableTeams({ teams: null }, standard)).toEqual({ teams: ['direct', 'partners'], all: true });
    expect(selectableTeams({ teams: ['partners', 'inside'] }, standard)).toEqual({ teams: ['partners'], all: false });
    expect(selectableTeams({ teams: ['inside'] }, everyTeam)).toEqual({ teams: ['inside'], all: false });
    expect(selectableTeams({ teams: ['inside'] }, standard)).toEqual({ teams: [], all: false });
  });

  it('offers New deal to a writer with a process its teams run; disabled with the reason when none is; not at all to a read-only key', () => {
    expect(newDealOffer({ roles: ['writer'], teams: null }, standard)).toEqual({ kind: 'enabled' });
    expect(newDealOffer({ roles: ['writer'], teams: ['partners'] }, standard)).toEqual({ kind: 'enabled' });
    expect(newDealOffer({ roles: ['analyst'], teams: null }, standard)).toEqual({ kind: 'hidden' });
    expect(newDealOffer(null, standard)).toEqual({ kind: 'hidden' });
    // Before the processes are read, nothing is offered nor said (no reason flashing by at each sign-in).
    expect(newDealOffer({ roles: ['writer'], teams: ['nowhere'] }, null)).toEqual({ kind: 'hidden' });
    // A key whose teams run no process: no process was offered, and nothing to create a deal in.
    expect(newDealOffer({ roles: ['writer'], teams: ['nowhere'] }, 'none')).toEqual({ kind: 'disabled', reason: 'No process is run by the team of this key (\u2068nowhere\u2069): ask an administrator.' });
    expect(newDealOffer({ roles: ['writer'], teams: ['x', 'y'] }, 'none')).toEqual({ kind: 'disabled', reason: 'No process is run by the teams of this key (\u2068x\u2069, \u2068y\u2069): ask an administrator.' });
    expect(newDealOffer({ roles: ['writer'], teams: ['nowhere'] }, standard)).toEqual({ kind: 'disabled', reason: 'This process is run by none of the teams of this key (\u2068nowhere\u2069): ask an administrator.' });
    // A team's name is isolated (U+2068 … U+2069): a right-to-left one does not carry the parenthesis and the colon into its order.
    expect(newDealOffer({ roles: ['writer'], teams: ['שותפים'] }, 'none')).toEqual({ kind: 'disabled', reason: 'No process is run by the team of this key (\u2068שותפים\u2069): ask an administrator.' });
    expect(newDealOffer({ roles: ['writer'], teams: [] }, standard)).toEqual({ kind: 'disabled', reason: 'This process is run by none of the teams of this key (none): ask an administrator.' });
  });

  it('says why a deal form may not save for a read-only key, and nothing for a writer', () => {
    expect(formReadOnlyReason({ roles: ['writer'] }, true)).toBeNull();
    expect(formReadOnlyReason({ roles: ['analyst'] }, false)).toBe('This key may only read deals (analyst): it cannot create a deal. Saving needs a key with the writer role; what you typed stays here until the form is closed.');
    expect(formReadOnlyReason({ roles: ['auditor'] }, true)).toBe('This key may only read deals (auditor): it cannot save changes. Saving needs a key with the writer role; what you typed stays here until the form is closed.');
  });

  it('says why a panel of unmet criteria may not tick or move for a read-only key, and nothing for a writer', () => {
    expect(criteriaReadOnlyReason({ roles: ['admin'] })).toBeNull();
    expect(criteriaReadOnlyReason({ roles: ['analyst'] })).toBe('This key may only read deals (analyst): it cannot tick criteria or move the deal. Ticking and moving need a key with the writer role.');
  });
});
