// Every error the API answers: application/problem+json (RFC 9457) with a stable `code`; the
// codes and their statuses are listed in apps/api/src/http/problem.catalogue.ts.

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export interface ProblemBody {
  readonly type?: string;
  readonly title?: string;
  readonly status: number;
  readonly code: string;
  readonly detail?: string;
  readonly instance?: string;
  /** REQUEST.VALIDATION_FAILED: one entry per bad field. */
  readonly errors?: readonly FieldError[];
  /** OPPORTUNITY.EXIT_CRITERIA_UNMET: the stage being left and what is missing. */
  readonly stage?: string;
  readonly unmetCriteria?: readonly { readonly id: string; readonly description: string }[];
  readonly [extension: string]: unknown;
}
