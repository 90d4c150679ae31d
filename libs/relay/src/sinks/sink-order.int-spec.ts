import { connect as connectAmqp } from 'amqplib';
import { connect as connectNats, nanos, StorageType } from 'nats';
import type { PublicEvent } from '@stagecraft/public-events';
import { AMQP_URL, NATS_ADDRESS, natsStreamReader, perOpportunityOrderProblems, uniqueName, webhookReceiver } from '../../../../test/support/relay-consumers';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type AmqpSinkConfig, type NatsSinkConfig, type WebhookSinkConfig } from '../relay-sink-url';
import { getAmqpSink } from './amqp.sink';
import { getNatsSink } from './nats.sink';
import type { PublishContext } from './relay-sink.port';
import { getWebhookSink } from './webhook.sink';

// A broker may refuse one message of a pipelined batch and take the ones after it (a RabbitMQ
// queue full, or over its byte limit, with reject-publish; a JetStream stream's message size
// limit; a timeout). Sent again, the refused one would then arrive after a later event of its
// opportunity. Each sink is handed a batch whose second event of opportunity A is refused for
// good (it is larger than the queue or stream takes), against the real brokers of this machine.

jest.setTimeout(30_000);

const LIMIT_BYTES = 2_000;
let position = 0;

/** An event of `subject` at `revision`; `padding` bytes make it larger than the brokers take. */
function outgoing(subject: string, revision: number, padding = 0): OutgoingEvent {
  position += 1;
  const event = {
    specversion: '1.0',
    id: uniqueName('event-'),
    source: '/stagecraft/opportunities',
    type: 'stagecraft.opportunity.details-changed.v1',
    subject,
    time: '2026-01-01T00:00:00.000Z',
    stagecraftposition: String(position),
    stagecraftrevision: revision,
    data: { padding: 'x'.repeat(padding) },
  } as unknown as PublicEvent;
  return { position, event, body: Buffer.from(JSON.stringify(event), 'utf8') };
}

/** A0, A1 (refused), A2, B0: a batch in log order, A's second event too large for the broker. */
function batchWithRefusedMiddle(): OutgoingEvent[] {
  const a = uniqueName('opp-a-');
  const b = uniqueName('opp-b-');
  return [outgoing(a, 0), outgoing(a, 1, 2 * LIMIT_BYTES), outgoing(a, 2), outgoing(b, 0)];
}

const context: PublishContext = { signal: new AbortController().signal, onAttemptFailed: () => undefined };

describe('a sink never lets a later event of an opportunity go out before an earlier one it could not deliver', () => {
  it('RabbitMQ: a message nacked in the middle of a batch holds back the later messages of its opportunity', async () => {
    const exchange = uniqueName('stagecraft-order-');
    const connection = await connectAmqp(AMQP_URL);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false });
      // A consumer's queue with a byte limit that refuses rather than drops: RabbitMQ nacks what it cannot take.
      const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length-bytes': LIMIT_BYTES, 'x-overflow': 'reject-publish' } });
      await channel.bindQueue(queue, exchange, '#');
      const sink = getAmqpSink(parseSinkUrl(`${AMQP_URL}?exchange=${exchange}`) as AmqpSinkConfig, { confirmTimeoutMs: 5_000 });
      try {
        const batch = batchWithRefusedMiddle();
        await expect(sink.publish(batch, context)).rejects.toThrow();
        // The sink closed its connection before it answered, so whatever it sent has been routed.
        const queued: PublicEvent[] = [];
        for (let message = await channel.get(queue, { noAck: true }); message; message = await channel.get(queue, { noAck: true })) {
          queued.push(JSON.parse(message.content.toString('utf8')) as PublicEvent);
        }
        expect(perOpportunityOrderProblems(queued)).toEqual([]);
        expect(queued.map((event) => event.id)).toContain(batch[0]!.event.id);
      } finally {
        await sink.close();
        await channel.deleteExchange(exchange).catch(() => undefined);
      }
    } finally {
      await connection.close();
    }
  });

  it('NATS JetStream: a message the stream refuses in the middle of a batch holds back the later messages of its opportunity', async () => {
    const reader = await natsStreamReader();
    const admin = await connectNats({ servers: NATS_ADDRESS });
    try {
      // A stream made beforehand (the relay uses an existing one) with a message size limit.
      await (await admin.jetstreamManager()).streams.add({ name: reader.stream, subjects: [`${reader.subject}.>`], storage: StorageType.File, duplicate_window: nanos(120_000), max_msg_size: LIMIT_BYTES });
      const sink = getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig, { ackTimeoutMs: 2_000 });
      try {
        const batch = batchWithRefusedMiddle();
        await expect(sink.publish(batch, context)).rejects.toThrow();
        const stored = (await reader.messages()).map((message) => message.event);
        expect(perOpportunityOrderProblems(stored)).toEqual([]);
        expect(stored.map((event) => event.id)).toContain(batch[0]!.event.id);
      } finally {
        await sink.close();
      }
    } finally {
      await admin.close();
      await reader.close();
    }
  });

  it('webhooks: an event given up on holds back, unsent, the later events of its opportunity in the same batch, and the others go', async () => {
    const batch = batchWithRefusedMiddle();
    const refused = batch[1]!.event.id;
    const receiver = await webhookReceiver(({ body }) => (body.toString('utf8').includes(refused) ? 500 : 204));
    try {
      const sink = getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: 'order-test-secret-0123456789abcdef', maxAttempts: 2, timeoutMs: 2_000, retryBaseMs: 5, retryMaxMs: 10 });
      const { undeliverable } = await sink.publish(batch, context);
      const delivered = receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id);
      expect(delivered).toEqual([batch[0]!.event.id, batch[3]!.event.id]);
      expect(undeliverable.map((letter) => [letter.event.event.id, letter.attempts])).toEqual([
        [refused, 2],
        [batch[2]!.event.id, 0],
      ]);
    } finally {
      await receiver.close();
    }
  });
});
