import type { CommandAnswer, ProblemBody } from '@stagecraft/contracts';
import { problemOf } from './api-problem.model';

/** A refusal from the API, with its problem+json body (status, stable code, details). */
export class ApiError extends Error {
  constructor(readonly problem: ProblemBody) {
    super(problem.detail ?? problem.code);
    this.name = 'ApiError';
  }

  get status(): number {
    return this.problem.status;
  }
}

export type Query = Readonly<Record<string, string | number | undefined>>;

/**
 * The board's only way to the server: the public HTTP API, with the caller's own credentials
 * (`Authorization: Bearer …`) on every call, exactly as any other client would send them.
 */
export class ApiClient {
  /**
   * `refused`: told of every 401, whichever request met it (a load, a command, a form's save), as
   * it comes: the key was revoked or has expired, and the rep is offered sign-in at once.
   */
  constructor(
    private readonly credentials: () => string | null,
    private readonly refused: () => void = () => undefined,
    /**
     * How long an answer is waited for. A connection left hanging (a proxy that holds it, a
     * network changed under a sleeping laptop) is never settled by the browser: without a limit,
     * the live refresh waited on it for the rest of the day, and a card whose move hung stayed
     * "still being sent" until a reload. Given up, it is an unknown outcome like any lost answer:
     * sent again, it goes under the same key (resending).
     */
    private readonly timeoutMs: number = REQUEST_TIMEOUT_MS,
  ) {}

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.send<T>('GET', withQuery(path, query));
  }

  /**
   * A command; one Idempotency-Key per user action, so a resent request is applied once. A caller
   * that sends the same action again after an unknown outcome (no answer, a 5xx) passes the key it
   * used: a fresh one would record the action a second time if the first had gone through.
   */
  command(path: string, body: Readonly<Record<string, unknown>>, idempotencyKey: string = newIdempotencyKey()): Promise<CommandAnswer> {
    return this.send<CommandAnswer>('POST', path, body, { 'idempotency-key': idempotencyKey });
  }

  /** A change of an opportunity's details (PATCH), one Idempotency-Key per user action as for commands. */
  patch(path: string, body: Readonly<Record<string, unknown>>, idempotencyKey: string = newIdempotencyKey()): Promise<CommandAnswer> {
    return this.send<CommandAnswer>('PATCH', path, body, { 'idempotency-key': idempotencyKey });
  }

  private async send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const token = this.credentials();
    const abandon = new AbortController();
    // A limit on silence, not on the whole: an answer still arriving (a search's thousands of cards
    // on a slow phone network) is not given up; one that stops coming for timeoutMs is.
    let timer = setTimeout(() => abandon.abort(), this.timeoutMs);
    const stillComing = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abandon.abort(), this.timeoutMs);
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(path, {
        method,
        headers: {
          accept: 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abandon.signal,
      });
      // The body too: an answer whose body stops coming is no answer.
      stillComing();
      text = await bodyText(response, stillComing);
    } catch {
      if (abandon.signal.aborted) throw new ApiError({ status: 0, code: 'NETWORK.TIMEOUT', detail: 'The server did not answer in time; check the connection and send it again.' });
      throw new ApiError({ status: 0, code: 'NETWORK.UNREACHABLE', detail: 'The server could not be reached; check the connection and retry.' });
    } finally {
      clearTimeout(timer);
    }
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      // A 401 for a key no longer the tab's (signed in again meanwhile) is an old request's: nothing to offer.
      if (response.status === 401 && token !== null && this.credentials() === token) this.refused();
      throw new ApiError(problemOf(response.status, parsed));
    }
    return parsed as T;
  }
}

/** Silence this long (no answer begun, or none of its body arriving) is no answer: long past any wait of the API (a read waits at most 2 s for ?minPosition=), short enough that a rep is not left waiting on nothing. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A response's body as text, `progress` told of every part that arrives. */
async function bodyText(response: Response, progress: () => void): Promise<string> {
  if (!response.body) return response.text();
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    progress();
    text += decoder.decode(value, { stream: true });
  }
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/**
 * One action the rep may send again (a tick, a retried move, a form's save): the same request sent
 * again after an unknown outcome (no answer, a 5xx) goes under the Idempotency-Key it went under, so
 * the API records it once and answers it as done; another request, or one after a clear answer, gets
 * a new key. A retry turned away before the API looked at it (turnedAway) leaves the earlier try as
 * unknown as it was: sent again once signed in, it still goes under its key.
 */
export function resending(): Resend {
  let last: { readonly request: string; readonly key: string; unknown: boolean } | undefined;
  const resend = async <T>(request: unknown, send: (idempotencyKey: string) => Promise<T>): Promise<T> => {
    const text = JSON.stringify(request);
    const attempt = last?.unknown === true && last.request === text ? last : { request: text, key: newIdempotencyKey(), unknown: false };
    last = attempt;
    try {
      const answer = await send(attempt.key);
      attempt.unknown = false;
      return answer;
    } catch (error) {
      attempt.unknown = outcomeUnknown(error) || (attempt.unknown && turnedAway(error));
      throw error;
    }
  };
  return Object.defineProperty(resend, 'pending', { get: () => last?.unknown === true }) as Resend;
}

/** An action sent through resending: `pending` while its last try's outcome is unknown (the next try goes under its key). */
export interface Resend {
  <T>(request: unknown, send: (idempotencyKey: string) => Promise<T>): Promise<T>;
  readonly pending: boolean;
}

/**
 * A refusal decided before the command and its key were looked at (the key or token refused, a role
 * or team not allowed, too many requests): it says nothing of an earlier try under the same key,
 * which may have been recorded; only an answer about the command itself (done, 409, 422) settles it.
 */
export function turnedAway(error: unknown): boolean {
  return error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === 429);
}

/** A failure after which the server may or may not have applied the request: resend it under the same key. */
export function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof ApiError) || error.status === 0 || error.status >= 500;
}

export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
