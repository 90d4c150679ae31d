import { createHmac, timingSafeEqual } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect as connectNats } from 'nats';
import { createCommandSide, type CommandSide } from '@stagecraft/commands';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import type { PublicEvent } from '@stagecraft/public-events';
import { SHIPPED_PROCESSES, temporaryDirectory } from '../../../test/support/api-test-app';
import { runJourney } from '../../../test/support/relay-journey';
import {
  amqpQueueReader,
  NATS_ADDRESS,
  natsHostAndPort,
  natsStreamReader,
  perOpportunityOrderProblems,
  schemaProblems,
  waitFor,
  webhookReceiver,
  type AmqpQueueReader,
  type NatsStreamReader,
} from '../../../test/support/relay-consumers';
import { TcpProxy } from '../../../test/support/tcp-proxy';
import { LOG_REPLACED } from './checkpoint-log';
import { anchorAtOrBefore } from './checkpoint-log.reads';
import { positionBefore, Relay } from './relay';
import { parseSinkUrl, type AmqpSinkConfig, type NatsSinkConfig, type WebhookSinkConfig } from './relay-sink-url';
import { getSQLiteRelayStateStore } from './relay-state.store';
import { getAmqpSink } from './sinks/amqp.sink';
import { getNatsSink } from './sinks/nats.sink';
import type { RelaySink } from './sinks/relay-sink.port';
import { getWebhookSink } from './sinks/webhook.sink';

// The relay against the real NATS JetStream and RabbitMQ of this machine (each test on a stream,
// subject, exchange and queue of its own) and a webhook subscriber in the test, on a real
// SQLite store written by the real command side.

jest.setTimeout(60_000);
const SECRET = 'relay-test-secret-0123456789abcdef';

describe('the relay, against real brokers', () => {
  const dir = temporaryDirectory('stagecraft-relay-');
  let store: EventStore;
  let side: CommandSide;
  let n = 0;
  const relays: Relay[] = [];

  beforeEach(async () => {
    n += 1;
    store = getSQLiteEventStore({ path: join(dir.path, `events-${n}.db`), durability: 'normal' });
    side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop().catch(() => undefined)));
    await store.close();
  });
  afterAll(() => dir.remove());

  const startRelay = (sink: RelaySink, statePath = join(dir.path, `relay-${n}.db`), log: (level: string, line: string) => void = () => undefined) => {
    const relay = new Relay(store, getSQLiteRelayStateStore(statePath), [sink], {
      newSinkFrom: 'beginning',
      retryBaseMs: 20,
      retryMaxMs: 200,
      readAhead: 64,
      replayCheckMs: 50,
      maxBatch: 16,
      log,
    });
    relay.start();
    relays.push(relay);
    return relay;
  };
  const stopRelay = async (relay: Relay) => {
    relays.splice(relays.indexOf(relay), 1);
    await relay.stop();
  };
  /** Every opportunity event in the store, in log order. */
  const storedIds = async () => (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-')).map((event) => event.id);
  const journeys = async (count: number, from = 0) => {
    let events = 0;
    for (let index = from; index < from + count; index += 1) events += (await runJourney(side.executor, `Deal ${index}`)).events;
    return events;
  };
  const expectComplete = async (received: readonly PublicEvent[]) => {
    const ids = await storedIds();
    expect(new Set(received.map((event) => event.id))).toEqual(new Set(ids));
    expect(perOpportunityOrderProblems(received)).toEqual([]);
    expect(received.flatMap(schemaProblems)).toEqual([]);
  };

  /** What the runner says once its checkpoint is found on another log. */
  const logReplaced = (relay: Relay) => waitFor('the sink to stop on a replaced log', async () => {
    const [status] = await relay.status();
    return status!.state === LOG_REPLACED ? status! : undefined;
  });

  // `stagecraft relay status` reads the state file, not the running relay: the sink's error is
  // saved there when it changes (since: its first failure so worded), and cleared once it sends.
  it("saves a sink's error in the state file when it changes, since its first failure, and clears it once the sink sends again", async () => {
    await journeys(1);
    let refusing = true;
    let attempts = 0;
    const sink: RelaySink = {
      config: parseSinkUrl('https://hooks.example/refusing'),
      publish: async () => {
        attempts += 1;
        if (refusing) throw new Error('HTTP 503 from the subscriber');
        return { undeliverable: [] };
      },
      close: async () => undefined,
    };
    const statePath = join(dir.path, `relay-${n}.db`);
    const saved = () => {
      const state = getSQLiteRelayStateStore(statePath);
      try {
        return state.checkpoint(sink.config.key)?.lastError;
      } finally {
        state.close();
      }
    };
    const relay = startRelay(sink, statePath);
    const first = await waitFor('the error saved', async () => saved());
    expect(first.message).toBe('HTTP 503 from the subscriber');
    expect((await relay.status())[0]!.lastError).toBe(first.message);
    // Retried several times more with the same words: still since the first.
    const seen = attempts;
    await waitFor('more attempts', async () => (attempts >= seen + 3 ? true : undefined));
    expect(saved()).toEqual(first);
    refusing = false;
    await waitFor('the error cleared', async () => (saved() === undefined ? true : undefined));
  });

  describe('to NATS JetStream', () => {
    let reader: NatsStreamReader;
    beforeEach(async () => (reader = await natsStreamReader()));
    afterEach(() => reader.close());

    it('publishes every event once, in order per opportunity, with Nats-Msg-Id = event id, creating the stream; a replay adds no duplicate to the stream', async () => {
      const total = await journeys(3);
      const relay = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig));
      await waitFor('every event in the stream', async () => (await reader.count()) >= total);
      const messages = await reader.messages();
      // Each event once; per opportunity in revision order (expectComplete), which is all the
      // rounds of a batch keep: events of different opportunities may pass each other.
      expect(messages).toHaveLength(total);
      for (const message of messages) {
        expect(message.msgId).toBe(message.event.id);
        expect(message.subject).toBe(`${reader.subject}.${message.event.type.slice('stagecraft.opportunity.'.length)}`);
      }
      await expectComplete(messages.map((message) => message.event));

      // Publish everything again (a replay): JetStream recognises the ids and stores nothing new.
      relay.state.requestReplay(parseSinkUrl(reader.sinkUrl()).key, 0, 1);
      await waitFor('the replay to be published', async () => ((await relay.status())[0]!.published >= 2 * total ? true : undefined));
      expect(await reader.count()).toBe(total);
    });

    it('creates the stream again when it is gone while the relay runs (a broker restarted without its store, a stream deleted), rather than retry for ever', async () => {
      const first = await journeys(1);
      const relay = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig, { ackTimeoutMs: 500 }));
      await waitFor('the first events', async () => (await reader.count()) >= first);
      const admin = await connectNats({ servers: NATS_ADDRESS });
      try {
        await (await admin.jetstreamManager()).streams.delete(reader.stream);
      } finally {
        await admin.close();
      }
      const second = await journeys(1, 1);
      await waitFor('the later events in the stream made again', async () => ((await reader.count()) >= second ? true : undefined));
      const ids = await storedIds();
      const later = (await reader.messages()).map((message) => message.event);
      expect(later.map((event) => event.id).sort()).toEqual(ids.slice(first).sort());
      expect(perOpportunityOrderProblems(later)).toEqual([]);
      await waitFor('the sink live again', async () => ((await relay.status())[0]!.state === 'live' ? true : undefined));
    });

    it('goes on while the broker is away, without blocking commands, and catches up in order when it is back', async () => {
      const proxy = await new TcpProxy(...natsHostAndPort()).start();
      try {
        const first = await journeys(2);
        const relay = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl(proxy.url)) as NatsSinkConfig, { ackTimeoutMs: 500 }));
        await waitFor('the first events', async () => (await reader.count()) >= first);
        await proxy.cut();
        const second = await journeys(2, 2); // commands are answered while the broker is away
        await waitFor('the sink to be retrying', async () => ((await relay.status())[0]!.state === 'retrying' ? true : undefined));
        const [down] = await relay.status();
        expect(down!.lag).toBeGreaterThan(0);
        expect(down!.lastError).toBeDefined();
        expect(await reader.count()).toBe(first);
        await proxy.restore();
        await waitFor('the catch-up', async () => (await reader.count()) >= first + second);
        const messages = await reader.messages();
        expect(messages).toHaveLength(first + second);
        await expectComplete(messages.map((message) => message.event));
        await waitFor('the sink to be live again', async () => ((await relay.status())[0]!.state === 'live' && (await relay.status())[0]!.lag === 0 ? true : undefined));
      } finally {
        await proxy.close();
      }
    });
  });

  describe('to RabbitMQ', () => {
    let reader: AmqpQueueReader;
    beforeEach(async () => (reader = await amqpQueueReader()));
    afterEach(() => reader.close());

    it('publishes persistent messages with message_id = event id and routing key = type, in order per opportunity; a replay repeats them with the same ids', async () => {
      const total = await journeys(2);
      const relay = startRelay(getAmqpSink(parseSinkUrl(reader.sinkUrl()) as AmqpSinkConfig));
      await waitFor('every event in the queue', () => (reader.received.length >= total ? true : undefined));
      expect(reader.received).toHaveLength(total);
      for (const message of reader.received) {
        expect(message).toMatchObject({ messageId: message.event.id, routingKey: message.event.type, persistent: true, contentType: 'application/cloudevents+json; charset=utf-8' });
      }
      await expectComplete(reader.received.map((message) => message.event));

      const firstPass = reader.received.map((message) => message.event);
      const inLogOrder = [...firstPass].sort((a, b) => Number(a.stagecraftposition) - Number(b.stagecraftposition));
      const from = Number(inLogOrder[5]!.stagecraftposition);
      relay.state.requestReplay(parseSinkUrl(reader.sinkUrl()).key, await positionBefore(store, from), from);
      await waitFor('the replayed events', () => (reader.received.length >= total + (total - 5) ? true : undefined));
      const repeats = reader.received.slice(total).map((message) => message.event);
      const byId = (events: readonly PublicEvent[]) => [...events].sort((a, b) => a.id.localeCompare(b.id));
      expect(byId(repeats)).toEqual(byId(inLogOrder.slice(5))); // from the position asked: same ids, same payloads
      expect(perOpportunityOrderProblems(reader.received.map((message) => message.event))).toEqual([]);
    });

    it('loses nothing when the broker connection drops mid-stream and comes back', async () => {
      const proxy = await new TcpProxy('127.0.0.1', 5672).start();
      try {
        const first = await journeys(2);
        const relay = startRelay(getAmqpSink(parseSinkUrl(reader.sinkUrl(proxy.url)) as AmqpSinkConfig, { confirmTimeoutMs: 500 }));
        await waitFor('the first events', () => (reader.received.length >= first ? true : undefined));
        await proxy.cut();
        const second = await journeys(2, 2);
        await waitFor('the sink to be retrying', async () => ((await relay.status())[0]!.state === 'retrying' ? true : undefined));
        expect((await relay.status())[0]!.lag).toBeGreaterThan(0);
        await proxy.restore();
        await waitFor('the catch-up', () => (new Set(reader.received.map((message) => message.event.id)).size >= first + second ? true : undefined));
        await expectComplete(reader.received.map((message) => message.event));
      } finally {
        await proxy.close();
      }
    });

    it('recovers when the broker stops answering mid-stream (a frozen connection) and answers again, and stops while it does not', async () => {
      const proxy = await new TcpProxy('127.0.0.1', 5672).start();
      const statePath = join(dir.path, `relay-frozen-${n}.db`);
      try {
        const first = await journeys(2);
        const sink = () => getAmqpSink(parseSinkUrl(reader.sinkUrl(proxy.url)) as AmqpSinkConfig, { confirmTimeoutMs: 500 });
        const relay = startRelay(sink(), statePath);
        await waitFor('the first events', () => (reader.received.length >= first ? true : undefined));
        // The broker keeps the connection but answers nothing: close() used to wait for its reply for ever.
        proxy.freeze();
        const second = await journeys(2, 2);
        await waitFor('the sink to be retrying', async () => ((await relay.status())[0]!.state === 'retrying' ? true : undefined));
        await stopRelay(relay); // resolves: nothing waits on the silent broker without a deadline
        await proxy.restore();
        startRelay(sink(), statePath);
        await waitFor('the catch-up', () => (new Set(reader.received.map((message) => message.event.id)).size >= first + second ? true : undefined));
        await expectComplete(reader.received.map((message) => message.event));
      } finally {
        await proxy.close();
      }
    }, 60_000);
  });

  describe('to a webhook', () => {
    const sinkFor = (url: string, maxAttempts = 3) =>
      getWebhookSink(parseSinkUrl(url) as WebhookSinkConfig, { secret: SECRET, maxAttempts, timeoutMs: 2_000, retryBaseMs: 10, retryMaxMs: 50 });

    it('POSTs each event in order, signed as the README tells subscribers to verify', async () => {
      const receiver = await webhookReceiver();
      try {
        const total = await journeys(1);
        startRelay(sinkFor(receiver.url));
        await waitFor('every event', () => (receiver.requests.length >= total ? true : undefined));
        expect(receiver.requests.map((request) => request.event.id)).toEqual(await storedIds());
        await expectComplete(receiver.requests.map((request) => request.event));
        for (const request of receiver.requests) {
          // The README's recipe, written out independently of the relay's own code.
          const header = String(request.headers['stagecraft-signature']);
          const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header)!;
          const expected = createHmac('sha256', SECRET).update(`${t}.${request.body.toString('utf8')}`).digest('hex');
          expect(timingSafeEqual(Buffer.from(v1!, 'hex'), Buffer.from(expected, 'hex'))).toBe(true);
          expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(300);
          expect(request.headers['stagecraft-event-id']).toBe(request.event.id);
          expect(request.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
          // A body changed on the way no longer verifies.
          const tampered = createHmac('sha256', SECRET).update(`${t}.${request.body.toString('utf8').replace('"specversion"', '"specversion" ')}`).digest('hex');
          expect(tampered).not.toBe(v1);
        }
      } finally {
        await receiver.close();
      }
    });

    it('reads only the start of an answer: a subscriber that answers 200 and streams without end gets each event once, and this process does not buffer the stream', async () => {
      const total = await journeys(1);
      const chunk = Buffer.alloc(64 * 1024, 120);
      /** Bytes sent in each answer until the relay closed it. */
      const sent: number[] = [];
      const server = createServer((request, response) => {
        request.resume();
        response.writeHead(200, { 'content-type': 'text/plain' });
        let bytes = 0;
        const timer = setInterval(() => {
          response.write(chunk);
          bytes += chunk.length;
        }, 2);
        response.on('close', () => {
          clearInterval(timer);
          sent.push(bytes);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        const relay = startRelay(sinkFor(url, 1));
        await waitFor('every event acknowledged', async () => ((await relay.status())[0]!.lag === 0 && sent.length >= total ? true : undefined));
        expect(relay.state.deadLetters()).toEqual([]); // before, each answer was read until the timeout, and the event dead-lettered
        expect(sent).toHaveLength(total);
        for (const bytes of sent) expect(bytes).toBeLessThan(8 * 1024 * 1024);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('retries a failing event with backoff, dead-letters it after the last attempt, holds back the rest of its opportunity, goes on with the others, and replays them in order once the subscriber is fixed', async () => {
      await journeys(2);
      const ids = await storedIds();
      const poison = ids[4]!;
      const receiver = await webhookReceiver(({ body }) => (body.includes(poison) ? 500 : 204));
      try {
        const relay = startRelay(sinkFor(receiver.url, 3));
        await waitFor('every event taken or dead-lettered', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        expect(receiver.requests.filter((request) => request.event.id === poison).map((request) => request.answered)).toEqual([500, 500, 500]);
        const events = (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-'));
        const poisoned = events.find((event) => event.id === poison)!.stream;
        const heldBack = events.filter((event) => event.stream === poisoned && event.position > events[4]!.position).map((event) => event.id);
        expect(heldBack.length).toBeGreaterThan(0);
        // The other opportunity goes on; the poisoned one's later events are not sent past its dead letter.
        const delivered = receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id);
        expect(delivered).toEqual(ids.filter((id) => id !== poison && !heldBack.includes(id)));
        const letters = relay.state.deadLetters();
        expect(letters[0]).toMatchObject({ eventId: poison, attempts: 3, lastError: 'HTTP 500', sink: parseSinkUrl(receiver.url).key });
        expect(letters.slice(1).map((letter) => letter.eventId)).toEqual(heldBack);
        for (const letter of letters.slice(1)) expect(letter).toMatchObject({ attempts: 0, lastError: expect.stringContaining(`replay from position ${letters[0]!.position}`) });
        expect((await relay.status())[0]).toMatchObject({ deadLetters: 1 + heldBack.length, lag: 0 });

        receiver.setAnswer(() => 204);
        const [letter] = letters;
        relay.state.requestReplay(letter!.sink, await positionBefore(store, letter!.position), letter!.position);
        await waitFor('the replay', () => (receiver.requests.filter((request) => request.event.id === poison && request.answered === 204).length === 1 ? true : undefined));
        await waitFor('the replay to finish', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        expect(relay.state.deadLetters()).toEqual([]);
        // Everything from the poison event on came again, in order, with the same ids.
        const replayed = receiver.requests.slice(receiver.requests.findIndex((request) => request.event.id === poison && request.answered === 204)).map((request) => request.event.id);
        expect(replayed).toEqual(ids.slice(4));
        // A subscriber that applies each opportunity's events in revision order and ignores older
        // ones (the README's advice) has applied every event, the dead letter included.
        const lastApplied = new Map<string, number>();
        const applied = new Set<string>();
        for (const { event } of receiver.requests.filter((request) => request.answered === 204)) {
          if ((lastApplied.get(event.subject) ?? -1) >= event.stagecraftrevision) continue;
          lastApplied.set(event.subject, event.stagecraftrevision);
          applied.add(event.id);
        }
        expect([...applied].sort()).toEqual([...ids].sort());
      } finally {
        await receiver.close();
      }
    });

    // A subscriber down for far longer than its attempts' backoff (max attempts × RELAY_RETRY_MAX_MS)
    // is a sink that is down, not one refusing events: it is retried until it is back, shown
    // retrying with a growing lag meanwhile, then catches up in order. Before, every event was
    // dead-lettered within moments and needed a replay by hand.
    it.each<[string, RegExp, (down: { receiver: Awaited<ReturnType<typeof webhookReceiver>>; proxy: TcpProxy }, up: boolean) => Promise<void> | void]>([
      ['refuses connections', /ECONNREFUSED/, ({ proxy }, up) => (up ? proxy.restore() : proxy.cut())],
      ['does not answer in time', /timeout/, ({ receiver }, up) => receiver.setAnswer(() => (up ? 204 : 'hang'))],
      ['answers 503', /HTTP 503$/, ({ receiver }, up) => receiver.setAnswer(() => (up ? 204 : 503))],
    ])('a subscriber that %s for longer than every attempt allowed is retried until it is back, then gets every event in order, none dead-lettered', async (_case, said, set) => {
      const receiver = await webhookReceiver();
      const proxy = await new TcpProxy('127.0.0.1', Number(new URL(receiver.url).port)).start();
      try {
        await set({ receiver, proxy }, false);
        await journeys(1);
        const sink = getWebhookSink(parseSinkUrl(`http://${proxy.url}/hooks/stagecraft`) as WebhookSinkConfig, { secret: SECRET, maxAttempts: 2, timeoutMs: 500, retryBaseMs: 10, retryMaxMs: 50 });
        const relay = startRelay(sink);
        const failing = async () => {
          const [status] = await relay.status();
          return status!.failures >= 6 || relay.state.deadLetters().length > 0 ? status! : undefined;
        };
        const before = await waitFor('three times the attempts allowed to fail', failing);
        expect(relay.state.deadLetters()).toEqual([]);
        expect(before).toMatchObject({ state: 'retrying', deadLetters: 0, lastError: expect.stringMatching(said) });
        const first = (await store.readAll()).find((event) => event.stream.startsWith('opportunity-'))!;
        expect(before.checkpoint).toBeLessThan(first.position); // its checkpoint stays before the first event
        // Commands go on; the lag grows.
        await journeys(1, 1);
        await waitFor('the lag to grow', async () => ((await relay.status())[0]!.lag! > before.lag! ? true : undefined));
        expect((await relay.status())[0]).toMatchObject({ state: 'retrying', checkpoint: before.checkpoint });

        await set({ receiver, proxy }, true);
        await waitFor('the catch-up', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        // At least once (an answer slower than the timeout on a busy machine is sent again), in log order.
        expect([...new Set(receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id))]).toEqual(await storedIds());
        expect(relay.state.deadLetters()).toEqual([]);
        expect((await relay.status())[0]).toMatchObject({ state: 'live', failures: 0, deadLetters: 0 });
      } finally {
        await proxy.close();
        await receiver.close();
      }
    });

    it('stops at once while a subscriber holds its answer, without counting it a failed attempt, and sends that event again on the next start', async () => {
      await journeys(1);
      const ids = await storedIds();
      let arrived = 0;
      const receiver = await webhookReceiver(() => {
        arrived += 1;
        return 'hang';
      });
      const statePath = join(dir.path, `hang-${n}.db`);
      const slowSink = () => getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: SECRET, maxAttempts: 1, timeoutMs: 20_000, retryBaseMs: 10, retryMaxMs: 50 });
      try {
        const relay = startRelay(slowSink(), statePath);
        await waitFor('the first request', () => (arrived > 0 ? true : undefined));
        const started = Date.now();
        await stopRelay(relay);
        expect(Date.now() - started).toBeLessThan(2_000); // it waited for the subscriber's 20 s before
        const state = getSQLiteRelayStateStore(statePath);
        try {
          expect(state.deadLetters()).toEqual([]);
          const first = (await store.readAll()).find((event) => event.id === ids[0])!;
          expect(state.checkpoint(parseSinkUrl(receiver.url).key)!.position).toBeLessThan(first.position);
        } finally {
          state.close();
        }
        receiver.setAnswer(() => 204);
        startRelay(slowSink(), statePath);
        await waitFor('every event', () => (receiver.requests.length >= ids.length ? true : undefined));
        expect(receiver.requests.map((request) => request.event.id)).toEqual(ids);
      } finally {
        await receiver.close();
      }
    });

    it('a dead letter the subscriber refuses for good is discarded: the replay from it sends what it held back, in order, without it, then and after a restart', async () => {
      await journeys(1);
      const ids = await storedIds();
      const poison = ids[2]!;
      // Refused for good: every attempt, before and after the replay.
      const receiver = await webhookReceiver(({ body }) => (body.includes(poison) ? 400 : 204));
      const statePath = join(dir.path, `discard-${n}.db`);
      try {
        const relay = startRelay(sinkFor(receiver.url, 1), statePath);
        await waitFor('every event taken or dead-lettered', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        const letters = relay.state.deadLetters();
        expect(letters.map((letter) => letter.eventId)).toEqual(ids.slice(2));
        const [letter] = letters;

        expect(relay.state.discard(letter!.sink, letter!.position)).toMatchObject({ eventId: poison });
        expect(relay.state.discard(letter!.sink, letter!.position)).toBeUndefined(); // gone from the list
        relay.state.requestReplay(letter!.sink, await positionBefore(store, letter!.position), letter!.position);
        await waitFor('the held-back events sent', () => (receiver.requests.filter((request) => request.answered === 204).length === ids.length - 1 ? true : undefined));
        await waitFor('the replay to finish', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        expect(relay.state.deadLetters()).toEqual([]);
        expect(receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id)).toEqual(ids.filter((id) => id !== poison));
        expect(receiver.requests.filter((request) => request.event.id === poison)).toHaveLength(1); // never tried again
        await stopRelay(relay);

        // A later replay from the start, after a restart: the discarded event stays out.
        const again = startRelay(sinkFor(receiver.url, 1), statePath);
        again.state.requestReplay(letter!.sink, 0, 0);
        await waitFor('the second replay', () => (receiver.requests.filter((request) => request.answered === 204).length === 2 * (ids.length - 1) ? true : undefined));
        await waitFor('the second replay to finish', async () => ((await again.status())[0]!.lag === 0 ? true : undefined));
        expect(receiver.requests.filter((request) => request.event.id === poison)).toHaveLength(1);
        expect(again.state.deadLetters()).toEqual([]);
        await stopRelay(again);
      } finally {
        await receiver.close();
      }
    });

    it('a discard gives up on that event only: on a log restored from an older backup, another event at its position is sent', async () => {
      const path = join(dir.path, `events-${n}.db`);
      const reopen = async () => {
        store = getSQLiteEventStore({ path, durability: 'normal' });
        side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
      };
      await store.close(); // a backup of the log before any deal
      copyFileSync(path, `${path}.backup`);
      await reopen();
      await journeys(1);
      const poison = (await storedIds())[2]!;
      const receiver = await webhookReceiver(({ body }) => (body.includes(poison) ? 400 : 204));
      const statePath = join(dir.path, `discard-restored-${n}.db`);
      try {
        const relay = startRelay(sinkFor(receiver.url, 1), statePath);
        await waitFor('the poison event dead-lettered', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
        const letter = relay.state.deadLetters().find((entry) => entry.eventId === poison)!;
        expect(relay.state.discard(letter.sink, letter.position)).toMatchObject({ eventId: poison });
        await stopRelay(relay);

        // The restore, then other deals: another event at the discarded position.
        await store.close();
        for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
        copyFileSync(`${path}.backup`, path);
        await reopen();
        await journeys(1, 10);
        const there = (await store.readAll()).find((event) => event.position === letter.position);
        expect(there?.stream.startsWith('opportunity-') && there.id !== poison).toBe(true);

        const restored = await storedIds();
        const again = startRelay(sinkFor(receiver.url, 1), statePath);
        // The relay does not guess where to go on on a restored log: the operator starts it over (`relay start-over --at beginning`).
        const { sink } = await logReplaced(again);
        again.state.requestReplay(sink, 0, 0, (await store.readAll({ maxCount: 1 }))[0]!.id);
        await waitFor('the restored log relayed', async () => {
          const [status] = await again.status();
          return status!.state === 'live' && status!.lag === 0 ? true : undefined;
        });
        const sent = new Set(receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id));
        expect(restored.filter((id) => !sent.has(id))).toEqual([]);
        expect(again.state.deadLetters()).toEqual([]);
      } finally {
        await receiver.close();
      }
    });

    it('keeps holding back an opportunity behind its dead letter after a restart', async () => {
      await journeys(1);
      const ids = await storedIds();
      const receiver = await webhookReceiver(({ body }) => (body.includes(ids[2]!) ? 500 : 204));
      const statePath = join(dir.path, `held-${n}.db`);
      try {
        const relay = startRelay(sinkFor(receiver.url, 1), statePath);
        await waitFor('the poison event dead-lettered', () => (relay.state.deadLetters().length >= 1 ? true : undefined));
        await stopRelay(relay);
        receiver.setAnswer(() => 204); // fixed, but nothing replayed yet: the rest must still wait
        const again = startRelay(sinkFor(receiver.url, 1), statePath);
        await waitFor('every event passed', async () => ((await again.status())[0]!.lag === 0 ? true : undefined));
        const after = receiver.requests.filter((request) => request.answered === 204).map((request) => request.event.id);
        expect(after).toEqual(ids.slice(0, 2));
        expect(again.state.deadLetters().map((letter) => letter.eventId)).toEqual(ids.slice(2));
      } finally {
        await receiver.close();
      }
    });
  });

  it('resumes from its checkpoint after a stop: what was published is not lost, the rest follows', async () => {
    const reader = await natsStreamReader();
    try {
      const statePath = join(dir.path, `resume-${n}.db`);
      const first = await journeys(1);
      const relay = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig), statePath);
      await waitFor('the first events', async () => (await reader.count()) >= first);
      await waitFor('the checkpoint', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
      await stopRelay(relay);
      // Asked after the stop (a /health while the API shuts down): what it last knew, not a closed file's error.
      expect((await relay.status()).map(({ lag, deadLetters }) => ({ lag, deadLetters }))).toEqual([{ lag: 0, deadLetters: 0 }]);
      const second = await journeys(1, 1);
      const again = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig), statePath);
      await waitFor('the rest', async () => (await reader.count()) >= first + second);
      expect((await again.status())[0]!.published).toBe(second); // nothing before the checkpoint was sent again
      const messages = await reader.messages();
      expect(messages.map((message) => message.event.id)).toEqual(await storedIds());
    } finally {
      await reader.close();
    }
  });

  /** The event store file closed, copied aside (its WAL folded in), and reopened: a backup. */
  const backUp = async (path: string) => {
    await store.close();
    copyFileSync(path, `${path}.backup`);
    await reopenAt(path);
  };
  /** The backup put back in place of the store, and reopened: a restore. */
  const restore = async (path: string) => {
    await store.close();
    for (const suffix of ['-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    copyFileSync(`${path}.backup`, path);
    await reopenAt(path);
  };
  const reopenAt = async (path: string) => {
    store = getSQLiteEventStore({ path, durability: 'normal' });
    side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
  };
  it('stops, named log-replaced, when the store was restored from an older backup and written on past its checkpoint; publishes from where the operator starts it over', async () => {
    const reader = await natsStreamReader();
    try {
      const path = join(dir.path, `events-${n}.db`);
      const statePath = join(dir.path, `restored-${n}.db`);
      await journeys(1);
      await backUp(path);
      await journeys(2, 1);
      const relay = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig), statePath);
      const checkpoint = await store.headPosition();
      await waitFor('the checkpoint at the head', async () => ((await relay.status())[0]!.checkpoint === checkpoint ? true : undefined));
      await stopRelay(relay);
      const publishedBefore = (await reader.messages()).length;

      // The restore, then new deals before the relay is back: the log passes the old checkpoint
      // again, with other events at the positions the relay had published.
      await restore(path);
      await journeys(4, 10);
      expect(await store.headPosition()).toBeGreaterThan(checkpoint);

      const lines: string[] = [];
      const again = startRelay(getNatsSink(parseSinkUrl(reader.sinkUrl()) as NatsSinkConfig), statePath, (_level, line) => lines.push(line));
      const status = await logReplaced(again);
      expect(status.lastError).toContain('is no longer at that position');
      expect(status.lastError).toContain('stagecraft relay start-over --sink');
      expect(lines.filter((line) => line.includes(LOG_REPLACED))).toHaveLength(1);
      // Neither from the old checkpoint (skipping the deals written since the restore) nor from the beginning: nothing.
      expect((await reader.messages()).length).toBe(publishedBefore);
      expect(again.state.checkpoint(status.sink)!.position).toBe(checkpoint);

      // The operator's start over (`stagecraft relay start-over --at beginning`), while it runs.
      again.state.requestReplay(status.sink, 0, 0, (await store.readAll({ maxCount: 1 }))[0]!.id);
      const restored = await storedIds();
      await waitFor('every event of the restored log', async () => {
        const seen = new Set((await reader.messages()).map((message) => message.event.id));
        return restored.every((id) => seen.has(id)) ? true : undefined;
      });
      expect((await again.status())[0]!.state).toBe('live');
    } finally {
      await reader.close();
    }
  });

  it('stops, named log-replaced, when a sink that started at the end of the log and published nothing since finds the log restored and written past it', async () => {
    const receiver = await webhookReceiver();
    try {
      const path = join(dir.path, `events-${n}.db`);
      const statePath = join(dir.path, `idle-${n}.db`);
      const sink = () => getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: SECRET, maxAttempts: 3, timeoutMs: 2_000, retryBaseMs: 10, retryMaxMs: 50 });
      await journeys(1);
      await backUp(path);
      await journeys(1, 1);
      // A new sink starts at the log's end: its checkpoint is the head, and nothing is published.
      const relay = new Relay(store, getSQLiteRelayStateStore(statePath), [sink()], { newSinkFrom: 'end', retryBaseMs: 20, retryMaxMs: 200, readAhead: 64, replayCheckMs: 50, log: () => undefined });
      relay.start();
      relays.push(relay);
      const head = await store.headPosition();
      await waitFor('the sink live at the head', async () => ((await relay.status())[0]!.state === 'live' ? true : undefined));
      await stopRelay(relay);

      await restore(path);
      await journeys(3, 10);
      expect(await store.headPosition()).toBeGreaterThan(head);
      const again = startRelay(sink(), statePath);
      const status = await logReplaced(again);
      expect(status.lastError).toContain(`position ${head}`);
      expect(receiver.requests).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('stops, named log-replaced, on another event log (a new store file): nothing published until started over', async () => {
    const receiver = await webhookReceiver();
    try {
      const statePath = join(dir.path, `other-log-${n}.db`);
      const sink = () => getWebhookSink(parseSinkUrl(receiver.url) as WebhookSinkConfig, { secret: SECRET, maxAttempts: 3, timeoutMs: 2_000, retryBaseMs: 10, retryMaxMs: 50 });
      await journeys(1);
      const relay = startRelay(sink(), statePath);
      await waitFor('caught up', async () => ((await relay.status())[0]!.lag === 0 ? true : undefined));
      await stopRelay(relay);
      const sent = receiver.requests.length;

      await store.close();
      await reopenAt(join(dir.path, `another-${n}.db`));
      await journeys(2, 20);
      const again = startRelay(sink(), statePath);
      const status = await logReplaced(again);
      // Its first event is the same (the process version, its id derived), its last one is not.
      expect(status.lastError).toContain('does not belong to the event log it reads now');
      expect(receiver.requests.length).toBe(sent);

      // Started over at the end (`stagecraft relay start-over --at end`): only what is written from now on.
      const head = await store.headPosition();
      again.state.requestReplay(status.sink, head, 0, (await store.readAll({ maxCount: 1 }))[0]!.id, await anchorAtOrBefore(store, head));
      await waitFor('live again', async () => ((await again.status())[0]!.state === 'live' ? true : undefined));
      const before = await storedIds();
      await journeys(1, 30);
      const after = (await storedIds()).filter((id) => !before.includes(id));
      await waitFor('the new deal relayed', () => (receiver.requests.length >= sent + after.length ? true : undefined));
      expect(receiver.requests.slice(sent).map((request) => request.event.id)).toEqual(after);
    } finally {
      await receiver.close();
    }
  });
});
