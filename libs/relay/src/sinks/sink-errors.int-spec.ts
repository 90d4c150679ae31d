import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as connectAmqp } from 'amqplib';
import { connect as connectNats, DiscardPolicy, StorageType, type NatsConnection } from 'nats';
import type { PublicEvent } from '@stagecraft/public-events';
import { AMQP_URL, NATS_ADDRESS, uniqueName } from '../../../../test/support/relay-consumers';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type AmqpSinkConfig, type NatsSinkConfig, type WebhookSinkConfig } from '../relay-sink-url';
import { getAmqpSink } from './amqp.sink';
import { getNatsSink } from './nats.sink';
import { describeError, type RelaySink } from './relay-sink.port';
import { getWebhookSink } from './webhook.sink';

// What a failing sink says in /health, the logs and the dead-letter list must tell the operator
// what to mend: fetch says "fetch failed" for every network fault and the NATS client "503" for a
// full stream and for no stream at all, with the reason one level down or in another field.

jest.setTimeout(30_000);

const outgoing = (subject: string = randomUUID()): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject, time: '2026-11-30T12:00:00.000Z' } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};
const context = { signal: new AbortController().signal, onAttemptFailed: () => undefined };

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('a webhook that cannot be reached says why', () => {
  const webhook = (url: string): RelaySink =>
    getWebhookSink(parseSinkUrl(url) as WebhookSinkConfig, { secret: 'a-webhook-secret-of-32-characters-or-more', maxAttempts: 1, timeoutMs: 5_000, retryBaseMs: 1, retryMaxMs: 1 });
  /** What the first failed attempt of a webhook that is down says: it is retried until it answers, never dead-lettered (the test stops it there). */
  const downError = async (url: string) => {
    const stop = new AbortController();
    const said: string[] = [];
    const onAttemptFailed = (message: string) => {
      said.push(message);
      stop.abort();
    };
    const ended = await webhook(url)
      .publish([outgoing()], { signal: stop.signal, onAttemptFailed })
      .then(
        () => 'given up on',
        () => 'abandoned, unacknowledged, when stopped',
      );
    expect(ended).toBe('abandoned, unacknowledged, when stopped');
    return said[0];
  };
  const lastError = async (url: string) => (await webhook(url).publish([outgoing()], context)).undeliverable[0]?.lastError;
  const servers: Server[] = [];
  const serve = async (handler: Parameters<typeof createServer>[1]) => {
    const server = createServer(handler);
    servers.push(server);
    return listening(server);
  };
  afterAll(async () => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

  it('a connection refused', async () => {
    const closed = createServer();
    const port = await listening(closed);
    await new Promise((resolve) => closed.close(resolve));
    expect(await downError(`http://127.0.0.1:${port}/hook`)).toMatch(/down or busy .*: fetch failed: .*ECONNREFUSED/);
  });

  it('a socket closed without an answer', async () => {
    const port = await serve((request) => request.socket.destroy());
    expect(await downError(`http://127.0.0.1:${port}/hook`)).toMatch(/down or busy .*(other side closed|socket)/i);
  });

  it('a TLS handshake that fails (here: no TLS on the other side)', async () => {
    const port = await serve((_request, response) => response.end());
    expect(await downError(`https://127.0.0.1:${port}/hook`)).toMatch(/down or busy .*(SSL|TLS)/);
  });

  it('a redirect, with where it points (not its query) and that it is not followed', async () => {
    const port = await serve((_request, response) => response.writeHead(308, { location: '/moved/hook?token=secret' }).end());
    const said = await lastError(`http://127.0.0.1:${port}/hook`);
    expect(said).toBe(`HTTP 308, a redirect to http://127.0.0.1:${port}/moved/hook (not followed: give that URL in RELAY_SINKS)`);
  });

  it('a plain failure status stays as it was', async () => {
    const port = await serve((_request, response) => response.writeHead(500).end());
    expect(await lastError(`http://127.0.0.1:${port}/hook`)).toBe('HTTP 500');
  });
});

describe('a JetStream stream that does not take the events says why', () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  beforeAll(async () => (nc = await connectNats({ servers: NATS_ADDRESS })));
  afterAll(async () => {
    const manager = await nc.jetstreamManager();
    for (const stream of streams) await manager.streams.delete(stream).catch(() => undefined);
    await nc.close();
  });
  const addStream = async (config: { subjects: string[]; max_msgs?: number; discard?: DiscardPolicy }) => {
    const name = uniqueName('STAGECRAFT_TEST_');
    streams.push(name);
    await (await nc.jetstreamManager()).streams.add({ name, storage: StorageType.Memory, ...config });
    return name;
  };
  const publishError = async (sink: RelaySink, batch: OutgoingEvent[]) => {
    try {
      await sink.publish(batch, context);
    } catch (error) {
      return describeError(error);
    } finally {
      await sink.close();
    }
    throw new Error('the publish was taken');
  };

  it('full, with discard new: the limit it hit', async () => {
    const subject = uniqueName('t');
    const stream = await addStream({ subjects: [`${subject}.>`], max_msgs: 1, discard: DiscardPolicy.New });
    const sink = getNatsSink(parseSinkUrl(`nats://${NATS_ADDRESS}?stream=${stream}&subject=${subject}`) as NatsSinkConfig, { ackTimeoutMs: 2_000 });
    expect(await publishError(sink, [outgoing('a'), outgoing('a')])).toContain(`the JetStream stream ${stream} refused the message: maximum messages exceeded`);
  });

  it('named in the URL but made by someone else on other subjects: which ones, and what to change', async () => {
    const subject = uniqueName('t');
    const stream = await addStream({ subjects: [`${uniqueName('other')}.>`] });
    const sink = getNatsSink(parseSinkUrl(`nats://${NATS_ADDRESS}?stream=${stream}&subject=${subject}`) as NatsSinkConfig, { ackTimeoutMs: 2_000 });
    expect(await publishError(sink, [outgoing()])).toContain(`the JetStream stream ${stream} does not take the subject ${subject}.> (its subjects: other`);
  });

  it('takes a stream whose subjects cover ours with wildcards', async () => {
    const prefix = uniqueName('t');
    const stream = await addStream({ subjects: [`${prefix}.*.>`] });
    const sink = getNatsSink(parseSinkUrl(`nats://${NATS_ADDRESS}?stream=${stream}&subject=${prefix}.events`) as NatsSinkConfig, { ackTimeoutMs: 2_000 });
    try {
      await expect(sink.publish([outgoing()], context)).resolves.toEqual({ undeliverable: [] });
    } finally {
      await sink.close();
    }
  });
});

describe('a RabbitMQ exchange whose queue refuses the events says why', () => {
  it('a queue full with reject-publish: the exchange, and what a nack means', async () => {
    const exchange = uniqueName('stagecraft-test-');
    const connection = await connectAmqp(AMQP_URL);
    const channel = await connection.createChannel();
    const sink = getAmqpSink(parseSinkUrl(`${AMQP_URL}?exchange=${exchange}`) as AmqpSinkConfig, { confirmTimeoutMs: 5_000 });
    try {
      await channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false });
      const { queue } = await channel.assertQueue('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
      await channel.bindQueue(queue, exchange, '#');
      const failed = await sink.publish([outgoing(), outgoing()], context).then(
        () => 'taken',
        (error: unknown) => describeError(error),
      );
      expect(failed).toContain(`RabbitMQ refused a message published to the exchange ${exchange} (a nack): a queue bound to it is full with x-overflow reject-publish`);
    } finally {
      await sink.close();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close();
    }
  });

  // RabbitMQ's own words ("inequivalent arg 'type' … received 'topic' but current is 'fanout'")
  // name neither the setting nor the fix; no retry cures it, but the operator's fix is picked up.
  it.each([
    ['of another type', { type: 'fanout', durable: true }, 'the RabbitMQ exchange EXCHANGE (vhost /) is a fanout exchange, but the relay publishes to a topic exchange (routing key = event type)'],
    ['not durable', { type: 'topic', durable: false }, 'the RabbitMQ exchange EXCHANGE (vhost /) is declared with durable false, but the relay declares it with durable true'],
  ])('an exchange made by someone else %s: what exists, what the relay needs, how to fix it', async (_case, existing, said) => {
    const exchange = uniqueName('stagecraft-test-');
    const connection = await connectAmqp(AMQP_URL);
    const channel = await connection.createChannel();
    const sink = getAmqpSink(parseSinkUrl(`${AMQP_URL}?exchange=${exchange}`) as AmqpSinkConfig, { confirmTimeoutMs: 5_000 });
    try {
      await channel.assertExchange(exchange, existing.type, { durable: existing.durable, autoDelete: false });
      const failed = await sink.publish([outgoing()], context).then(
        () => 'taken',
        (error: unknown) => describeError(error),
      );
      expect(failed).toContain(said.replace('EXCHANGE', exchange));
      expect(failed).toContain(`delete the exchange ${exchange} (its bindings go with it) for the relay to declare it, or name another in the sink URL (?exchange=)`);
      expect(failed).not.toContain('PRECONDITION');
      // The fix it names is taken up by the next attempt, the relay not restarted.
      await channel.deleteExchange(exchange);
      await expect(sink.publish([outgoing()], context)).resolves.toEqual({ undeliverable: [] });
    } finally {
      await sink.close();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close();
    }
  });
});
