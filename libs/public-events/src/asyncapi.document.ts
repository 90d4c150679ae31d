import { examplePublicEvents } from './public-event.examples';
import { publicEventSchema, publicEventSummary } from './public-event.schemas';
import { PUBLIC_EVENT_SOURCE, PUBLIC_EVENT_TYPES, publicEventName, type PublicEventType } from './public-event.types';

/** The version of the public contract as a whole; each event type carries its own `.vN`. */
export const PUBLIC_CONTRACT_VERSION = '1.0.0';

/** Default names a sink uses when its URL does not say otherwise (see the README's relay section). */
export const DEFAULT_NATS_STREAM = 'STAGECRAFT';
export const DEFAULT_AMQP_EXCHANGE = 'stagecraft';

// `stagecraft.opportunity.stage-changed.v1` → `opportunityStageChangedV1`: keys AsyncAPI accepts.
function keyOf(type: PublicEventType): string {
  const words = publicEventName(type).replace('.v', '-v').split('-');
  return `opportunity${words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join('')}`;
}

/**
 * The AsyncAPI 3 document of the public events: served at /docs/asyncapi.json and kept in
 * docs/asyncapi.json (a spec checks the two agree). Pure: the same document on every call.
 */
export function buildAsyncApiDocument(): Record<string, unknown> {
  const examples = examplePublicEvents();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of PUBLIC_EVENT_TYPES) {
    const key = keyOf(type);
    const example = examples.find((event) => event.type === type)!;
    schemas[key] = publicEventSchema(type);
    messages[key] = {
      name: type,
      title: type,
      summary: publicEventSummary(type),
      contentType: 'application/cloudevents+json',
      correlationId: { description: 'The correlation id of the command that caused the event', location: '$message.payload#/correlationid' },
      payload: { $ref: `#/components/schemas/${key}` },
      examples: [{ name: publicEventName(type), payload: example }],
    };
    channels[key] = {
      address: type,
      title: type,
      description: `NATS subject \`stagecraft.opportunity.${publicEventName(type)}\` (prefix set by the sink URL's \`subject\`), AMQP routing key \`${type}\`; webhooks receive every type at their URL.`,
      messages: { [key]: { $ref: `#/components/messages/${key}` } },
      bindings: {
        amqp: {
          is: 'routingKey',
          exchange: { name: DEFAULT_AMQP_EXCHANGE, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
          bindingVersion: '0.3.0',
        },
      },
    };
    operations[`publish${key[0]!.toUpperCase()}${key.slice(1)}`] = {
      action: 'send',
      title: `Publish ${type}`,
      summary: publicEventSummary(type),
      channel: { $ref: `#/channels/${key}` },
      messages: [{ $ref: `#/channels/${key}/messages/${key}` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    id: 'urn:stagecraft:public-events',
    info: {
      title: 'Stagecraft public events',
      version: PUBLIC_CONTRACT_VERSION,
      description: [
        'What happens to opportunities, as CloudEvents 1.0 in structured JSON mode (`application/cloudevents+json`).',
        `\`source\` is \`${PUBLIC_EVENT_SOURCE}\`; \`id\` is the stored event's id, the same on every retry and replay: deduplicate on it.`,
        '`subject` is the opportunity id; `time` the business time; the extensions `stagecraftposition` (global log position, as text) and `stagecraftrevision` (revision in the opportunity) give the order.',
        'Delivery is at least once, in order per opportunity (ascending `stagecraftrevision`): per opportunity, ignore an event whose revision you have already seen. Revisions may skip numbers (a keyed command that changed nothing is recorded, not published): a gap is not a lost event. Batches follow the log, but within one events of different opportunities may pass each other: never skip an event because its `stagecraftposition` is below one already seen; sort by it where the log\'s own order matters.',
        'Webhooks: POST of the same JSON with headers `stagecraft-event-id`, `stagecraft-event-type` and `stagecraft-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the webhook\'s secret>`: its own in RELAY_WEBHOOK_SECRETS, else RELAY_WEBHOOK_SECRET. While a secret is rotated the header carries one `v1=` per secret (`t=…,v1=…,v1=…`): accept the request when any of them matches yours. Refuse a request without `t` or with `t` more than 5 minutes from your clock, and compare in constant time.',
        'A `.v1` payload never changes; a changed meaning is published as `.v2` beside it.',
      ].join('\n\n'),
    },
    defaultContentType: 'application/cloudevents+json',
    servers: {
      nats: {
        host: 'localhost:4222',
        protocol: 'nats',
        description: `NATS JetStream (a \`nats://\` URL in RELAY_SINKS): stream \`${DEFAULT_NATS_STREAM}\` on \`stagecraft.opportunity.>\`, created when absent; header \`Nats-Msg-Id\` = event id, so JetStream drops retried duplicates.`,
      },
      rabbitmq: {
        host: 'localhost:5672',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: `RabbitMQ (an \`amqp://\` URL in RELAY_SINKS): durable topic exchange \`${DEFAULT_AMQP_EXCHANGE}\`, routing key = type, persistent messages with \`message_id\` = event id, publisher confirms. Bind your queue with \`stagecraft.opportunity.#\` before events flow.`,
      },
      webhook: {
        host: 'subscriber.example',
        protocol: 'https',
        description:
          'Your endpoint (an `https://` URL in RELAY_SINKS): one POST per event, in order, signed; any 2xx acknowledges. While you cannot take events, answer 503 (or 408, 429, 502, 504; a Retry-After on 429 and 503 is honoured): as when you do not answer at all, the event is retried until you take it, and the later ones wait, in order. Any other status (and a redirect, which is not followed) refuses the event: after RELAY_WEBHOOK_MAX_ATTEMPTS refusals it goes to the dead-letter list, the later events of its opportunity held back behind it until a replay.',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}
