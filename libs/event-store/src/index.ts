// The contract suite (event-store.contract.ts) is deliberately not exported here: it uses Jest
// globals and must stay out of production code. Adapters' tests import it by path.
export * from './event-store.port';
export * from './event-store.errors';
export * from './open-event-store';
export * from './read-all-pages';
export * from './read-access';
export * from './read-stream-up-to-unreadable';
export * from './leader-reads';
export * from './log-anchor';
export { MAX_STORED_JSON_DEPTH, nestsDeeperThan } from './json-depth';
export { RequestThread, startWorkerBeside, type FromRequestThread, type ToRequestThread } from './worker-thread';
export * from './sqlite/sqlite-event-store';
export * from './kurrentdb/kurrentdb-event-store';
export { ConnectionStringFileError, connectionStringUser, normaliseKurrentDBConnectionString, redactCredentials } from './kurrentdb/kurrentdb-connection-string';
export * from './sqlite/sqlite-file';
export { makeFolders } from './sqlite/make-folders';
export { pathProblem } from './path-problem';
