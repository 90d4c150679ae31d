// The ids a client names (a deal's team and owner, a key's teams, a backfill's ids): one rule
// wherever they are given — the API's bodies, API keys, the CLI's backfill — so that a key limited
// to a team can name only a team a deal can have, and an import takes what the API takes.

/** Letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/** The longest such id. */
export const CLIENT_ID_MAX_LENGTH = 100;
export const CLIENT_ID_RULE = `an id of 1 to ${CLIENT_ID_MAX_LENGTH} letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit`;

/** Whether `text` is such an id. */
export function isClientId(text: string): boolean {
  return text.length <= CLIENT_ID_MAX_LENGTH && CLIENT_ID.test(text);
}
