export { PostgresAnalyticsQueries, type ReadSidePosition } from './postgres-analytics.queries';
export { assertSchemaName, createReadSidePool, PostgresProjector, PostgresReadSideFollower, READ_SIDE_NAMES, ReadSideRebuildDidNotCureError, rebuildIntoShadow, type PostgresProjectorOptions, type PostgresReadSideSettings } from './postgres.projector';
export { migrateReadSide, READ_SIDE_MIGRATIONS } from './read-side.migrations';
export { ReadSideWriter, FoldError } from './read-side.writer';
export { READ_SIDE_EVENT_TYPES } from './read-side.fold';
export { postgresProjectionStatus, rebuildPostgresReadSide } from './postgres-maintenance';
export { postgresUnreachable } from './postgres-unreachable';
export { readSideSchemaProblem, ReadSideSchemaTakenError, ReadSideUnrecordedError } from './read-side.schema-name';
export { ReadSideNotPermittedError } from './read-side.permission';
