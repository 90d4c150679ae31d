import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { AmqpSinkConfig } from '../relay-sink-url';
import type { OutgoingEvent } from '../outgoing-event';
import { firstEvent, within } from './first-event';
import { opportunityRounds } from './opportunity-rounds';
import type { RelaySink } from './relay-sink.port';

export interface AmqpSinkOptions {
  /** How long a batch waits for the broker's confirms before it is sent again. */
  readonly confirmTimeoutMs?: number;
}

/**
 * RabbitMQ: a durable topic exchange, routing key = event type, persistent messages with
 * message_id = event id, on a confirm channel: a batch counts as sent once the broker has
 * confirmed every message (for a durable queue, that means written to disk). It is sent in rounds
 * with one event per opportunity, each round confirmed before the next goes.
 */
export function getAmqpSink(config: AmqpSinkConfig, options: AmqpSinkOptions = {}): RelaySink {
  let model: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  let broken = false;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? 10_000;

  async function open(): Promise<ConfirmChannel> {
    if (channel && !broken) return channel;
    await reset();
    // A broker that takes the connection but never answers (a memory or disk alarm, a network
    // that drops packets) must fail the attempt, not hold it for ever: every step has a deadline.
    const connecting = connect(config.connect, { clientProperties: { connection_name: 'stagecraft-relay' }, timeout: 5_000 });
    const connection = await within(connecting, confirmTimeoutMs, 'connecting').catch((error: unknown) => {
      // Given up on, it may still open later: closed then, and heard meanwhile (its errors would crash the process).
      connecting.then(
        (late) => {
          late.on('error', () => undefined);
          void closeWithin(late);
        },
        () => undefined,
      );
      throw error;
    });
    try {
      // Errors also arrive as 'close'; listening keeps an 'error' from crashing the process.
      connection.on('error', () => (broken = true));
      connection.on('close', () => (broken = true));
      const confirm = await within(connection.createConfirmChannel(), confirmTimeoutMs, 'opening a channel');
      confirm.on('error', () => (broken = true));
      confirm.on('close', () => (broken = true));
      await within(confirm.assertExchange(config.exchange, 'topic', { durable: true, autoDelete: false }), confirmTimeoutMs, 'declaring the exchange').catch((error: unknown) => {
        throw AmqpExchangeMismatchError.from(error, config.exchange) ?? error;
      });
      model = connection;
      channel = confirm;
      broken = false;
      return confirm;
    } catch (error) {
      await closeWithin(connection);
      throw error;
    }
  }

  async function reset(): Promise<void> {
    const old = model;
    model = undefined;
    channel = undefined;
    if (old) await closeWithin(old);
  }

  async function publishRound(confirm: ConfirmChannel, round: readonly OutgoingEvent[]): Promise<void> {
    for (const outgoing of round) {
      const fits = confirm.publish(config.exchange, outgoing.event.type, outgoing.body, {
        persistent: true,
        messageId: outgoing.event.id,
        contentType: 'application/cloudevents+json; charset=utf-8',
        type: outgoing.event.type,
        appId: 'stagecraft',
        ...amqpTimestamp(outgoing.event.time),
      });
      if (!fits) {
        await firstEvent(confirm, ['drain', 'close'], confirmTimeoutMs, 'waiting for the connection to take more');
        if (broken) throw new Error('the AMQP channel closed while publishing');
      }
    }
    await within(confirm.waitForConfirms(), confirmTimeoutMs, 'waiting for publisher confirms').catch((error: unknown) => {
      // amqplib says only "message nacked"; the operator needs to know where to look.
      if (!(error instanceof Error) || error.message !== 'message nacked') throw error;
      throw new Error(`RabbitMQ refused a message published to the exchange ${config.exchange} (a nack): a queue bound to it is full with x-overflow reject-publish, or the broker could not store it`, { cause: error });
    });
  }

  return {
    config,
    async publish(batch) {
      const confirm = await open();
      try {
        // A round at a time: a message nacked or unconfirmed never has a later one of its
        // opportunity already confirmed behind it (opportunity-rounds.ts).
        for (const round of opportunityRounds(batch)) await publishRound(confirm, round);
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

/** RabbitMQ's answer to a declare that differs from the exchange it has (406, PRECONDITION_FAILED). */
const INEQUIVALENT = /inequivalent arg '([^']+)' for exchange '[^']*' in vhost '([^']*)': received '([^']*)' but current is '([^']*)'/;

/**
 * The sink's exchange exists, made by someone else, unlike the relay's (another type, not durable,
 * auto-deleted): RabbitMQ's own words name neither the sink URL nor the fix. No retry cures it, but
 * the sink is retried still, as a JetStream stream on other subjects is (nats.sink.ts): dead letters
 * would blame each event for the broker's setting, and the operator's fix (the exchange deleted, or
 * another named) is taken up at the next attempt; meanwhile /health shows it as the sink's lastError.
 */
export class AmqpExchangeMismatchError extends Error {
  static from(error: unknown, exchange: string): AmqpExchangeMismatchError | undefined {
    const found = error instanceof Error ? INEQUIVALENT.exec(error.message) : null;
    if (found === null) return undefined;
    const [, argument, vhost, wanted, current] = found as unknown as [string, string, string, string, string];
    const what =
      argument === 'type'
        ? `is a ${current} exchange, but the relay publishes to a ${wanted} exchange (routing key = event type)`
        : `is declared with ${argument} ${current}, but the relay declares it with ${argument} ${wanted} (a durable topic exchange, not auto-deleted)`;
    // Without RabbitMQ's words as its cause: describeError would repeat them, all said above.
    return new AmqpExchangeMismatchError(`the RabbitMQ exchange ${exchange} (vhost ${vhost || '/'}) ${what}: delete the exchange ${exchange} (its bindings go with it) for the relay to declare it, or name another in the sink URL (?exchange=)`);
  }

  private constructor(message: string) {
    super(message);
    this.name = 'AmqpExchangeMismatchError';
  }
}

/**
 * The business time as an AMQP timestamp (unsigned seconds since 1970), when it is one: a command
 * may set a time years back, and a negative one made amqplib throw on every attempt, blocking the sink.
 */
function amqpTimestamp(time: string): { timestamp?: number } {
  const seconds = Math.floor(Date.parse(time) / 1000);
  return seconds >= 0 ? { timestamp: seconds } : {};
}

/** How long closing a connection may wait for the broker's answer before its socket is dropped. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Closes a connection, waiting at most CLOSE_TIMEOUT_MS for the broker to agree: a broker that
 * no longer answers left close() pending for ever, and with it every later attempt and the
 * relay's stop. Past that the socket is dropped.
 */
async function closeWithin(connection: ChannelModel): Promise<void> {
  const closed = connection.close().then(
    () => true,
    () => true,
  );
  const agreed = await Promise.race([closed, new Promise<false>((resolve) => setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS).unref())]);
  if (agreed) return;
  // amqplib's own connection object under the model: the socket dropped, it reports "Unexpected
  // close" as an error event, which nobody listens to once the model has been closed.
  const inner = (connection as unknown as { connection?: { on(event: 'error', listener: () => void): void; stream?: { destroy(): void } } }).connection;
  inner?.on('error', () => undefined);
  inner?.stream?.destroy();
}
