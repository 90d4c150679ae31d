import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { searchableText } from './searchable-text';

// The rule written out step by step, without the shortcut for plain ASCII: the shortcut must
// never give another text (the board and both read sides compare with what it gives).
const UNMARKED: Readonly<Record<string, string>> = { ß: 'ss', ø: 'o', ł: 'l', đ: 'd', ı: 'i', æ: 'ae', œ: 'oe', þ: 'th', ð: 'd' };
const wholeRule = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/([\p{Script=Latin}\p{Script=Greek}])\p{M}+/gu, '$1')
    .toLowerCase()
    .replace(/[ßøłđıæœþð]/g, (letter) => UNMARKED[letter]!)
    .replace(/\s+/gu, ' ')
    .trim()
    .normalize('NFC');

describe('searchableText', () => {
  it('gives what the whole rule gives, plain ASCII (its shortcut) or not', async () => {
    const piece = fc.oneof(
      fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((code) => String.fromCharCode(code)), maxLength: 6 }),
      fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', 'é', 'É', 'e\u0301', 'ß', 'İ', 'ｶﾞ', 'ø', 'Ω', '\u0301', 'ガ'),
    );
    await assertProperty(
      fc.property(fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join('')), (text) => {
        expect(searchableText(text)).toBe(wholeRule(text));
      }),
      { numRuns: 5_000 },
    );
  });

  it('folds what a rep types the way a title was written', () => {
    expect(['Société  Générale', 'SOCIETE GENERALE', 'Socie\u0301te\u0301 ge\u0301ne\u0301rale', 'Ｓociété\u00a0générale '].map(searchableText)).toEqual(Array(4).fill('societe generale'));
    expect(searchableText('ACME-42 Pilot')).toBe('acme-42 pilot');
  });
});
