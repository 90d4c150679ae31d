import { dealBody } from './deal-form.model';

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
});
