/**
 * Text that draws something: a character that is not a space, a control (U+0085), a format
 * character (a zero-width space, a direction mark), another default-ignorable one (the Hangul
 * fillers, a variation selector) or the blank Braille pattern — the characters people paste to
 * make a name look empty. A deal's title and a process's names are shown on the board and printed
 * by the CLI; an empty-looking one is refused by both doors with this one rule.
 */
export const VISIBLE_CHARACTER = /[^\s\p{Z}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]/u;
