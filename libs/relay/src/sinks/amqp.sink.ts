import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { AmqpSinkConfig } from '../relay-sink-url';
import type { RelaySink } from './relay-sink.port';

export interface AmqpSinkOptions {
  /** How long a batch waits for the broker's confirms before it is sent again. */
  readonly confirmTimeoutMs?: number;
}

/**
 * RabbitMQ: a durable topic exchange, routing key = event type, persistent messages with
 * message_id = event id, on a confirm channel: a batch counts as sent once the broker has
 * confirmed every message (for a durable queue, that means written to disk).
 */
export function getAmqpSink(config: AmqpSinkConfig, options: AmqpSinkOptions = {}): RelaySink {
  let model: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let broken = false;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;

  async function open(): Promise<ConfirmChannel> {
    if (channel && !broken) return channel;
    await reset();
    const connection = await connect(config.connectUrl, { clientProperties: { connection_name: 'stagecraft-relay' }, timeout: 5_000 });
    try {
      // Errors also arrive as 'close'; listening keeps an 'error' from crashing the process.
      connection.on('error', () => (broken = true));
      connection.on('close', () => (broken = true));
      const confirm = await connection.createConfirmChannel();
      confirm.on('error', () => (broken = true));
      confirm.on('close', () => (broken = true));
      await confirm.assertExchange(config.exchange, 'topic', { durable: true, autoDelete: false });
      model = connection;
      channel = confirm;
      broken = false;
      return confirm;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  async function reset(): Promise<void> {
    const old = model;
    model = undefined;
    channel = undefined;
    await old?.close().catch(() => undefined);
  }

  return {
    config,
    async publish(batch) {
      const confirm = await open();
      try {
        for (const outgoing of batch) {
          const fits = confirm.publish(config.exchange, outgoing.event.type, outgoing.body, {
            persistent: true,
            messageId: outgoing.event.id,
            contentType: 'application/cloudevents+json; charset=utf-8',
            type: outgoing.event.type,
            appId: 'stagecraft',
            timestamp: Math.floor(Date.parse(outgoing.event.time) / 1000),
          });
          if (!fits) {
            await new Promise((resolve) => {
              confirm.once('drain', resolve);
              confirm.once('close', resolve);
            });
            if (broken) throw new Error('the AMQP channel closed while publishing');
          }
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          confirm.waitForConfirms(),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no publisher confirms within ${confirmTimeoutMs} ms`)), confirmTimeoutMs))),
        ]).finally(() => clearTimeout(timer));
      } catch (error) {
        // Whatever the channel's state, start the next attempt on a fresh one.
        await reset();
        throw error;
      }
      return { undeliverable: [] };
    },
    async close() {
      await reset();
    },
  };
}
