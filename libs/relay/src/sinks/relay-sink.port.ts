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

/** The error text a status line shows: never a stack, never a password. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.message}${(error as { code?: unknown }).code !== undefined ? ` (${String((error as { code?: unknown }).code)})` : ''}` : String(error);
  return text.replace(/(\/\/[^:/@\s]*):[^@\s/]*@/g, '$1:***@').slice(0, 500);
}
