// Whether the board's columns stand side by side or show one at a time (the stage switcher), as
// the room for them decides, not the screen's kind: a 1366 px laptop at 200 % zoom is 683 CSS px
// wide, where six columns side by side cut every title to a letter and spill the stage names into
// the next column; a process of many stages needs more room than one of three. Pure:
// board-layout.model.spec.ts.

/** The narrowest a column may be and still show a card's title, its facts and its "⋯" (board.css draws columns at least this wide). */
export const MIN_COLUMN_REM = 9.5;
/** The gap between columns (board.css `.columns`). */
export const COLUMN_GAP_REM = 0.5;

/** Side by side when every column gets its narrowest width or more in `widthRem` (the board's width, in the root font's rem). */
export function columnsFitSideBySide(widthRem: number, columns: number): boolean {
  return columns <= 1 || columns * MIN_COLUMN_REM + (columns - 1) * COLUMN_GAP_REM <= widthRem;
}
