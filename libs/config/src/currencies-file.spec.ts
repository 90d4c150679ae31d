import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CurrenciesFileError, describeStartFailure, loadCurrenciesFile, parseCurrenciesFile, readSettings } from '@stagecraft/config';

const problemsOf = (text: string) => {
  try {
    parseCurrenciesFile(text, 'currencies.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(CurrenciesFileError);
    return (error as CurrenciesFileError).issues.map(({ path, line }) => [path, line]);
  }
  throw new Error('expected the file to be refused');
};

describe('the currencies file', () => {
  it('reads a reporting currency and dated rates, sorted by currency then day', () => {
    const rates = parseCurrenciesFile(
      ['reportingCurrency: EUR', 'rates:', '  USD:', '    - { from: 2026-07-01, rate: 0.95 }', '    - { from: 2026-01-01, rate: 0.92 }', '  GBP:', '    - { from: 2026-01-01, rate: 1.17 }'].join('\n'),
      'currencies.yaml',
    );
    expect(rates).toEqual({
      file: 'currencies.yaml',
      reportingCurrency: 'EUR',
      rates: [
        { currency: 'GBP', rate: 1.17, from: '2026-01-01' },
        { currency: 'USD', rate: 0.92, from: '2026-01-01' },
        { currency: 'USD', rate: 0.95, from: '2026-07-01' },
      ],
    });
  });

  it('refuses a rate given twice for a currency, and lists the first problems of a file of thousands, counting them all', () => {
    expect(() => parseCurrenciesFile(['reportingCurrency: EUR', 'rates:', '  USD: [{ from: 2026-01-01, rate: 0.9, rate: 0.8 }]'].join('\n'), 'currencies.yaml')).toThrow(
      /currencies\.yaml:3 \(document\): YAML syntax: Map keys must be unique: "rate" is given again \(first at line 3\)/,
    );
    // Each key was compared with every earlier one, and each problem's line looked up from the root.
    const many = ['reportingCurrency: EUR', 'rates:', ...Array.from({ length: 40_000 }, (_, index) => `  C${index}: []`)].join('\n');
    try {
      parseCurrenciesFile(many, 'currencies.yaml');
      throw new Error('expected the file to be refused');
    } catch (error) {
      expect(error).toBeInstanceOf(CurrenciesFileError);
      const refused = error as CurrenciesFileError;
      expect([refused.total, refused.issues.length, refused.issues[0]]).toEqual([80_000, 100, { path: 'rates.C0', reason: expect.stringMatching(/ISO 4217/), line: 3 }]);
      expect(refused.message.split('\n')[0]).toBe('Invalid currencies file currencies.yaml (80000 problems; the first 100 listed):');
    }
  });

  it('names the field, its line and the reason for every problem', () => {
    expect(problemsOf(['reportingCurrency: euro', 'rates:', '  USD:', '    - { from: 2026-02-30, rate: 0 }', '  EUR: []', 'extra: 1'].join('\n'))).toEqual([
      ['extra', 6],
      ['reportingCurrency', 1],
      ['rates.USD[0].from', 4],
      ['rates.USD[0].rate', 4],
      ['rates.EUR', 5],
    ]);
    expect(problemsOf(['reportingCurrency: EUR', 'rates:', '  EUR:', '    - { from: 2026-01-01, rate: 1 }'].join('\n'))).toEqual([['rates.EUR', 4]]);
    expect(problemsOf(['reportingCurrency: EUR', 'rates:', '  USD:', '    - { from: 2026-01-01, rate: 0.9 }', '    - { from: 2026-01-01, rate: 0.8 }'].join('\n'))).toEqual([['rates.USD[1].from', 5]]);
    // A rate that would convert an amount to Infinity, or to nothing: outside 1e-9 to 1e9.
    for (const rate of ['1e308', '1.0e10', '1e-10', '5e-324']) {
      expect(problemsOf(['reportingCurrency: EUR', 'rates:', '  USD:', `    - { from: 2026-01-01, rate: ${rate} }`].join('\n'))).toEqual([['rates.USD[0].rate', 4]]);
    }
    expect(problemsOf('reportingCurrency: EUR\nrates: {USD: [{from: 2026-01-01, rate: 1, note: x}]}')).toEqual([['rates.USD[0].note', 2]]);
    expect(problemsOf('rates: [')).toHaveLength(1);
    // A value that holds itself through an alias is the YAML's mistake, named where the alias is.
    expect(problemsOf(['reportingCurrency: EUR', 'rates:', '  USD: &a', '    - { from: 2026-01-01, rate: 1 }', '    - *a'].join('\n'))).toEqual([['', 5]]);
  });

  it('stops start-up with one line an operator can act on, and is optional only at its default path', () => {
    const directory = mkdtempSync(join(tmpdir(), 'currencies-'));
    try {
      const missing = join(directory, 'none.yaml');
      expect(loadCurrenciesFile(missing, false)).toBeUndefined();
      expect(() => loadCurrenciesFile(missing, true)).toThrow(CurrenciesFileError);
      const bad = join(directory, 'bad.yaml');
      writeFileSync(bad, 'reportingCurrency: EUR\nrates: {USD: [{from: 2026-01-01, rate: -1}]}\n');
      let error: unknown;
      try {
        loadCurrenciesFile(bad, true);
      } catch (thrown) {
        error = thrown;
      }
      expect(describeStartFailure(error)).toMatch(new RegExp(`${bad}:2 rates\\.USD\\[0\\]\\.rate: must be a number from 1e-9 to 1000000000`));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    expect(readSettings({}, '/srv').currenciesFile).toEqual({ path: '/srv/config/currencies.yaml', required: false });
  });

  // The path itself is a setting to correct: named as the variable, then the path and why. At the
  // default path only a file that is not there is optional: a link to nothing or a folder is someone's
  // mistake, not "no currencies".
  it.each([
    ['missing', (dir: string) => join(dir, 'none.yaml'), 'does not exist; create it, or unset CURRENCIES_FILE to answer per currency only', false],
    ['a folder', (dir: string) => dir, 'is a folder, not a file', true],
    ['a symbolic link that loops', (dir: string) => (symlinkSync(join(dir, 'loop.yaml'), join(dir, 'loop.yaml')), join(dir, 'loop.yaml')), 'is a symbolic link that loops back on itself', true],
    ['a symbolic link to nothing', (dir: string) => (symlinkSync(join(dir, 'gone.yaml'), join(dir, 'link.yaml')), join(dir, 'link.yaml')), 'is a symbolic link to <dir>/gone.yaml, which does not exist', true],
  ])('names CURRENCIES_FILE, the file and the reason when it is %s', (_case, fileIn, reason, evenAtTheDefault) => {
    const directory = mkdtempSync(join(tmpdir(), 'currencies-path-'));
    try {
      const file = fileIn(directory);
      const expected = `${file} ${reason.replace('<dir>', directory)}`;
      expect(() => loadCurrenciesFile(file, true)).toThrow(new Error(`Invalid setting CURRENCIES_FILE: ${expected}`));
      if (evenAtTheDefault) expect(() => loadCurrenciesFile(file, false)).toThrow(new Error(`Invalid setting CURRENCIES_FILE: ${expected} (the default path, CURRENCIES_FILE being unset)`));
      else expect(loadCurrenciesFile(file, false)).toBeUndefined();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
    expect(readSettings({ CURRENCIES_FILE: 'money.yaml' }, '/srv').currenciesFile).toEqual({ path: '/srv/money.yaml', required: true });
  });
});
