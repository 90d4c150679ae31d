// The JSON the HTTP API answers, as types only: the one declaration the API's code returns and
// the board's bundle reads, so a changed answer fails the board's type-check. Two functions besides
// (searchable-text.ts), the text rule both ends of the search apply; the rest is types.
export type * from './analytics.contract';
export type * from './opportunities.contract';
export type * from './pipeline.contract';
export type * from './problem.contract';
export type * from './processes.contract';
export { SEARCHABLE_TEXT_RULE, searchableText, searchNeedleOf } from './searchable-text';
