export * from './as-of';
export * from './hash-chain';
export * from './hidden-streams';
export * from './log-audit';
export * from './opportunity-verification';
export * from './recorded-definition';
export * from './stored-event-like';
export * from './timeline';
