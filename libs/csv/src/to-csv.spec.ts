import { toCsv } from './csv';

describe('toCsv', () => {
  it('quotes what needs quoting, leaves numbers alone and defuses formulas', () => {
    const csv = toCsv([
      { stage: 'qualification', name: 'Qualification, early', count: 3, rate: 0.5, note: 'say "hi"' },
      { stage: 'won', name: '=HYPERLINK("x")', count: -2, rate: null, note: 'line\nbreak' },
    ]);
    expect(csv).toBe(
      'stage,name,count,rate,note\r\n' +
        'qualification,"Qualification, early",3,0.5,"say ""hi"""\r\n' +
        `won,"'=HYPERLINK(""x"")",-2,,"line\nbreak"\r\n`,
    );
  });

  it('writes only the header for no rows when columns are given', () => {
    expect(toCsv([], ['a', 'b'])).toBe('a,b\r\n');
  });
});
