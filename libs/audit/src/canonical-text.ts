/**
 * The same text as canonicalJson (@stagecraft/sales-process) for JSON values, written in one pass
 * instead of copying every object first: hashing every appended event and every verified one
 * pays for it. canonical-text.spec.ts checks the two agree on random JSON values.
 *
 * The rule, for anyone recomputing a hash elsewhere: no whitespace; undefined members left out;
 * object keys in JavaScript's own order for an object built from sorted keys — keys that are
 * array indices ("0", "17": canonical integers below 2^32 − 1) first, ascending by number, then
 * every other key ascending by UTF-16 code units.
 */
export function canonicalText(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // As JSON.stringify writes them in arrays.
      out += (i > 0 ? ',' : '') + (item === undefined || typeof item === 'function' || typeof item === 'symbol' ? 'null' : canonicalText(item));
    }
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') return canonicalObjectText(value);
  return JSON.stringify(value);
}

/** canonicalText of an object, leaving out the members `omit` names (the hash chain leaves out its own fields). */
export function canonicalObjectText(value: object, omit?: ReadonlySet<string>): string {
  let out = '{';
  for (const key of orderedKeys(value)) {
    if (omit?.has(key)) continue;
    const member: unknown = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    out += `${out.length > 1 ? ',' : ''}${quoted(key)}:${canonicalText(member)}`;
  }
  return `${out}}`;
}

// Member names repeat from event to event (opportunityId, occurredAt, …): quote each once. Bounded,
// so keys a client chose (stage mappings) cannot grow it without end.
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 1_000;

function quoted(key: string): string {
  let text = QUOTED.get(key);
  if (text === undefined) {
    text = JSON.stringify(key);
    if (QUOTED.size < QUOTED_MAX) QUOTED.set(key, text);
  }
  return text;
}

function orderedKeys(value: object): string[] {
  const keys = sortedKeys(Object.keys(value));
  if (!keys.some(startsWithDigit)) return keys;
  const indices = keys.filter(isArrayIndex);
  if (indices.length === 0) return keys;
  return [...indices.sort((a, b) => Number(a) - Number(b)), ...keys.filter((key) => !isArrayIndex(key))];
}

/**
 * The keys in Array.prototype.sort's default order (UTF-16 code units, which `<` compares too),
 * sorted in place by insertion: objects here have a handful of keys, often already in order, and
 * the built-in sort costs more than the comparisons for so few.
 */
function sortedKeys(keys: string[]): string[] {
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j -= 1;
    }
    keys[j + 1] = key;
  }
  return keys;
}

function startsWithDigit(key: string): boolean {
  const code = key.charCodeAt(0);
  return code >= 48 && code <= 57;
}

function isArrayIndex(key: string): boolean {
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < 4294967295 && String(n) === key;
}
