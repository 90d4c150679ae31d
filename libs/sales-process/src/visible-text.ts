const NOTHING_DRAWN = String.raw`\s\p{Z}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800`;

/**
 * Text that draws something: a character that is not a space, a control (U+0085), a format
 * character (a zero-width space, a direction mark), another default-ignorable one (the Hangul
 * fillers, a variation selector) or the blank Braille pattern — the characters people paste to
 * make a name look empty. A deal's title and a process's names are shown on the board and printed
 * by the CLI; an empty-looking one is refused by both doors with this one rule.
 */
export const VISIBLE_CHARACTER = new RegExp(`[^${NOTHING_DRAWN}]`, 'u');

/** A character that draws nothing by the same rule: where a name must be read as it looks (a JWT claim's), it is dropped. */
export const DRAWS_NOTHING = new RegExp(`[${NOTHING_DRAWN}]`, 'u');
