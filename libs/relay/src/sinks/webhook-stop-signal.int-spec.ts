import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type WebhookSinkConfig } from '../relay-sink-url';
import { getWebhookSink } from './webhook.sink';

// The relay's stop signal lives as long as the relay, and a webhook sends one request per event.
// Each request's signal was AbortSignal.any([stop, timeout]): Node keeps a reference to every
// signal made that way on the long-lived one (Node 20: never released; nodejs/node#55351), so the
// process grew with every event delivered, without bound. Whatever a request leaves on the stop
// signal must go when it is answered.

const outgoing = (): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID() } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};

/** What Node holds on a signal for the signals AbortSignal.any() made from it (0 when it keeps none). */
function dependants(signal: AbortSignal): number {
  const held = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === 'kDependantSignals');
  return held === undefined ? 0 : ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[held]?.size ?? 0);
}

describe('a webhook sink and the relay stop signal', () => {
  it('keeps nothing on it per event: no listener and no combined signal outlives its request', async () => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const stop = new AbortController();
    try {
      const sink = getWebhookSink(parseSinkUrl(url) as WebhookSinkConfig, { secret: 'a-webhook-secret-of-32-characters-or-more', maxAttempts: 2, timeoutMs: 5_000, retryBaseMs: 10, retryMaxMs: 10 });
      for (let i = 0; i < 50; i += 1) {
        await expect(sink.publish([outgoing()], { signal: stop.signal, onAttemptFailed: () => undefined })).resolves.toEqual({ undeliverable: [] });
      }
      expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
      expect(dependants(stop.signal)).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
