export * from './analytics-queries.port';
export * from './in-memory-analytics.queries';
export * from './answer-position';
export * from './query-read-models';
