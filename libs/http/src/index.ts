export * from './http-date';
