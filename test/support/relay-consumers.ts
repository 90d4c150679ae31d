import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { connect as connectAmqp } from 'amqplib';
import { connect as connectNats, type NatsConnection } from 'nats';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { PUBLIC_EVENT_SCHEMAS, PUBLIC_EVENT_TYPES, type PublicEvent } from '@stagecraft/public-events';

/** NATS_TEST_ADDRESS: another server with JetStream, e.g. one a test session started for itself. */
export const NATS_ADDRESS = process.env.NATS_TEST_ADDRESS ?? '127.0.0.1:4222';
/** NATS_ADDRESS as TcpProxy takes it. */
export function natsHostAndPort(): [string, number] {
  const [host, port] = NATS_ADDRESS.split(':');
  return [host!, Number(port)];
}
export const AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** A name no other test file (or run) uses: Jest runs files in parallel, e2e specs twice. */
export function uniqueName(prefix: string): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ajv = addFormats(new Ajv({ strict: true, allErrors: true }));
const validators = new Map(PUBLIC_EVENT_TYPES.map((type) => [type, ajv.compile(PUBLIC_EVENT_SCHEMAS[type])]));

/** Schema problems of a received message ([] when valid against the schema of its type). */
export function schemaProblems(event: PublicEvent): string[] {
  const type = (event as { type: string }).type;
  const validate = validators.get(type as PublicEvent['type']);
  if (!validate) return [`unknown type ${type}`];
  return validate(event) ? [] : validate.errors!.map((error) => `${type}${error.instancePath} ${error.message}`);
}

/** Consumers see each event at least once: in first-seen order, the revisions of each opportunity must be 0, 1, 2, … */
export function perOpportunityOrderProblems(events: readonly PublicEvent[]): string[] {
  const seen = new Set<string>();
  const next = new Map<string, number>();
  const problems: string[] = [];
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const expected = next.get(event.subject) ?? 0;
    if (event.stagecraftrevision !== expected) problems.push(`${event.subject}: revision ${event.stagecraftrevision} where ${expected} was due`);
    next.set(event.subject, event.stagecraftrevision + 1);
  }
  return problems;
}

export interface NatsStreamReader {
  readonly stream: string;
  readonly subject: string;
  /** The sink URL for RELAY_SINKS (through `address`, e.g. a proxy). */
  sinkUrl(address?: string): string;
  /** Every message stored in the stream, in stream order, with its Nats-Msg-Id. */
  messages(): Promise<{ msgId: string | undefined; subject: string; event: PublicEvent }[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}

/** Reads a JetStream stream of its own (unique stream and subject), deleted at close. */
export async function natsStreamReader(): Promise<NatsStreamReader> {
  const stream = uniqueName('STAGECRAFT_TEST_');
  const subject = `${uniqueName('t')}.stagecraft.opportunity`;
  const nc: NatsConnection = await connectNats({ servers: NATS_ADDRESS });
  const manager = await nc.jetstreamManager();
  const count = async () => (await manager.streams.info(stream).catch(() => undefined))?.state.messages ?? 0;
  return {
    stream,
    subject,
    sinkUrl: (address = NATS_ADDRESS) => `nats://${address}?stream=${stream}&subject=${subject}`,
    count,
    async messages() {
      const info = await manager.streams.info(stream);
      const out = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
        const message = await manager.streams.getMessage(stream, { seq });
        out.push({ msgId: message.header.get('Nats-Msg-Id') || undefined, subject: message.subject, event: JSON.parse(Buffer.from(message.data).toString('utf8')) as PublicEvent });
      }
      return out;
    },
    async close() {
      await manager.streams.delete(stream).catch(() => undefined);
      await nc.close();
    },
  };
}

export interface AmqpQueueReader {
  readonly exchange: string;
  sinkUrl(address?: string): string;
  readonly received: { messageId: string | undefined; routingKey: string; persistent: boolean; contentType: string | undefined; event: PublicEvent }[];
  close(): Promise<void>;
}

/** A queue of its own bound to an exchange of its own (both deleted at close), consumed as messages arrive. */
export async function amqpQueueReader(): Promise<AmqpQueueReader> {
  const exchange = uniqueName('stagecraft-test-');
  const connection = await connectAmqp(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true, autoDelete: false });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, exchange, 'stagecraft.opportunity.#');
  const received: AmqpQueueReader['received'] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    received.push({
      messageId: message.properties.messageId as string | undefined,
      routingKey: message.fields.routingKey,
      persistent: message.properties.deliveryMode === 2,
      contentType: message.properties.contentType as string | undefined,
      event: JSON.parse(message.content.toString('utf8')) as PublicEvent,
    });
    channel.ack(message);
  });
  return {
    exchange,
    received,
    sinkUrl: (address = '127.0.0.1:5672') => `amqp://guest:guest@${address}?exchange=${exchange}`,
    async close() {
      await channel.deleteExchange(exchange).catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}

export interface WebhookRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly event: PublicEvent;
  readonly answered: number;
}

/** An HTTP subscriber on 127.0.0.1 whose answer per request the test decides (a status, or never). */
export async function webhookReceiver(answer: (request: { body: Buffer; index: number }) => number | 'hang' = () => 204): Promise<{ url: string; requests: WebhookRequest[]; setAnswer(next: typeof answer): void; close(): Promise<void> }> {
  const requests: WebhookRequest[] = [];
  let decide = answer;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const status = decide({ body, index: requests.length });
      if (status === 'hang') return;
      requests.push({ headers: request.headers, body, event: JSON.parse(body.toString('utf8')) as PublicEvent, answered: status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/stagecraft`,
    requests,
    setAnswer: (next) => (decide = next),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
