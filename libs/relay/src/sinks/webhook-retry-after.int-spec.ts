import { randomUUID } from 'node:crypto';
import { createServer, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PublicEvent } from '@stagecraft/public-events';
import { parseSinkUrl, type WebhookSinkConfig } from '../relay-sink-url';
import { getWebhookSink, retryAfterMs } from './webhook.sink';

// A subscriber that is busy says for how long (429 Too Many Requests or 503, with Retry-After).
// Retried sooner, on the relay's own short backoff, it was asked again and again while it said it
// was busy (and, while those answers still counted as attempts, the event was dead-lettered).

const NOW = Date.parse('2026-11-30T12:00:00Z');

async function delaysBefore204(failures: { status: number; headers: OutgoingHttpHeaders }[], retryMaxMs = 60_000) {
  let index = 0;
  const server = createServer((_request, response) => {
    const failure = failures[index++];
    response.writeHead(failure?.status ?? 204, failure?.headers ?? {}).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const delays: number[] = [];
  try {
    const sink = getWebhookSink(parseSinkUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`) as WebhookSinkConfig, {
      secret: 'a-webhook-secret-of-32-characters-or-more',
      maxAttempts: failures.length + 1,
      timeoutMs: 5_000,
      retryBaseMs: 10,
      retryMaxMs,
      now: () => NOW,
      wait: async (ms) => void delays.push(ms),
    });
    const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID() } as PublicEvent;
    const { undeliverable } = await sink.publish([{ position: 1, event, body: Buffer.from(JSON.stringify(event)) }], { signal: new AbortController().signal, onAttemptFailed: () => undefined });
    expect(undeliverable).toEqual([]);
    return delays;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('a webhook subscriber that asks for time', () => {
  it('is retried no sooner than its Retry-After in seconds, on 429 and on 503', async () => {
    const delays = await delaysBefore204([
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 503, headers: { 'retry-after': '7' } },
    ]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(3_000);
    expect(delays[1]).toBeGreaterThanOrEqual(7_000);
  });

  it('is retried no sooner than its Retry-After as an HTTP date', async () => {
    const [delay] = await delaysBefore204([{ status: 429, headers: { 'retry-after': new Date(NOW + 20_000).toUTCString() } }]);
    expect(delay).toBeGreaterThanOrEqual(20_000);
  });

  it('waits at most RELAY_RETRY_MAX_MS however long it asks for', async () => {
    const [delay] = await delaysBefore204([{ status: 429, headers: { 'retry-after': '86400' } }], 15_000);
    expect(delay).toBe(15_000);
  });

  it('waits at most RELAY_RETRY_MAX_MS for a delay of more digits than a date has, rather than not at all', async () => {
    const [delay] = await delaysBefore204([{ status: 503, headers: { 'retry-after': '99999999999' } }], 15_000);
    expect(delay).toBe(15_000);
  });

  it('on another failure than 429 or 503, on the backoff alone: Retry-After asks for time only there', async () => {
    const [delay] = await delaysBefore204([{ status: 500, headers: { 'retry-after': '30' } }]);
    expect(delay).toBeLessThan(100);
  });

  it('without Retry-After (or an unreadable one), on the backoff alone', async () => {
    const delays = await delaysBefore204([
      { status: 429, headers: {} },
      { status: 503, headers: { 'retry-after': 'soon' } },
    ]);
    expect(delays).toHaveLength(2);
    for (const delay of delays) expect(delay).toBeLessThan(100);
  });
});

describe('Retry-After, as read', () => {
  const read = (value: string, status = 503) => retryAfterMs({ status, headers: new Headers({ 'retry-after': value }) }, NOW);

  it('takes delay-seconds and the three forms of an HTTP date (asctime is GMT too)', () => {
    expect(read('120')).toBe(120_000);
    expect(read(' 7 ')).toBe(7_000);
    expect(read('Mon, 30 Nov 2026 12:01:00 GMT')).toBe(60_000);
    expect(read('Monday, 30-Nov-26 12:01:00 GMT')).toBe(60_000);
    expect(read('Mon Nov 30 12:01:00 2026')).toBe(60_000);
  });

  it('reads a date already past as no wait', () => {
    expect(read('Mon, 30 Nov 2026 11:00:00 GMT')).toBe(0);
  });

  it('leaves unreadable what is neither (a negative or decimal number, words around a year)', () => {
    for (const value of ['-5', '1.5', 'soon 2030', 'May 2030', 'tomorrow', '']) expect([value, read(value)]).toEqual([value, undefined]);
  });

  // RFC 9110, 10.2.3: a Retry-After that is neither delay-seconds nor an HTTP-date is no Retry-After.
  it('leaves unreadable a date shaped like an HTTP-date that is none: a day the calendar lacks, a time past the day, a made-up day or month name, another case or zone', () => {
    const notDates = [
      'Wed, 31 Feb 2099 07:28:00 GMT',
      'Tue, 31 Nov 2026 12:01:00 GMT',
      'Mon, 30 Nov 2026 24:00:00 GMT',
      'Mon, 30 Nov 2026 25:00:00 GMT',
      'Mon, 30 Nov 2026 12:60:00 GMT',
      'Xyz, 30 Dec 2026 12:01:00 GMT',
      'Mon, 30 Foo 2026 12:01:00 GMT',
      'Someday, 30-Dec-26 12:01:00 GMT',
      'Wed Feb 31 07:28:00 2099',
      'MON, 30 NOV 2026 12:01:00 GMT',
      'Mon, 30 Nov 2026 12:01:00 UTC',
    ];
    for (const value of notDates) expect([value, read(value)]).toEqual([value, undefined]);
  });

  it('retries on the backoff alone after a Retry-After of 31 February, not at the March day it rolls over to', async () => {
    const [delay] = await delaysBefore204([{ status: 429, headers: { 'retry-after': 'Wed, 31 Feb 2099 07:28:00 GMT' } }]);
    expect(delay).toBeLessThan(100);
  });
});
