import { randomUUID } from 'node:crypto';
import { connect as connectAmqp } from 'amqplib';
import type { PublicEvent } from '@stagecraft/public-events';
import { AMQP_URL, uniqueName } from '../../../../test/support/relay-consumers';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type AmqpSinkConfig } from '../relay-sink-url';
import { getAmqpSink } from './amqp.sink';

// An AMQP message's timestamp is unsigned seconds since 1970. It was the event's business time,
// which a command may set years back (occurredAt, years 0001 to 9999): one before 1970 made
// amqplib throw on every attempt, and the sink retried that batch for ever, publishing nothing more.

jest.setTimeout(30_000);

const outgoing = (time: string): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID(), time } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};

describe('an AMQP sink and business times before 1970', () => {
  it('publishes the event, with the timestamp only when AMQP can carry it', async () => {
    const exchange = uniqueName('stagecraft-test-');
    const connection = await connectAmqp(AMQP_URL);
    const channel = await connection.createChannel();
    const sink = getAmqpSink(parseSinkUrl(`${AMQP_URL}?exchange=${exchange}`) as AmqpSinkConfig, { confirmTimeoutMs: 5_000 });
    try {
      await channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false });
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      const batch = [outgoing('1969-07-20T20:17:40.000Z'), outgoing('0001-01-01T00:00:00.000Z'), outgoing('2026-11-30T12:00:00.000Z')];
      await expect(sink.publish(batch, { signal: new AbortController().signal, onAttemptFailed: () => undefined })).resolves.toEqual({ undeliverable: [] });
      const timestamps: (number | undefined)[] = [];
      for (let i = 0; i < batch.length; i += 1) {
        const message = await channel.get(queue, { noAck: true });
        if (message === false) throw new Error(`message ${i} not in the queue`);
        timestamps.push(message.properties.timestamp as number | undefined);
      }
      expect(timestamps).toEqual([undefined, undefined, Date.parse('2026-11-30T12:00:00.000Z') / 1000]);
    } finally {
      await sink.close();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    }
  });
});
