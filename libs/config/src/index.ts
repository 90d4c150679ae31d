export * from './process-files.loader';
export * from './settings';
