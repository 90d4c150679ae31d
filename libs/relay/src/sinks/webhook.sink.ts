import { setTimeout as sleep } from 'node:timers/promises';
import { httpDateOf } from '@stagecraft/http';
import type { WebhookSinkConfig } from '../relay-sink-url';
import type { OutgoingEvent } from '../outgoing-event';
import { describeError, heldBackBehind, type PublishContext, type RelaySink, type Undeliverable } from './relay-sink.port';
import { signWebhook, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature';

export interface WebhookSinkOptions {
  /** The secret, or the secrets while one is rotated: each signs the request (one `v1=` each). */
  readonly secret: string | readonly string[];
  /**
   * Attempts the subscriber refuses (see SUBSCRIBER_UNAVAILABLE for those that do not count) per
   * event before it goes to the dead-letter list.
   */
  readonly maxAttempts: number;
  /** Per attempt. */
  readonly timeoutMs: number;
  /** Delay before the n-th retry: base · 2^(n-1), at most max. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** The clock the signature's timestamp is read from (tests move it). */
  readonly now?: () => number;
  /** Waits between attempts (tests record the delays instead). */
  readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/**
 * The answers that say the subscriber cannot take anything now, whatever the event (RFC 9110,
 * 15.5.9, 15.6.3-5; RFC 6585, 4): it is down or busy, as much as one that does not answer at all.
 */
const SUBSCRIBER_UNAVAILABLE: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

/** An answer that failed, with the wait its Retry-After asked for (429, 503), if any. */
class FailedAnswer extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    /** The subscriber answered but did not take this event: it counts toward `maxAttempts`. */
    readonly refused: boolean,
  ) {
    super(message);
  }
}

/**
 * Webhooks: one signed POST per event, in log order, the next only after the previous one was
 * answered with a 2xx. A failing event is retried with exponential backoff. While the subscriber
 * is down (no answer: a connection refused or reset, an unknown host, a TLS failure, a timeout; or
 * an answer that it is unavailable or busy, SUBSCRIBER_UNAVAILABLE) it is retried until it
 * answers, as a broker is: the event stays unacknowledged, the lag grows and the runner shows the
 * sink retrying, and once it is back it catches up in order. Counting those attempts would
 * dead-letter every event of a subscriber down for a minute and need a replay by hand. Only an
 * answer that refuses the event (any other status, or a redirect) counts: after `maxAttempts`
 * it is given up on (the relay puts it on the dead-letter list) and the next event goes, so one
 * event a subscriber cannot take does not stop the others; the later events of its opportunity
 * are not sent but follow it there.
 */
export function getWebhookSink(config: WebhookSinkConfig, options: WebhookSinkOptions): RelaySink {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? ((ms: number, signal: AbortSignal) => sleep(ms, undefined, { signal }));

  async function attempt(outgoing: OutgoingEvent, stop: AbortSignal): Promise<void> {
    // Stopping the relay ends a request in flight too: a subscriber that holds its answer must
    // not hold the relay's (and the API's) shutdown for up to RELAY_WEBHOOK_TIMEOUT_MS. The event
    // is not acknowledged, so the next start sends it again. Not AbortSignal.any([stop, …]): Node
    // keeps every signal made so on the relay-long stop signal (Node 20, nodejs/node#55351), one
    // per event sent; this request's listener and timer go when it is answered.
    const request = new AbortController();
    const onStop = () => request.abort(stop.reason);
    const timer = setTimeout(() => request.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), options.timeoutMs);
    if (stop.aborted) onStop();
    else stop.addEventListener('abort', onStop, { once: true });
    try {
      await answerTo(outgoing, request.signal);
    } finally {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    }
  }

  async function answerTo(outgoing: OutgoingEvent, signal: AbortSignal): Promise<void> {
    const timestamp = Math.floor(now() / 1000);
    const response = await fetch(config.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'user-agent': 'stagecraft-relay',
        'stagecraft-event-id': outgoing.event.id,
        'stagecraft-event-type': outgoing.event.type,
        [WEBHOOK_SIGNATURE_HEADER]: signWebhook(options.secret, timestamp, outgoing.body),
      },
      // The same UTF-8 bytes that were signed.
      body: outgoing.body.toString('utf8'),
      redirect: 'manual',
      signal,
    });
    // The body is not needed. Reading a little of it lets a short answer free the connection for
    // the next request; reading all of it would let a subscriber that streams without end fill
    // this process's memory (the whole answer was buffered before).
    await discardBody(response);
    if (response.status >= 300 && response.status <= 399) throw new FailedAnswer(`HTTP ${response.status}, ${redirectTarget(response, config.url)}`, undefined, true);
    if (response.status < 200 || response.status > 299) throw new FailedAnswer(`HTTP ${response.status}`, retryAfterMs(response, now()), !SUBSCRIBER_UNAVAILABLE.has(response.status));
  }

  async function deliver(outgoing: OutgoingEvent, context: PublishContext): Promise<Undeliverable | undefined> {
    const named = `event ${outgoing.event.id} (position ${outgoing.position})`;
    let refusals = 0;
    for (let failures = 0; ; failures += 1) {
      let askedMs = 0;
      try {
        await attempt(outgoing, context.signal);
        return undefined;
      } catch (error) {
        if (context.signal.aborted) throw error; // stopped: not a failed attempt, and never a dead letter
        const lastError = describeError(error);
        askedMs = error instanceof FailedAnswer ? (error.retryAfterMs ?? 0) : 0;
        if (error instanceof FailedAnswer && error.refused) {
          refusals += 1;
          context.onAttemptFailed(`${named} refused, attempt ${refusals} of ${options.maxAttempts} before the dead-letter list: ${lastError}`);
          if (refusals >= options.maxAttempts) return { event: outgoing, attempts: refusals, lastError };
        } else {
          context.onAttemptFailed(`${named} not taken, the subscriber is down or busy (retried until it answers, not counted toward the ${options.maxAttempts} attempts): ${lastError}`);
        }
      }
      // Doubling, with jitter (from half to all of it): subscribers that failed together are not all retried at one instant.
      const backoff = Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(failures, 30)) * (0.5 + Math.random() / 2);
      // A subscriber that asks for time (429, 503 with Retry-After) gets it, up to the longest
      // wait configured: retried sooner, it would only be asked again while it said it was busy.
      const delay = Math.max(backoff, Math.min(options.retryMaxMs, askedMs));
      // Stopping during the wait abandons the event without acknowledging it: the next start sends it again.
      await wait(delay, context.signal);
    }
  }

  return {
    config,
    async publish(batch, context) {
      const undeliverable: Undeliverable[] = [];
      // An opportunity whose event was given up on: its later events in the batch follow it onto
      // the dead-letter list unsent, as the relay holds back those of later batches, so that a
      // subscriber never takes an event past an earlier one of its opportunity it has not had.
      const givenUpOn = new Map<string, number>();
      for (const outgoing of batch) {
        const blocker = givenUpOn.get(outgoing.event.subject);
        if (blocker !== undefined) {
          undeliverable.push({ event: outgoing, attempts: 0, lastError: heldBackBehind(blocker) });
          continue;
        }
        const failed = await deliver(outgoing, context);
        if (!failed) continue;
        undeliverable.push(failed);
        givenUpOn.set(outgoing.event.subject, outgoing.position);
      }
      return { undeliverable };
    },
    async close() {},
  };
}

/**
 * Where a redirect points, for the operator: redirects are not followed (a signed POST sent on to
 * wherever a subscriber's answer names), so the URL in RELAY_SINKS must be the final one. Shown
 * without its query, which may hold a token.
 */
function redirectTarget(response: Response, requested: string): string {
  const location = response.headers.get('location');
  if (location === null) return 'a redirect without a Location (not followed)';
  try {
    const target = new URL(location, requested);
    return `a redirect to ${target.origin}${target.pathname} (not followed: give that URL in RELAY_SINKS)`;
  } catch {
    return 'a redirect to a Location that is not a URL (not followed)';
  }
}

/** The statuses whose Retry-After says how long a subscriber is busy (RFC 9110, 10.2.3; RFC 6585, 4). */
const ASKS_FOR_TIME: ReadonlySet<number> = new Set([429, 503]);
/**
 * Retry-After of a 429 or 503, in milliseconds from `nowMs`: delay-seconds (any number of digits:
 * a long one is capped by the caller, not ignored) or an HTTP-date (one past is no wait). Anything
 * else, 31 February included, is no Retry-After (RFC 9110, 10.2.3): Date.parse would take "2030"
 * or "soon 2030" for a date years away, and 31 February for 3 March.
 */
export function retryAfterMs(response: Pick<Response, 'headers' | 'status'>, nowMs: number): number | undefined {
  if (!ASKS_FOR_TIME.has(response.status)) return undefined;
  const value = response.headers.get('retry-after')?.trim();
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = httpDateOf(value, new Date(nowMs));
  return at === undefined ? undefined : Math.max(0, at - nowMs);
}

/** What of a webhook's answer is read before the rest is dropped. */
export const WEBHOOK_ANSWER_READ_BYTES = 64 * 1024;

/** Reads up to WEBHOOK_ANSWER_READ_BYTES of the answer's body, then cancels the rest. */
async function discardBody(response: Response): Promise<void> {
  const reader = response.body?.getReader();
  if (!reader) return;
  try {
    for (let read = 0; read <= WEBHOOK_ANSWER_READ_BYTES; ) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
  } catch {
    return; // a body cut short or timed out: the status is what counts
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
