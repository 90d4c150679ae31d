import { amountProblem, dealBody, emptiedFields } from './deal-form.model';

const typed = (values: Partial<Record<'title' | 'amount' | 'currency' | 'ownerId' | 'teamId' | 'expectedCloseDate', string>>) => ({
  title: '',
  amount: '',
  currency: '',
  ownerId: '',
  teamId: '',
  expectedCloseDate: '',
  ...values,
});
const existing = { title: 'ACME', amount: 1000, currency: 'EUR', ownerId: 'ana', teamId: 'direct', expectedCloseDate: '2027-01-31' };

describe('the deal form\'s body', () => {
  it('a new deal: the fields filled in, amounts as numbers (thousands separators allowed), currency in capitals', () => {
    expect(dealBody(typed({ title: ' Nakatomi ', amount: '64,500', currency: 'eur', teamId: 'direct' }), undefined)).toEqual({ title: 'Nakatomi', amount: 64500, currency: 'EUR', teamId: 'direct' });
    // Not a number: sent as written, for the API to say what is wrong with it.
    expect(dealBody(typed({ title: 'X', amount: 'a lot' }), undefined)).toEqual({ title: 'X', amount: 'a lot' });
  });

  it('an edit: only what changed; an emptied close date clears it, an emptied owner is left as it was', () => {
    const same = typed({ title: 'ACME', amount: '1000', currency: 'EUR', ownerId: 'ana', teamId: 'direct', expectedCloseDate: '2027-01-31' });
    expect(dealBody(same, existing)).toEqual({});
    expect(dealBody({ ...same, ownerId: 'chen', amount: '1,200.50' }, existing)).toEqual({ ownerId: 'chen', amount: 1200.5 });
    expect(dealBody({ ...same, expectedCloseDate: '', ownerId: '' }, existing)).toEqual({ expectedCloseDate: null });
  });

  it('takes an amount as typed only when it is unambiguous: a European "48.000,50" or "48.000" is never read as 48.0005 or 48', () => {
    expect(dealBody(typed({ title: 'X', amount: '48 000.50' }), undefined)).toMatchObject({ amount: 48000.5 });
    expect(dealBody(typed({ title: 'X', amount: '1,234,567' }), undefined)).toMatchObject({ amount: 1234567 });
    expect(dealBody(typed({ title: 'X', amount: '48.000,50' }), undefined)).toMatchObject({ amount: '48.000,50' }); // the API refuses it, if it is sent
    expect(dealBody(typed({ title: 'X', amount: '1,2,3' }), undefined)).toMatchObject({ amount: '1,2,3' });
    expect(amountProblem('48.000,50')).toEqual({ kind: 'unreadable', message: 'Write decimals with a dot, not a comma: 48000.50 (or 48,000.50).' });
    expect(amountProblem('48,5')?.kind).toBe('unreadable');
    expect(amountProblem('48.000')).toEqual({ kind: 'ambiguous', message: 'Is this 48 or 48000? Save again to record 48, or write 48000.' });
    expect(amountProblem('12.345')?.kind).toBe('ambiguous'); // a dinar amount is recorded once confirmed
    expect(dealBody(typed({ title: 'X', amount: '12.345' }), undefined)).toMatchObject({ amount: 12.345 });
    for (const fine of ['', '48000', '48000.5', '48,000.50', '0.125', '0.25', '1.5', '-3', '1.5e3', '.5', 'a lot']) expect([fine, amountProblem(fine)]).toEqual([fine, undefined]);
    expect([dealBody(typed({ title: 'X', amount: '1.5e3' }), undefined).amount, dealBody(typed({ title: 'X', amount: '.5' }), undefined).amount]).toEqual([1500, 0.5]);
  });

  it('an edit that empties what the API cannot clear (amount, currency, owner, team) is named, not sent without it', () => {
    const same = typed({ title: 'ACME', amount: '1000', currency: 'EUR', ownerId: 'ana', teamId: 'direct', expectedCloseDate: '2027-01-31' });
    expect(emptiedFields(same, existing)).toEqual([]);
    expect(emptiedFields({ ...same, amount: ' ', ownerId: '', expectedCloseDate: '' }, existing)).toEqual(['amount', 'ownerId']);
    expect(emptiedFields({ ...same, currency: '', teamId: '' }, existing)).toEqual(['currency', 'teamId']);
    // Empty before, empty now: nothing emptied. A new deal leaves out what is not filled in.
    expect(emptiedFields({ ...same, amount: '', ownerId: '' }, { ...existing, amount: null, ownerId: null })).toEqual([]);
    expect(emptiedFields(typed({ title: 'X' }), undefined)).toEqual([]);
  });
});
