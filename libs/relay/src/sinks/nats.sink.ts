import { connect, headers, nanos, StorageType, type JetStreamClient, type NatsConnection } from 'nats';
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
    await manager.streams.info(config.stream).catch(async (error: Error) => {
      if (!/stream not found/i.test(error.message)) throw error;
      await manager.streams.add({ name: config.stream, subjects: [`${config.subject}.>`], storage: StorageType.File, duplicate_window: nanos(120_000) });
    });
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
          throw failed.reason;
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
}
