import type { ProblemBody } from '@stagecraft/contracts';
import { isolated } from './format';

// An error answer as the board reads it. The API answers application/problem+json; what stands in
// front of it (a proxy, a load balancer, during a deploy) answers its own page, often with no reason
// phrase at all (HTTP/2 has none): the board still says what happened and what to do. Pure:
// api-problem.model.spec.ts.

const REFUSED: Readonly<Record<number, string>> = { 404: 'not found', 405: 'not allowed', 408: 'it took too long', 413: 'too large', 415: 'not in a form it reads' };

/** The API's problem as it is; anything else worded from its status alone (a reason phrase may be missing, or a proxy's). */
export function problemOf(status: number, parsed: unknown): ProblemBody {
  if (isProblem(parsed)) return parsed;
  return { status, code: `HTTP.${status}`, detail: detailOf(status) };
}

function detailOf(status: number): string {
  if (status === 502 || status === 503 || status === 504) return `The server is unavailable for a moment (HTTP ${status}); try again shortly.`;
  if (status >= 500) return `The server failed to answer (HTTP ${status}); try again shortly.`;
  if (status === 429) return `Too many requests were sent (HTTP ${status}); wait a moment and try again.`;
  const why = REFUSED[status];
  return why ? `The server refused the request (HTTP ${status}): ${why}.` : `The server refused the request (HTTP ${status}).`;
}

export function isProblem(value: unknown): value is ProblemBody {
  return typeof value === 'object' && value !== null && typeof (value as ProblemBody).code === 'string' && typeof (value as ProblemBody).status === 'number';
}

/** Whether the board worded this problem itself (the network, a page of what stands in front of the API, its own checks), not the API. */
export function boardWorded(problem: Pick<ProblemBody, 'code'>): boolean {
  return /^(HTTP|NETWORK|BOARD)\./.test(problem.code);
}

/**
 * A refusal's text set in a board sentence ("… cannot go to Negotiation: …", "Not saved. …"): the
 * API's words isolated (U+2068 … U+2069), as a deal's title is, since they may quote a right-to-left
 * value or name that would reorder the board's words around them; the board's own wording is not.
 */
export function inSentence(problem: Pick<ProblemBody, 'code'>, text: string): string {
  return boardWorded(problem) ? text : isolated(text);
}
