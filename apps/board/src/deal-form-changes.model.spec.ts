import { closedMeanwhileText, otherChange, otherChangeText, theirValueText, valueInWords } from './deal-form-changes.model';

const deal = { title: 'Acme renewal', amount: 100, currency: 'EUR', ownerId: 'bob', teamId: 'direct', expectedCloseDate: null };
const typedFrom = (values: Partial<Record<keyof typeof deal, string>>) => ({ title: 'Acme renewal', amount: '100', currency: 'EUR', ownerId: 'bob', teamId: 'direct', expectedCloseDate: '', ...values });
const FSI = '\u2068';
const PDI = '\u2069';

describe('an Edit form\'s deal changed by someone else while it is open', () => {
  it('takes the new value of each field the rep left alone, and keeps what the rep typed where both changed it', () => {
    const fresh = { ...deal, title: 'Acme renewal 2027', amount: 300, ownerId: 'carol' };
    const change = otherChange(typedFrom({ amount: '250', expectedCloseDate: '2027-01-15' }), deal, fresh);
    expect(change).toEqual({ theirs: ['title', 'amount', 'ownerId'], taken: ['title', 'ownerId'], both: ['amount'] });
  });

  it('sees no conflict where the rep typed the very value someone else saved', () => {
    const change = otherChange(typedFrom({ amount: '300' }), deal, { ...deal, amount: 300 });
    expect(change).toEqual({ theirs: ['amount'], taken: ['amount'], both: [] });
  });

  it('finds nothing to say when none of the form\'s fields changed (a move, a criterion ticked)', () => {
    const change = otherChange(typedFrom({ title: 'Mine' }), deal, { ...deal });
    expect(change).toEqual({ theirs: [], taken: [], both: [] });
    expect(otherChangeText(change, deal)).toBe('');
  });

  it('names each changed field with its new value, user text isolated, and asks for a choice where both changed it', () => {
    const fresh = { ...deal, title: 'صفقة', amount: 48000.5, ownerId: 'carol', expectedCloseDate: null };
    const change = otherChange(typedFrom({ amount: '250' }), deal, fresh);
    expect(otherChangeText(change, fresh)).toBe(
      `Someone else changed this deal while this form was open: Title to “${FSI}صفقة${PDI}”; Amount to 48,000.5; Owner to ${FSI}carol${PDI}. ` +
        'The form now shows them (Title and Owner). You changed Amount too: what you typed is kept, and theirs shown beside it; choose Keep mine or Use theirs there before saving.',
    );
    expect(theirValueText(fresh, 'amount')).toBe('Someone else changed it to 48,000.5.');
  });

  it('says a field taken alone without a choice to make, and a cleared date as no date', () => {
    const before = { ...deal, expectedCloseDate: '2027-03-01' };
    const fresh = { ...before, expectedCloseDate: null };
    const change = otherChange(typedFrom({ expectedCloseDate: '2027-03-01' }), before, fresh);
    expect(otherChangeText(change, fresh)).toBe('Someone else changed this deal while this form was open: Expected close date to no date. The form now shows it.');
    expect(valueInWords({ ...deal, teamId: 'partners' }, 'teamId')).toBe(`${FSI}partners${PDI}`);
  });

  it('says a deal won or lost meanwhile cannot be saved, its title isolated', () => {
    expect(closedMeanwhileText('Acme', 'won')).toBe(`“${FSI}Acme${PDI}” was won meanwhile: a closed deal cannot be edited (reopen it first). It cannot be saved; what you typed stays here until the form is closed.`);
    expect(closedMeanwhileText('Acme', 'lost')).toMatch(/was lost meanwhile/);
  });
});
