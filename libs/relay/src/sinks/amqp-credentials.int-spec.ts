import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { credentials } from 'amqplib';
import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { parseSinkUrl, type AmqpSinkConfig } from '../relay-sink-url';
import { getAmqpSink } from './amqp.sink';

// The user and password of an amqp:// URL are percent-encoded, as UTF-8 (a raw "ä" in RELAY_SINKS
// is encoded so by the URL parser itself). Handed over as a string, amqplib decoded them with
// unescape(), byte by byte as Latin-1: "p%C3%A4ss" went to RabbitMQ as "pÃ¤ss", refused for ever.

const outgoing = (): OutgoingEvent => {
  const event = { id: randomUUID(), type: 'stagecraft.opportunity.opened.v1', subject: randomUUID(), time: '2026-11-30T12:00:00.000Z' } as PublicEvent;
  return { position: 1, event, body: Buffer.from(JSON.stringify(event)) };
};

describe('the credentials an AMQP sink logs in with', () => {
  let port = 0;
  // A broker that takes the connection and closes it: the login is built before, and is all this looks at.
  const broker = createServer((socket) => socket.destroy());
  beforeAll(() => new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', () => ((port = (broker.address() as AddressInfo).port), resolve()))));
  afterAll(() => new Promise<void>((resolve) => broker.close(() => resolve())));
  afterEach(() => jest.restoreAllMocks());

  const loginOf = async (url: string): Promise<[string, string] | undefined> => {
    const plain = jest.spyOn(credentials, 'plain');
    const sink = getAmqpSink(parseSinkUrl(url) as AmqpSinkConfig, { confirmTimeoutMs: 2_000 });
    await sink.publish([outgoing()], { signal: new AbortController().signal, onAttemptFailed: () => undefined }).catch(() => undefined);
    await sink.close();
    return plain.mock.calls[0] as [string, string] | undefined;
  };

  it.each([
    ['UTF-8 escapes', 'r%C3%A9lay:p%C3%A4ss%40word', ['rélay', 'päss@word']],
    ['raw characters the URL parser encodes', 'rélay:päss word', ['rélay', 'päss word']],
    ['reserved characters escaped', 'relay:a%3Ab%2Fc%25d', ['relay', 'a:b/c%d']],
  ])('are the URL\'s, decoded as UTF-8 (%s)', async (_case, userinfo, expected) => {
    expect(await loginOf(`amqp://${userinfo}@127.0.0.1:${port}`)).toEqual(expected);
  });

  it('are guest/guest when the URL names none, as amqplib does', async () => {
    expect(await loginOf(`amqp://127.0.0.1:${port}`)).toEqual(['guest', 'guest']);
  });
});

// RabbitMQ reads connection.start-ok, which carries the login, before the connection is tuned: in
// one frame of at most 4096 bytes (its initial_frame_max), closing the connection on a longer one,
// attempt after attempt. The longest login start-up lets through must fit, with the longest locale.
describe('the longest AMQP login start-up accepts', () => {
  const START_OK_FRAME_LIMIT = 4096;
  let port = 0;
  const startOkSizes: number[] = [];
  // A broker that answers the protocol header with connection.start (PLAIN), then reads the size of the start-ok frame.
  const connectionStart = (() => {
    const longString = (text: string) => Buffer.concat([Buffer.from([0, 0, 0, text.length]), Buffer.from(text)]);
    const payload = Buffer.concat([Buffer.from([0, 10, 0, 10, 0, 9]), Buffer.alloc(4), longString('PLAIN'), longString('en_US')]);
    const header = Buffer.from([1, 0, 0, 0, 0, 0, payload.length]);
    return Buffer.concat([header, payload, Buffer.from([0xce])]);
  })();
  const broker = createServer((socket) => {
    let received = Buffer.alloc(0);
    let started = false;
    socket.on('data', (data) => {
      received = Buffer.concat([received, data]);
      if (!started && received.length >= 8) {
        received = received.subarray(8);
        started = true;
        socket.write(connectionStart);
      }
      if (started && received.length >= 7) {
        startOkSizes.push(received.readUInt32BE(3));
        socket.destroy();
      }
    });
  });
  beforeAll(() => new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', () => ((port = (broker.address() as AddressInfo).port), resolve()))));
  afterAll(() => new Promise<void>((resolve) => broker.close(() => resolve())));

  it('fits in the one frame RabbitMQ reads it in, with a locale of 255 bytes', async () => {
    const locale = 'l'.repeat(255);
    // 4096 − 512 − 255 bytes for user and password: the most parseSinkUrl accepts beside that locale.
    const password = 'p'.repeat(4096 - 512 - 255 - 'relay'.length);
    const config = parseSinkUrl(`amqp://relay:${password}@127.0.0.1:${port}?locale=${locale}`) as AmqpSinkConfig;
    expect(() => parseSinkUrl(`amqp://relay:${password}p@127.0.0.1:${port}?locale=${locale}`)).toThrow(/user and password are 3330 bytes together/);
    const sink = getAmqpSink(config, { confirmTimeoutMs: 2_000 });
    await sink.publish([outgoing()], { signal: new AbortController().signal, onAttemptFailed: () => undefined }).catch(() => undefined);
    await sink.close();
    expect(startOkSizes).toHaveLength(1);
    expect(startOkSizes[0]).toBeLessThanOrEqual(START_OK_FRAME_LIMIT);
  });
});
