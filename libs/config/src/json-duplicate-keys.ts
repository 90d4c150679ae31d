/**
 * The first name given twice in one object of a JSON text (valid JSON: parse it first), or
 * undefined. JSON.parse keeps the last of them without a word, so a file saying
 * {"keys": [ … ], "keys": []} would load as no key at all.
 */
export function firstRepeatedName(text: string): string | undefined {
  /** Per open object, the names seen and whether the next string is a name; null for an array. */
  const open: ({ names: Set<string>; nameNext: boolean } | null)[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const object = open[open.length - 1];
      if (object?.nameNext) {
        // Every request body is scanned: a name without escapes is its own text, no parse needed.
        const raw = text.slice(at + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (object.names.has(name)) return name;
        object.names.add(name);
        object.nameNext = false;
      }
      at = end;
    } else if (char === '{') open.push({ names: new Set(), nameNext: true });
    else if (char === '[') open.push(null);
    else if (char === '}' || char === ']') open.pop();
    else if (char === ',') {
      const object = open[open.length - 1];
      if (object) object.nameNext = true;
    }
  }
  return undefined;
}
