import type { SinkConfig } from '../relay-sink-url';
import type { OutgoingEvent } from '../outgoing-event';

export interface PublishContext {
  /** Aborted when the relay stops: a sink waiting to retry gives up (without acknowledging). */
  readonly signal: AbortSignal;
  /** Told of each failed attempt inside the sink (webhook retries), for status and logs. */
  onAttemptFailed(error: string): void;
}

/** An event a sink gave up on after every attempt (webhooks only; brokers are retried until they answer). */
export interface Undeliverable {
  readonly event: OutgoingEvent;
  readonly attempts: number;
  readonly lastError: string;
}

/**
 * Where public events go. `publish` sends a batch in order and resolves only once the other side
 * has acknowledged every event it did not give up on (JetStream PubAck, AMQP publisher confirm,
 * a webhook's 2xx); it throws when that cannot be said, and the relay sends the whole batch again
 * (same ids, so duplicates can be dropped downstream). Whatever fails, an event never goes out
 * before an earlier one of its opportunity was acknowledged: a sink that pipelines does so in
 * `opportunityRounds`, and one that gives up on an event sends none of its opportunity after it.
 */
export interface RelaySink {
  readonly config: SinkConfig;
  publish(batch: readonly OutgoingEvent[], context: PublishContext): Promise<{ readonly undeliverable: readonly Undeliverable[] }>;
  close(): Promise<void>;
}

/** Why an event went to the dead-letter list unsent (a webhook's, in its batch, and the relay's, in later batches). */
export function heldBackBehind(blocker: number): string {
  return `held back, unsent, behind the dead letter at position ${blocker} of the same opportunity (its order is kept): replay from position ${blocker}`;
}

/**
 * The error text a status line shows: never a stack, never a password. Its causes are said too:
 * fetch says only "fetch failed" for a refused connection, a certificate refused, an unknown host
 * or a socket closed, each telling the operator something else, and the reason is in its cause.
 */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 4; depth += 1) {
    const text = describeOne(current);
    if (text !== '' && !parts.includes(text)) parts.push(text);
    current = isErrorLike(current) ? (current.cause ?? current.errors?.[0]) : undefined;
  }
  return parts.join(': ').replace(/(\/\/[^:/@\s]*):[^@\s/]*@/g, '$1:***@').slice(0, 500);
}

function describeOne(error: unknown): string {
  if (!isErrorLike(error)) return String(error);
  const code = error.code;
  return error.message === '' ? (code !== undefined ? String(code) : '') : `${error.message}${code !== undefined && String(code) !== error.message ? ` (${String(code)})` : ''}`;
}

interface ErrorLike {
  readonly message: string;
  readonly code?: unknown;
  readonly cause?: unknown;
  /** An AggregateError's: a connection refused on every address of a name (localhost: ::1 and 127.0.0.1) has no message of its own. */
  readonly errors?: readonly unknown[];
}

// By shape, not instanceof: errors of Node's own fetch come from another realm under a test runner.
function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
