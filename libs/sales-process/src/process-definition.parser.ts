import { isMap, isNode, isScalar, isSeq } from 'yaml';
import { MAX_LISTED_ISSUES, ProcessDefinitionError, type ProcessDefinitionIssue } from './process-definition.error';
import type { ProcessDefinition } from './process-definition.types';
import { formatPath, validateProcessDefinition, type DocumentPath } from './process-definition.validator';
import { parseYamlText, type YamlDocument } from './yaml-text';

/**
 * Parses and validates a process definition written in YAML.
 * `source` names where the text came from (usually the file path) so errors can point at it.
 * Throws ProcessDefinitionError listing every problem found, each with its path and line.
 */
export function parseProcessDefinition(text: string, source: string): ProcessDefinition {
  return parseProcessDocument(text, source).definition;
}

/** A place in the source text: 1-based line and column. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * The definition, whether the file marks it as the default process (`default: true`), and where
 * its `id` and `default` are written: what files valid one by one may get wrong together (one id
 * twice, two defaults) is pointed at by line too.
 */
export function parseProcessDocument(
  text: string,
  source: string,
): { readonly definition: ProcessDefinition; readonly isDefault: boolean; readonly positions: { readonly id?: SourcePosition; readonly default?: SourcePosition } } {
  const { document, lineCounter, problems } = parseYamlText(text);
  if (problems.length > 0) {
    const issues = problems.slice(0, MAX_LISTED_ISSUES).map(({ reason, line, column }): ProcessDefinitionIssue => ({ path: '', reason, line, column }));
    throw new ProcessDefinitionError(source, issues, problems.length);
  }

  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 50 });
  } catch (error) {
    // Aliases that expand past the limit (a "billion laughs" file) or nesting too deep to read.
    throw new ProcessDefinitionError(source, [{ path: '', reason: `YAML: ${firstLine((error as Error).message)} (aliases expanding too far, or nesting too deep)` }]);
  }
  // Every text of a definition is recorded in the process stream, read by the read models and
  // printed: none may hold what they cannot keep (U+0000, which PostgreSQL's text refuses, or a
  // lone surrogate), nor a control character.
  const unstorable = unstorableTextPath(raw, []);
  if (unstorable) {
    const offset = offsetOf(document, unstorable);
    const position = offset === undefined ? undefined : lineCounter.linePos(offset);
    throw new ProcessDefinitionError(source, [{ path: formatPath(unstorable), reason: 'holds U+0000, an unpaired UTF-16 surrogate or a control character (only tabs and line ends are text)', ...(position ? { line: position.line, column: position.col } : {}) }]);
  }
  const result = validateProcessDefinition(raw);
  if (!result.ok) {
    // Each position is looked up from the root: listing the first ones keeps a file of many bad keys quick to refuse.
    const issues = result.issues.slice(0, MAX_LISTED_ISSUES).map((issue): ProcessDefinitionIssue => {
      const offset = offsetOf(document, issue.path);
      const position = offset === undefined ? undefined : lineCounter.linePos(offset);
      return {
        path: formatPath(issue.path),
        reason: issue.reason,
        ...(position ? { line: position.line, column: position.col } : {}),
      };
    });
    throw new ProcessDefinitionError(source, issues, result.issues.length);
  }
  const positionOf = (key: string): SourcePosition | undefined => {
    const node = document.get(key, true);
    if (!isNode(node) || !node.range) return undefined;
    const { line, col } = lineCounter.linePos(node.range[0]);
    return { line, column: col };
  };
  const id = positionOf('id');
  const isDefault = positionOf('default');
  return { definition: result.definition, isDefault: result.isDefault, positions: { ...(id ? { id } : {}), ...(isDefault ? { default: isDefault } : {}) } };
}

// The closest node that exists on the path: a missing key points at its parent mapping. A key is
// matched by the text it became in the parsed value (toJS), so `1:`, `true:` and `null:` are found
// too: the yaml package's getIn compares the key's value, which a path of texts never equals.
function offsetOf(document: YamlDocument, path: DocumentPath): number | undefined {
  let node: unknown = document.contents;
  let offset = isNode(node) && node.range ? node.range[0] : undefined;
  for (const part of path) {
    if (isSeq(node) && typeof part === 'number') node = node.items[part];
    else if (isMap(node)) {
      // The last pair of that text: it is the one toJS kept.
      const pair = node.items.findLast((item) => (isScalar(item.key) ? String(item.key.value ?? '') : String(item.key)) === String(part));
      node = pair === undefined ? undefined : isNode(pair.value) ? pair.value : pair.key;
    } else node = undefined;
    if (!isNode(node) || !node.range) return offset;
    offset = node.range[0];
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

/** The path of the first string (or key) holding U+0000 or a lone surrogate; undefined when none does. */
function unstorableTextPath(value: unknown, path: DocumentPath): DocumentPath | undefined {
  // A lone surrogate: a high one not followed by a low one, or a low one not after a high one. And
  // a control character but tab and line ends (an escape sequence in a name rewrites a terminal).
  const bad = (text: string) => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
  if (typeof value === 'string') return bad(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableTextPath(item, [...path, index]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (bad(key)) return path;
      const found = unstorableTextPath(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}
