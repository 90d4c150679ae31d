// The ids a client names (a deal's team and owner, a key's teams, a backfill's ids): one rule
// wherever they are given — the API's bodies, API keys, the CLI's backfill — so that a key limited
// to a team can name only a team a deal can have, and an import takes what the API takes.

/** Letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** The longest such id. */
export const CLIENT_ID_MAX_LENGTH = 100;
/** The id rule in words, for ids of at most `max` characters (a process id is one of at most 64). */
export const clientIdRule = (max: number): string => `an id of 1 to ${max} letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit`;
export const CLIENT_ID_RULE = clientIdRule(CLIENT_ID_MAX_LENGTH);

/** Whether `text` is such an id. */
export function isClientId(text: string): boolean {
  return text.length <= CLIENT_ID_MAX_LENGTH && CLIENT_ID.test(text);
}
