/** The fields of `value` that are not undefined: events and state never carry `key: undefined`. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  // A plain loop (no entries arrays): every decided and folded event goes through here. Keys come
  // out in the order Object.entries gives them, so the result is the same object.
  const defined: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) defined[key] = field;
  }
  return defined as Partial<T>;
}
