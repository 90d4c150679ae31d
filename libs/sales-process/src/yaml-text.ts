import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

/** A parsed YAML document, as the yaml package's parseDocument returns it. */
export type YamlDocument = ReturnType<typeof parseDocument>;

/** A problem of the YAML itself (syntax, a key given twice), with where it starts in the text. */
export interface YamlTextProblem {
  readonly reason: string;
  /** 1-based line and column. */
  readonly line: number;
  readonly column: number;
}

export interface ParsedYamlText {
  readonly document: YamlDocument;
  readonly lineCounter: LineCounter;
  /** Syntax errors and repeated keys, in text order; none when the document may be read. */
  readonly problems: readonly YamlTextProblem[];
}

/**
 * Parses one YAML document of a configuration file, refusing a key given twice in a mapping.
 * The yaml package's own check (`uniqueKeys`) compares each key with every earlier key of its
 * mapping: a 1 MB file of 40,000 keys kept start-up busy for minutes, well under the 4 MiB a
 * configuration file may weigh. Here each mapping's keys go into a Map once: one pass.
 */
export function parseYamlText(text: string): ParsedYamlText {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number, reason: string): YamlTextProblem & { offset: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { offset, reason, line, column: col };
  };
  const problems = [
    ...document.errors.map((error) => at(error.pos[0], `YAML syntax: ${error.message.split('\n')[0]!}`)),
    ...(document.errors.length > 0 ? [] : repeatedKeys(document).map(({ offset, key, first }) => at(offset, `YAML syntax: Map keys must be unique: ${key} is given again (first at line ${lineCounter.linePos(first).line})`))),
    ...(document.errors.length > 0
      ? []
      : aliasesInsideTheirValue(document).map(({ offset, name, anchored }) =>
          at(offset, `YAML: the alias *${name} is inside the value anchored &${name} (line ${lineCounter.linePos(anchored).line}), so that value would hold itself; write the value out instead`),
        )),
  ].sort((one, other) => one.offset - other.offset);
  return { document, lineCounter, problems: problems.map(({ reason, line, column }) => ({ reason, line, column })) };
}

/**
 * Every key given a second time in its mapping, as the yaml package judges keys: scalars by
 * value (so `1` and `"1"` differ, `id` and `"id"` do not), other keys by identity. Walked with a
 * stack, not recursion: nesting the parser accepted must not overflow here.
 */
function repeatedKeys(document: YamlDocument): { offset: number; key: string; first: number }[] {
  const found: { offset: number; key: string; first: number }[] = [];
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Map<unknown, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const identity = key === null ? null : isScalar(key) ? key.value : key;
        const offset = key?.range?.[0] ?? node.range?.[0] ?? 0;
        const first = seen.get(identity);
        if (first !== undefined) found.push({ offset, key: describeKey(key), first });
        else seen.set(identity, offset);
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) pending.push(item.key, item.value);
        else pending.push(item);
      }
    }
    // Scalars and aliases hold nothing to walk (an alias's target is walked where it is written).
  }
  return found;
}

/**
 * Every alias written inside the value its anchor names (`x: &a [*a]`): the yaml package reads it
 * as an object that holds itself, and any walk of that (the checks of a definition's texts, its
 * validation) recursed until the stack overflowed. An alias names the last node anchored with its
 * name before it; it lies inside that node's text exactly when the value would hold itself. One
 * walk and a sort: no alias is resolved by searching the whole document again.
 */
function aliasesInsideTheirValue(document: YamlDocument): { offset: number; name: string; anchored: number }[] {
  const anchors: { name: string; start: number; end: number }[] = [];
  const aliases: { name: string; offset: number }[] = [];
  const pending: unknown[] = [document.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isAlias(node)) {
      if (node.range) aliases.push({ name: node.source, offset: node.range[0] });
      continue;
    }
    if (isNode(node) && node.anchor && node.range) anchors.push({ name: node.anchor, start: node.range[0], end: node.range[2] });
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items as unknown[]) {
        if (isPair(item)) pending.push(item.key, item.value);
        else pending.push(item);
      }
    }
  }
  const byName = new Map<string, { start: number; end: number }[]>();
  for (const anchor of anchors.sort((one, other) => one.start - other.start)) {
    const list = byName.get(anchor.name) ?? [];
    list.push(anchor);
    byName.set(anchor.name, list);
  }
  const found: { offset: number; name: string; anchored: number }[] = [];
  for (const alias of aliases) {
    const list = byName.get(alias.name) ?? [];
    // The last anchor of that name starting before the alias (a binary search: a file may hold many).
    let low = 0;
    let high = list.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (list[middle]!.start < alias.offset) low = middle + 1;
      else high = middle;
    }
    const target = list[low - 1];
    if (target !== undefined && alias.offset < target.end) found.push({ offset: alias.offset, name: alias.name, anchored: target.start });
  }
  return found;
}

function describeKey(key: Node | null): string {
  if (key === null) return 'the empty key';
  if (isScalar(key)) return JSON.stringify(String(key.value)).slice(0, 80);
  return 'a key';
}
