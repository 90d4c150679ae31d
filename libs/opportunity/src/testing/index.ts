export * from './process-rules.auditor';
