import { isNode, LineCounter, parseDocument } from 'yaml';
import { ProcessDefinitionError, type ProcessDefinitionIssue } from './process-definition.error';
import type { ProcessDefinition } from './process-definition.types';
import { formatPath, validateProcessDefinition, type DocumentPath } from './process-definition.validator';

/**
 * Parses and validates a process definition written in YAML.
 * `source` names where the text came from (usually the file path) so errors can point at it.
 * Throws ProcessDefinitionError listing every problem found, each with its path and line.
 */
export function parseProcessDefinition(text: string, source: string): ProcessDefinition {
  return parseProcessDocument(text, source).definition;
}

/** The definition, and whether the file marks it as the default process (`default: true`). */
export function parseProcessDocument(text: string, source: string): { readonly definition: ProcessDefinition; readonly isDefault: boolean } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  if (document.errors.length > 0) {
    const issues = document.errors.map((error): ProcessDefinitionIssue => {
      const position = lineCounter.linePos(error.pos[0]);
      return { path: '', reason: `YAML syntax: ${firstLine(error.message)}`, line: position.line, column: position.col };
    });
    throw new ProcessDefinitionError(source, issues);
  }

  const result = validateProcessDefinition(document.toJS({ maxAliasCount: 50 }));
  if (!result.ok) {
    const issues = result.issues.map((issue): ProcessDefinitionIssue => {
      const offset = offsetOf(document, issue.path);
      const position = offset === undefined ? undefined : lineCounter.linePos(offset);
      return {
        path: formatPath(issue.path),
        reason: issue.reason,
        ...(position ? { line: position.line, column: position.col } : {}),
      };
    });
    throw new ProcessDefinitionError(source, issues);
  }
  return { definition: result.definition, isDefault: result.isDefault };
}

// The closest node that exists on the path: a missing key points at its parent mapping.
function offsetOf(document: ReturnType<typeof parseDocument>, path: DocumentPath): number | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const node = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
