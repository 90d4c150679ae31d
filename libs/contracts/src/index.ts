// The JSON the HTTP API answers, as types only: the one declaration the API's code returns and
// the board's bundle reads, so a changed answer fails the board's type-check. No runtime code:
// every import of this library is `import type`.
export type * from './analytics.contract';
export type * from './opportunities.contract';
export type * from './pipeline.contract';
export type * from './problem.contract';
export type * from './processes.contract';
