export interface ProcessDefinitionIssue {
  /** Where in the document, e.g. `stages[1].exitCriteria[0].id`; empty for the document itself. */
  readonly path: string;
  readonly reason: string;
  /** 1-based line and column in the source text, when known. */
  readonly line?: number;
  readonly column?: number;
}

/**
 * How many problems a refusal lists: enough to fix a file in one go, where a file of 40,000 bad
 * keys listed every one (megabytes of start-up output, and a position looked up for each).
 */
export const MAX_LISTED_ISSUES = 100;

/** A process definition that cannot be used; the message names the source, the field and the reason. */
export class ProcessDefinitionError extends Error {
  readonly code = 'PROCESS.INVALID_DEFINITION';

  /** `total`: how many problems were found, when `issues` lists only the first of them. */
  constructor(
    readonly source: string,
    readonly issues: readonly ProcessDefinitionIssue[],
    readonly total: number = issues.length,
  ) {
    super(formatIssues(source, issues, total));
    this.name = 'ProcessDefinitionError';
  }
}

function formatIssues(source: string, issues: readonly ProcessDefinitionIssue[], total: number): string {
  const lines = issues.map((issue) => {
    const where = issue.line ? `${source}:${issue.line}:${issue.column ?? 1}` : source;
    return `  ${where} ${issue.path || '(document)'}: ${issue.reason}`;
  });
  const noun = total === 1 ? 'problem' : 'problems';
  const listed = total > issues.length ? `; the first ${issues.length} listed` : '';
  return `Invalid process definition ${source} (${total} ${noun}${listed}):\n${lines.join('\n')}`;
}
