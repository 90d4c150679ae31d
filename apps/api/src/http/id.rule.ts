// The ids a client names (an opportunity's team and owner, a key's teams): one rule wherever they
// are given, so that a key limited to a team can name only a team a deal can have.

/** Letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit. */
export const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
export const ID_MESSAGE = '$property must be an id: letters, digits, ".", "_", ":", "@" or "-"';
/** The longest id. */
export const ID_MAX_LENGTH = 100;
