import { SEARCHABLE_TEXT_RULE } from '@stagecraft/contracts';

/**
 * Which fold this process stores and trusts in opportunities.search_fold (migration 26): the search
 * rule's version and this runtime's Unicode version (its normalisation and case tables). A row
 * stored under another (a rolling upgrade, a new rule, another Node) is read and folded again by
 * the search, never filtered out on its stored text. A Node built without ICU names no Unicode
 * version: its folds are its own ("none"), trusted by no ICU build.
 */
export const SEARCH_FOLD = `${SEARCHABLE_TEXT_RULE}/${process.versions.unicode ?? 'none'}`;
