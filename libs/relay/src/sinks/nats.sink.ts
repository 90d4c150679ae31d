import { connect, ErrorCode, headers, nanos, NatsError, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
import { publicEventName } from '@stagecraft/public-events';
import type { NatsSinkConfig } from '../relay-sink-url';
import type { OutgoingEvent } from '../outgoing-event';
import { opportunityRounds } from './opportunity-rounds';
import type { RelaySink } from './relay-sink.port';

export interface NatsSinkOptions {
  /** How long a publish waits for JetStream's acknowledgement before the batch is sent again. */
  readonly ackTimeoutMs?: number;
}

/**
 * NATS JetStream: subject `<subject>.<name>.v1`, header Nats-Msg-Id = event id (JetStream drops a
 * repeat within the stream's duplicate window), the stream created on `<subject>.>` when absent.
 * A batch is published pipelined on one connection (so in order), in rounds with one event per
 * opportunity, and acknowledged as a whole.
 */
export function getNatsSink(config: NatsSinkConfig, options: NatsSinkOptions = {}): RelaySink {
  let connection: NatsConnection | undefined;
  let client: JetStreamClient | undefined;
  /** The stream was there when last looked at, and no publish has failed since. */
  let streamSeen = false;
  const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;

  // The stream, made when absent: looked at on connecting and again after any failed publish. The
  // client reconnects by itself, so a broker restarted without its store (or a stream deleted)
  // leaves the connection open and every publish answered "no responders", for ever.
  async function ensureStream(nc: NatsConnection): Promise<void> {
    const manager = await nc.jetstreamManager({ timeout: ackTimeoutMs });
    const info = await manager.streams.info(config.stream).catch(async (error: Error) => {
      if (!/stream not found/i.test(error.message)) throw error;
      await manager.streams.add({ name: config.stream, subjects: [`${config.subject}.>`], storage: StorageType.File, duplicate_window: nanos(120_000) });
      return undefined;
    });
    // A stream of that name made by someone else on other subjects stores nothing of ours: every
    // publish would be answered "no responders" (503), retried for ever, and say nothing of why.
    const subjects = info?.config.subjects ?? [];
    if (info && !subjects.some((filter) => subjectMatches(filter, `${config.subject}.${PROBE_NAME}`))) {
      throw new Error(
        `the JetStream stream ${config.stream} does not take the subject ${config.subject}.> (its subjects: ${subjects.join(', ') || 'none'}): add ${config.subject}.> to its subjects, or name another stream (?stream=) or subject (?subject=) in the sink URL`,
      );
    }
    streamSeen = true;
  }

  async function open(): Promise<JetStreamClient> {
    if (client && connection && !connection.isClosed()) {
      if (!streamSeen) await ensureStream(connection);
      return client;
    }
    await connection?.close().catch(() => undefined);
    connection = undefined;
    const nc = await connect({
      servers: config.server,
      ...(config.user !== undefined ? { user: config.user } : {}),
      ...(config.pass !== undefined ? { pass: config.pass } : {}),
      ...(config.token !== undefined ? { token: config.token } : {}),
      name: 'stagecraft-relay',
      timeout: 5_000,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 10_000,
      // Only the address configured: a cluster's advertised addresses may not be reachable from here.
      ignoreClusterUpdates: true,
      noRandomize: true,
    });
    try {
      await ensureStream(nc);
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw error;
    }
    connection = nc;
    client = nc.jetstream({ timeout: ackTimeoutMs });
    return client;
  }

  return {
    config,
    async publish(batch) {
      const js = await open();
      // A round at a time, each pipelined: a message refused or unanswered never has a later one
      // of its opportunity stored behind it, which the retry's repeat would not move (JetStream
      // drops it as a duplicate) (opportunity-rounds.ts).
      for (const round of opportunityRounds(batch)) {
        const results = await Promise.allSettled(
          round.map((outgoing: OutgoingEvent) => {
            const h = headers();
            h.set('Nats-Msg-Id', outgoing.event.id);
            h.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
            return js.publish(`${config.subject}.${publicEventName(outgoing.event.type)}`, outgoing.body, { msgID: outgoing.event.id, headers: h, timeout: ackTimeoutMs });
          }),
        );
        const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
        if (failed) {
          streamSeen = false;
          throw refusal(failed.reason);
        }
      }
      return { undeliverable: [] };
    },
    async close() {
      const nc = connection;
      connection = undefined;
      client = undefined;
      await nc?.close().catch(() => undefined);
    },
  };

  // The client says "503" alike for a stream that refused the message (full, with discard new)
  // and for no stream there to take it; the operator needs the one from the other.
  function refusal(reason: unknown): unknown {
    if (!(reason instanceof NatsError)) return reason;
    const refused = reason.api_error;
    if (refused) return new Error(`the JetStream stream ${config.stream} refused the message: ${refused.description} (JetStream error ${refused.err_code ?? refused.code})`, { cause: reason });
    if (reason.code === ErrorCode.NoResponders) {
      return new Error(`no JetStream stream takes the subjects ${config.subject}.> (the stream ${config.stream} was deleted, or its subjects changed)`, { cause: reason });
    }
    return reason;
  }
}

/** A public event name the sink's subject filter must take (every `<subject>.<name>.v1` has this shape). */
const PROBE_NAME = 'opened.v1';

/** NATS subject matching: `*` takes one token, a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  const wanted = filter.split('.');
  const tokens = subject.split('.');
  for (let i = 0; i < wanted.length; i += 1) {
    if (wanted[i] === '>') return i === wanted.length - 1 && tokens.length > i;
    if (i >= tokens.length || (wanted[i] !== '*' && wanted[i] !== tokens[i])) return false;
  }
  return wanted.length === tokens.length;
}
