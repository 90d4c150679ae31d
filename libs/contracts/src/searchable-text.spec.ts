import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { createHash } from 'node:crypto';
import { SEARCHABLE_TEXT_RULE, searchableText } from './searchable-text';

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

describe('SEARCHABLE_TEXT_RULE', () => {
  // Folds are stored (the PostgreSQL read side's opportunities.search_text, under search_fold): a
  // change to what the rule gives must come with a new SEARCHABLE_TEXT_RULE, or stored folds made
  // under the old rule would be trusted, and a deal they no longer match missed. This pins what the
  // rule gives for text whose Unicode data no longer changes (ASCII, Latin, Greek, kana, the letters
  // spelled out): when it fails, bump the version, then write the new digest here.
  it('is bumped whenever the rule gives another fold for the same text', () => {
    const ranges: readonly (readonly [number, number])[] = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x3ff], [0x1e00, 0x1eff], [0x3040, 0x30ff], [0xff01, 0xff5e]];
    const corpus = ranges.flatMap(([from, to]) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)));
    const words = [...corpus, ...corpus.map((c) => `A${c}  b${c}\u0301`), 'Société  Générale', 'ＡＣＭＥ Straße', 'İstanbul', 'Łódź\u00a0depot', 'ｶﾞｽ'];
    const digest = createHash('sha256').update(words.map(searchableText).join('\n')).digest('hex').slice(0, 16);
    expect([SEARCHABLE_TEXT_RULE, digest]).toEqual([1, '9c8e19f1c3454050']);
  });
});
