import { searchFoldOfRuntime } from '../opportunity-search';

/**
 * The fold this process stores and trusts in opportunities.search_fold (migration 26): the search
 * rule's version and this runtime's Unicode version. A row stored under another is read and folded
 * again by the search, never filtered out on its stored text. A Node built without ICU names no
 * Unicode version: its folds are its own ("none"), trusted by no ICU build.
 */
export const SEARCH_FOLD = searchFoldOfRuntime(process.versions.unicode ?? 'none');
