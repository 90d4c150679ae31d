// The one runtime rule of this library: how the board's search and the API's GET /opportunities?q=
// compare text, so that a deal the board finds among its cards is found by the API among all deals,
// and the in-memory and PostgreSQL read sides (which both apply it in JavaScript) find the same.

/**
 * The version of searchableText's rule. Folds are stored (the PostgreSQL read side keeps each
 * deal's, opportunities.search_text), so a change to what the rule gives for any text (a letter
 * added to UNMARKED, another normalisation) must bump it: a fold stored under another version (or
 * another Unicode version of the runtime) is not trusted, and its deal is folded again where read.
 */
export const SEARCHABLE_TEXT_RULE = 1;

/** Letters that keep their mark through a decomposition (ø is not o + a mark), spelled as a rep would type them without it. */
const UNMARKED: Readonly<Record<string, string>> = { ß: 'ss', ø: 'o', ł: 'l', đ: 'd', ı: 'i', æ: 'ae', œ: 'oe', þ: 'th', ð: 'd' };

/**
 * Text as the search compares it. What a rep types and what a title holds may be the same words
 * written differently: an accent composed (é) or decomposed (e + ◌́, as a Mac or an import writes
 * it), or typed without it; another case (İ, ẞ); full-width letters; two spaces or a no-break
 * space. Only the case was folded before: a deal whose title was written otherwise was not found.
 */
export function searchableText(text: string): string {
  // Printable ASCII words one space apart (most titles, every id): only the case to fold. The API
  // folds every deal's title a search reads; the whole rule costs several times this.
  if (PLAIN.test(text)) return text.toLowerCase();
  return text
    .normalize('NFKD')
    .replace(ACCENTS, '$1')
    .toLowerCase()
    .replace(/[ßøłđıæœþð]/g, (letter) => UNMARKED[letter]!)
    .replace(/\s+/gu, ' ')
    .trim()
    .normalize('NFC');
}

/**
 * The words a search looks for, folded (searchableText); undefined when they hold no letter or
 * digit: spaces, marks or punctuation alone find nothing worth listing. The API refuses such a `q`
 * (GET /opportunities?q=) and the board searches nothing for it: one rule, or the board filtered its
 * cards on "-" while the API listed no deal for it.
 */
export function searchNeedleOf(q: string): string | undefined {
  const needle = searchableText(q);
  return /[\p{L}\p{N}]/u.test(needle) ? needle : undefined;
}

/**
 * The marks dropped: those on a Latin or Greek letter (an accent a rep may leave out). In other
 * scripts a mark is part of the letter, and dropping it made other words match: ガス (gas) found
 * カス (dregs), a Devanagari word lost its vowels. Those are composed again (NFC), so that a half-width
 * ｶﾞ is found as ガ, and カ alone does not find ガ.
 */
/** Printable ASCII, words one space apart, none at either end: what the whole rule leaves as it is but for the case. */
const PLAIN = /^(?:[\x21-\x7e]+(?: [\x21-\x7e]+)*)?$/;

const ACCENTS = /([\p{Script=Latin}\p{Script=Greek}])\p{M}+/gu;
