export * from './as-of';
export * from './hash-chain';
export * from './log-audit';
export * from './opportunity-verification';
export * from './stored-event-like';
export * from './timeline';
