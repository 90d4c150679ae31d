export * from './currencies-file';
export * from './process-files.loader';
export * from './settings';
export * from './start-failure';
export * from './setting-names';
export * from './json-duplicate-keys';
export { assertConfigurationFile, readUtf8 } from './utf8-file';
export { pathProblem, shownPath, unreadableFileReason } from './path-problem';
