import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type WebhookSinkConfig } from '../relay-sink-url';
import type { Undeliverable } from './relay-sink.port';
import { getWebhookSink, type WebhookSinkOptions } from './webhook.sink';

// A subscriber that is down (no answer, or one saying it is unavailable or busy) has not refused
// the event: counted toward RELAY_WEBHOOK_MAX_ATTEMPTS, a webhook down for a minute had each
// event dead-lettered, the rest of its opportunities held back behind it, and needed a replay by
// hand. It is retried until it answers, as a broker is; only an answer refusing the event counts.

jest.setTimeout(30_000);
const MAX_ATTEMPTS = 2;
const SECRET = 'a-webhook-secret-of-32-characters-or-more';

const outgoing = (): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID() } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Published {
  readonly undeliverable?: readonly Undeliverable[];
  /** Set when the publish failed (the relay stopped), instead of `undeliverable`. */
  readonly rejected?: unknown;
  /** What the sink told the runner of each failed attempt. */
  readonly said: readonly string[];
}

/** Publishes one event to `url`; `onWait(n)` runs before the n-th retry (the waits themselves are skipped). */
async function publishTo(url: string, options: Partial<WebhookSinkOptions> = {}, onWait: (n: number, stop: AbortController) => void | Promise<void> = () => undefined): Promise<Published> {
  const stop = new AbortController();
  const said: string[] = [];
  let waits = 0;
  const sink = getWebhookSink(parseSinkUrl(url) as WebhookSinkConfig, {
    secret: SECRET,
    maxAttempts: MAX_ATTEMPTS,
    timeoutMs: 2_000,
    retryBaseMs: 10,
    retryMaxMs: 10,
    wait: async (_ms, signal) => {
      await onWait(++waits, stop);
      if (signal.aborted) throw signal.reason;
    },
    ...options,
  });
  return sink.publish([outgoing()], { signal: stop.signal, onAttemptFailed: (message) => said.push(message) }).then(
    ({ undeliverable }) => ({ undeliverable, said }),
    (rejected: unknown) => ({ rejected, said }),
  );
}

/** A subscriber answering `answers` in turn (a status, or 'hang': no answer), then 204. */
async function subscriber(answers: readonly (number | 'hang')[]): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  let index = 0;
  const server = createServer((request, response) => {
    request.resume();
    const answer = answers[index++] ?? 204;
    if (answer !== 'hang') response.writeHead(answer).end();
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests: () => index,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('a webhook subscriber that is down or busy', () => {
  it.each([408, 429, 502, 503, 504])('answering %i more often than the attempts allowed is retried until it takes the event, nothing dead-lettered', async (status) => {
    const down = 3 * MAX_ATTEMPTS;
    const hook = await subscriber(Array<number>(down).fill(status));
    try {
      const { undeliverable, said } = await publishTo(hook.url);
      expect(undeliverable).toEqual([]);
      expect(hook.requests()).toBe(down + 1);
      expect(said).toHaveLength(down);
      for (const line of said) expect(line).toMatch(new RegExp(`down or busy .*not counted toward the ${MAX_ATTEMPTS} attempts.*: HTTP ${status}$`));
    } finally {
      await hook.close();
    }
  });

  it('not answering in time, more often than the attempts allowed, is retried until it takes the event', async () => {
    const down = 3 * MAX_ATTEMPTS;
    const hook = await subscriber(Array<'hang'>(down).fill('hang'));
    try {
      const { undeliverable, said } = await publishTo(hook.url, { timeoutMs: 300 });
      expect(undeliverable).toEqual([]);
      expect(hook.requests()).toBe(down + 1);
      expect(said).toHaveLength(down);
      for (const line of said) expect(line).toMatch(/down or busy.*timeout/);
    } finally {
      await hook.close();
    }
  });

  it('refusing connections, more often than the attempts allowed, is retried until it listens again, and then takes the event', async () => {
    const down = 3 * MAX_ATTEMPTS;
    const server = createServer((request, response) => {
      request.resume();
      response.writeHead(204).end();
    });
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    try {
      const { undeliverable, said } = await publishTo(`http://127.0.0.1:${port}/hook`, {}, async (n) => {
        if (n === down) await listen(server, port);
      });
      expect(undeliverable).toEqual([]);
      expect(said).toHaveLength(down);
      for (const line of said) expect(line).toMatch(/down or busy.*ECONNREFUSED/);
    } finally {
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is abandoned, unacknowledged and not dead-lettered, when the relay stops during its retries', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((resolve) => server.close(resolve));
    const { undeliverable, rejected, said } = await publishTo(`http://127.0.0.1:${port}/hook`, {}, (n, stop) => {
      if (n === 3 * MAX_ATTEMPTS) stop.abort();
    });
    expect(undeliverable).toBeUndefined();
    expect(rejected).toBeDefined();
    expect(said).toHaveLength(3 * MAX_ATTEMPTS);
  });
});

describe('a webhook subscriber that refuses the event', () => {
  it.each([400, 401, 403, 404, 409, 410, 413, 422, 500, 501, 505, 301, 308])('answering %i is dead-lettered after the attempts allowed', async (status) => {
    const hook = await subscriber(Array<number>(10).fill(status));
    try {
      const { undeliverable, said } = await publishTo(hook.url);
      expect(undeliverable).toMatchObject([{ attempts: MAX_ATTEMPTS, lastError: expect.stringMatching(new RegExp(`^HTTP ${status}`)) }]);
      expect(hook.requests()).toBe(MAX_ATTEMPTS);
      expect(said.map((line) => / refused, attempt (\d+) of (\d+) before the dead-letter list: /.exec(line)?.slice(1))).toEqual([
        ['1', String(MAX_ATTEMPTS)],
        ['2', String(MAX_ATTEMPTS)],
      ]);
    } finally {
      await hook.close();
    }
  });

  it('counts only its refusals when they alternate with being busy', async () => {
    const hook = await subscriber([503, 500, 429, 502, 'hang', 500, 204]);
    try {
      const { undeliverable } = await publishTo(hook.url, { timeoutMs: 300 });
      expect(undeliverable).toMatchObject([{ attempts: 2, lastError: 'HTTP 500' }]);
      expect(hook.requests()).toBe(6);
    } finally {
      await hook.close();
    }
  });
});
