export * from './as-of';
export * from './hash-chain';
export * from './stored-event-like';
export * from './timeline';
