import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicEvent } from '@stagecraft/public-events';
import { createSink } from '../relay';
import { parseSinkUrl } from '../relay-sink-url';
import type { RelaySettings } from '../relay.settings';
import { verifyWebhookSignature } from './webhook-signature';

// A webhook given a list of secrets in RELAY_WEBHOOK_SECRETS (a rotation) sends a request each
// secret verifies (libs/config reads the list: relay-settings.spec.ts).

const [NEXT, OLD] = ['n'.repeat(40), 'o'.repeat(40)];

it('signs each request with every secret of the webhook, so its subscriber verifies with either', async () => {
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  try {
    const config = parseSinkUrl(url);
    const settings: RelaySettings = {
      sinks: [config],
      mode: 'external',
      statePath: '/unused',
      newSinkFrom: 'end',
      webhookSecrets: { [config.key]: [NEXT, OLD] },
      webhookMaxAttempts: 1,
      webhookTimeoutMs: 5_000,
      retryBaseMs: 1,
      retryMaxMs: 1,
    };
    const sink = createSink(config, settings);
    const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID(), time: '2026-11-30T12:00:00.000Z' } as PublicEvent;
    await sink.publish([{ position: 1, event, body: Buffer.from(JSON.stringify(event)) }], { signal: new AbortController().signal, onAttemptFailed: () => undefined });
    const [{ headers, body }] = received as [(typeof received)[0]];
    const header = String(headers['stagecraft-signature']);
    const now = Number(/^t=(\d+),/.exec(header)![1]);
    expect(header.match(/v1=/g)).toHaveLength(2);
    expect([NEXT, OLD, 'x'.repeat(40)].map((secret) => verifyWebhookSignature(secret, header, body, now))).toEqual([true, true, false]);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
