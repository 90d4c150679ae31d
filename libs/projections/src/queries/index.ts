export * from './analytics-queries.port';
export * from './in-memory-analytics.queries';
