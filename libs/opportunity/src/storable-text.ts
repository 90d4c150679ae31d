// Text the log keeps must read back the same from every read model. Two kinds of JavaScript
// string cannot: one holding U+0000, which PostgreSQL's text cannot hold at all (a read side
// there would stop on the event), and one with an unpaired UTF-16 surrogate, which UTF-8 cannot
// encode (PostgreSQL would answer U+FFFD where the in-memory models answer the surrogate). Neither
// is ever a sales fact; both are refused where text comes in.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What every API, CLI and library caller is told text must be. */
export const TEXT_RULE = 'text without the character U+0000 and with no unpaired UTF-16 surrogate (well-formed Unicode)';

/** Why `text` cannot be kept, or undefined when it can. */
export function textFault(text: string): string | undefined {
  const found = UNSTORABLE.exec(text);
  if (!found) return undefined;
  return found[0] === '\u0000' ? `contains the character U+0000 (at ${found.index})` : `contains an unpaired UTF-16 surrogate (at ${found.index}), so it is not well-formed Unicode`;
}

/** A string found in a value (an object's keys and values, an array's items, at any depth) that cannot be kept. */
export interface TextFault {
  /** Dotted path of the string (`title`, `stageMapping.lead`); a key at fault is named by its parent's path. */
  readonly field: string;
  readonly reason: string;
}

/** The first string in `value` that cannot be kept, or undefined. Walked without recursion: the value may come from a client. */
export function firstTextFault(value: unknown, path = ''): TextFault | undefined {
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length > 0) {
    const [node, at] = stack.pop()!;
    if (typeof node === 'string') {
      const reason = textFault(node);
      if (reason !== undefined) return { field: at, reason };
      continue;
    }
    if (node === null || typeof node !== 'object') continue;
    for (const key of Object.keys(node)) {
      const keyReason = textFault(key);
      if (keyReason !== undefined) return { field: at === '' ? '(a key)' : `${at} (a key)`, reason: keyReason };
      stack.push([(node as Record<string, unknown>)[key], at === '' ? key : `${at}.${key}`]);
    }
  }
  return undefined;
}

/** What a name recorded as who acted must be (the actor, or whom a service acted for). */
export const ACTOR_NAME_RULE = `${TEXT_RULE}, with a visible character and no control character or line separator (such as ESC or a newline)`;

/**
 * Whether `text` may name who acted: no path of the API records anything else (a key's name, a
 * token's subject, an X-Actor header all refuse control characters), and `history` prints it as
 * it stands, so an ESC in it would rewrite the reader's terminal. Format characters and length
 * are left alone: key names of earlier versions may hold them, and a token's subject has no cap.
 */
export function isActorName(text: string): boolean {
  return textFault(text) === undefined && text.trim() !== '' && !/[\p{Cc}\p{Zl}\p{Zp}]/u.test(text);
}
