import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { PublicEvent } from '@stagecraft/public-events';
import { ROOT, SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { readmeVerify } from './support/readme-verify';
import { amqpQueueReader, natsStreamReader, perOpportunityOrderProblems, waitFor, webhookReceiver, type AmqpQueueReader, type NatsStreamReader } from './support/relay-consumers';

// The public events as a subscriber sees them, knowing only the README and docs/asyncapi.json:
// every message on NATS, RabbitMQ and a webhook is checked against the document's own message
// payloads, subjects, routing keys and exchange, and each webhook against the README's recipe
// (its own secret from RELAY_WEBHOOK_SECRETS), with odd content (Unicode, a note at its limit,
// backdated events, a process migration) and a restart of the relay between.

type Api = ApiTestApp & { keys: Record<string, string> };
jest.setTimeout(120_000);
const SHARED_SECRET = 'e2e-shared-secret-0123456789abcdef012345';
const OWN_SECRET = 'e2e-own-webhook-secret-ÿ-0123456789abcdef';

interface AsyncApiDocument {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }>; bindings?: { amqp?: { exchange?: { name: string; type: string; durable: boolean } } } }>;
  components: { messages: Record<string, { name: string; contentType: string; payload: { $ref: string } }>; schemas: Record<string, object> };
}

/** The README's verify(), run as written there. */
const verifyAsReadme = readmeVerify();

describe('the public events as a subscriber reads them from the README and docs/asyncapi.json', () => {
  const dir = temporaryDirectory('stagecraft-relay-subscriber-');
  let nats: NatsStreamReader;
  let amqp: AmqpQueueReader;
  beforeEach(async () => {
    nats = await natsStreamReader();
    amqp = await amqpQueueReader();
  });
  afterEach(async () => {
    await nats.close();
    await amqp.close();
  });
  afterAll(() => dir.remove());

  const document = JSON.parse(readFileSync(join(ROOT, 'docs', 'asyncapi.json'), 'utf8')) as AsyncApiDocument;
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  // The schemas alone, where the payloads' $refs point (the document's own top-level `id` is AsyncAPI's, not a schema id).
  ajv.addSchema({ components: { schemas: document.components.schemas } }, 'asyncapi');
  /** The document's channel (address, message) for a type, found by the message's name. */
  const channelOf = (type: string) => {
    for (const channel of Object.values(document.channels)) {
      for (const ref of Object.values(channel.messages)) {
        const message = document.components.messages[ref.$ref.split('/').pop()!];
        if (message?.name === type) return { channel, message };
      }
    }
    return undefined;
  };
  const problemsOf = (event: PublicEvent): string[] => {
    const found = channelOf(event.type);
    if (!found) return [`${event.type}: no channel in docs/asyncapi.json`];
    const validate = ajv.getSchema(`asyncapi${found.message.payload.$ref}`)!;
    return validate(event) ? [] : validate.errors!.map((error) => `${event.type}${error.instancePath} ${error.message}`);
  };

  it('sends on NATS, RabbitMQ and a webhook what the document describes, faithfully, each webhook signed with its own secret, across a restart and a migration', async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    copyFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), join(processesDir, 'standard.yaml'));
    const eventStorePath = join(dir.path, 'subscriber.db');
    // The first attempt of each event refused (a 500, then a redirect): retried, the same bytes signed again.
    const receiver = await webhookReceiver(({ index }) => (index === 0 ? 500 : 204));
    const env = {
      RELAY_SINKS: [nats.sinkUrl(), amqp.sinkUrl(), receiver.url].join(','),
      RELAY_WEBHOOK_SECRET: SHARED_SECRET,
      RELAY_WEBHOOK_SECRETS: JSON.stringify({ [receiver.url]: OWN_SECRET }),
      RELAY_WEBHOOK_MAX_ATTEMPTS: '5',
      RELAY_RETRY_BASE_MS: '20',
      RELAY_RETRY_MAX_MS: '200',
      RELAY_NEW_SINK_FROM: 'beginning',
    };
    let api: Api = await startApiTestApp({ eventStorePath, processesDir, env });
    const title = 'Ünïcödé 商机 🚀\u2028line\u00a0é\u0301 — «deal» "quoted" \\ back\u200d👩‍💻';
    const note = '🚀'.repeat(1000) + 'ü'.repeat(1000);
    let id = '';
    try {
      const backdated = new Date(Date.now() - 400 * 24 * 3600_000);
      id = (
        await api.http
          .post('/opportunities')
          .set('X-Correlation-Id', 'corr-subscriber-1')
          .send({ title, processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 1234.5678, currency: 'EUR', occurredAt: backdated.toISOString().replace('Z', '+00:00') })
          .expect((response) => expect(response.body).toMatchObject({ id: expect.any(String) }))
      ).body.id as string;
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification', note, occurredAt: new Date(backdated.getTime() + 3600_000).toISOString() }).expect(200);
      await api.http.patch(`/opportunities/${id}`).send({ title: `${title} 2`, expectedCloseDate: '2030-01-31' }).expect(200);

      // The relay restarts with the API; a new process version, then a migration.
      await api.close();
      const file = join(processesDir, 'standard.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('name: Qualification', 'name: Qualifizierung 🔍'));
      api = await startApiTestApp({ eventStorePath, processesDir, env });
      const v2 = (await api.http.get('/processes/standard').expect(200)).body.version as string;
      await api.http.post(`/opportunities/${id}/migrate`).send({ toVersion: v2, note: 'ü'.repeat(10) }).expect(200);

      const history = (await api.http.get(`/opportunities/${id}/history`).expect(200)).body.events as { id?: string; position: number; revision: number }[];
      await waitFor('every event on NATS', async () => ((await nats.count()) >= history.length ? true : undefined));
      await waitFor('every event on RabbitMQ', () => (new Set(amqp.received.map((message) => message.event.id)).size >= history.length ? true : undefined));
      await waitFor('every event at the webhook', () => (new Set(receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id)).size >= history.length ? true : undefined));

      const natsMessages = await nats.messages();
      const webhookTaken = receiver.requests.filter((request) => request.answered === 204);
      const streams: Record<string, PublicEvent[]> = {
        nats: natsMessages.map((message) => message.event),
        amqp: amqp.received.map((message) => message.event),
        webhook: webhookTaken.map((request) => request.event),
      };
      for (const [sink, received] of Object.entries(streams)) {
        // At least once: a repeat (same id) across the restart is allowed, and dropped as a subscriber would.
        const events = received.filter((event, index) => received.findIndex((other) => other.id === event.id) === index);
        expect({ sink, problems: events.flatMap(problemsOf) }).toEqual({ sink, problems: [] });
        expect({ sink, order: perOpportunityOrderProblems(events) }).toEqual({ sink, order: [] });
        expect({ sink, revisions: [...new Set(events.map((event) => event.stagecraftrevision))] }).toEqual({ sink, revisions: history.map((event) => event.revision) });
        // The same ids, positions and bytes' meaning everywhere: a subscriber of two sinks deduplicates on id.
        expect(events.map((event) => [event.id, event.stagecraftposition])).toEqual(history.map((event) => [expect.any(String), String(event.position)]));
        expect(events.map((event) => event.id)).toEqual(streams.nats!.filter((event, index) => streams.nats!.findIndex((other) => other.id === event.id) === index).map((event) => event.id));
        const [opened, moved, changed] = events;
        expect(opened).toMatchObject({ subject: id, correlationid: 'corr-subscriber-1', time: backdated.toISOString(), data: { title, amount: 1234.5678, occurredAt: backdated.toISOString() } });
        expect(moved!.data).toMatchObject({ note, title });
        expect(changed).toMatchObject({ type: 'stagecraft.opportunity.details-changed.v1', data: { title: `${title} 2`, changes: { title: `${title} 2` } } });
        expect(events.find((event) => event.type === 'stagecraft.opportunity.process-migrated.v1')!.data).toMatchObject({ toVersion: v2, toStage: { id: 'qualification', name: 'Qualifizierung 🔍' }, note: 'ü'.repeat(10) });
      }

      // Subjects and routing keys are the document's channel addresses (NATS under the sink's subject prefix), on its exchange.
      const defaultPrefix = 'stagecraft.opportunity';
      for (const message of natsMessages) {
        expect(message.msgId).toBe(message.event.id);
        expect(message.subject).toBe(`${nats.subject}${channelOf(message.event.type)!.channel.address.slice(defaultPrefix.length)}`);
      }
      for (const message of amqp.received) {
        const { channel } = channelOf(message.event.type)!;
        expect(message).toMatchObject({ messageId: message.event.id, routingKey: channel.address, persistent: true });
        expect(message.contentType?.split(';')[0]).toBe(channelOf(message.event.type)!.message.contentType);
        expect(channel.bindings?.amqp?.exchange).toMatchObject({ type: 'topic', durable: true });
      }

      // Every webhook request, the refused one too, verifies with the README's recipe and the webhook's own secret only.
      for (const request of receiver.requests) {
        const header = String(request.headers['stagecraft-signature']);
        expect({ id: request.event.id, own: verifyAsReadme(OWN_SECRET, header, request.body), shared: verifyAsReadme(SHARED_SECRET, header, request.body) }).toEqual({ id: request.event.id, own: true, shared: false });
        expect(request.headers).toMatchObject({ 'stagecraft-event-id': request.event.id, 'stagecraft-event-type': request.event.type });
        expect(String(request.headers['content-type']).split(';')[0]).toBe('application/cloudevents+json');
        // The raw body is the event, byte for byte as JSON says it.
        expect(JSON.parse(request.body.toString('utf8'))).toEqual(request.event);
      }
      expect(receiver.requests[0]!.answered).toBe(500);
      expect(receiver.requests[1]!.body.equals(receiver.requests[0]!.body)).toBe(true);
    } finally {
      await api.close();
      await receiver.close();
    }
  });
});
