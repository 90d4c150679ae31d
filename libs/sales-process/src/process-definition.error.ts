export interface ProcessDefinitionIssue {
  /** Where in the document, e.g. `stages[1].exitCriteria[0].id`; empty for the document itself. */
  readonly path: string;
  readonly reason: string;
  /** 1-based line and column in the source text, when known. */
  readonly line?: number;
  readonly column?: number;
}

/** A process definition that cannot be used; the message names the source, the field and the reason. */
export class ProcessDefinitionError extends Error {
  readonly code = 'PROCESS.INVALID_DEFINITION';

  constructor(
    readonly source: string,
    readonly issues: readonly ProcessDefinitionIssue[],
  ) {
    super(formatIssues(source, issues));
    this.name = 'ProcessDefinitionError';
  }
}

function formatIssues(source: string, issues: readonly ProcessDefinitionIssue[]): string {
  const lines = issues.map((issue) => {
    const where = issue.line ? `${source}:${issue.line}:${issue.column ?? 1}` : source;
    return `  ${where} ${issue.path || '(document)'}: ${issue.reason}`;
  });
  const noun = issues.length === 1 ? 'problem' : 'problems';
  return `Invalid process definition ${source} (${issues.length} ${noun}):\n${lines.join('\n')}`;
}
