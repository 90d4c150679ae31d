export * from './compiled-process';
export * from './process-definition.error';
export * from './process-definition.parser';
export * from './process-definition.types';
export { formatPath, validateProcessDefinition } from './process-definition.validator';
export * from './process-rules';
export * from './process-version';
export * from './sales-process.machine';
export * from './process-stream';
