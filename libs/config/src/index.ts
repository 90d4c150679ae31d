export * from './process-files.loader';
