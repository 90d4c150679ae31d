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
