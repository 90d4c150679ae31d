/**
 * Words that are searched or not (searchNeedleOf in libs/contracts): what holds a letter or digit
 * once folded is searched; spaces, marks or punctuation alone are not. One table for the API's
 * search (libs/projections/src/opportunity-search.spec.ts) and the board's filter
 * (apps/board/src/board-filters.model.spec.ts), so the two ends are held to the same cases.
 */
export const SEARCHED_OR_NOT: readonly (readonly [string, boolean])[] = [
  ['-', false],
  ['  ', false],
  ['!!', false],
  ['\u00a0\u3000', false],
  ['\u0301', false],
  ['—…', false],
  ['_', false],
  ['؟', false],
  ['a', true],
  ['7', true],
  ['-7-', true],
  ['١', true],
  ['²', true],
  ['ｱ', true],
  ['é', true],
  ['中', true],
  ['שלום', true],
];
