import { chainNewEvents, GENESIS_HASH } from '@stagecraft/audit';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { LogChainStart } from './log-chain-start';

describe('LogChainStart: where the log was first chained', () => {
  let store: EventStore;
  let reads = 0;
  beforeEach(() => {
    store = getSQLiteEventStore({ path: ':memory:' });
    reads = 0;
  });
  afterEach(() => store.close());

  const counted = (): Pick<EventStore, 'readAll'> => ({
    readAll: (options) => {
      reads += 1;
      return store.readAll(options);
    },
  });
  const legacy = (stream: string) => store.appendToStream(stream, [{ id: `${stream}-0`, type: 'Noted', data: {}, metadata: { actor: 'legacy' } }], { expectedRevision: 'any' });
  const chained = (stream: string) => {
    const { events } = chainNewEvents(stream, 0, GENESIS_HASH, [{ type: 'Noted', data: {}, metadata: { actor: 'now' } }]);
    return store.appendToStream(stream, events.map((event) => ({ ...event, id: `${stream}-0` })), { expectedRevision: 'no_stream' });
  };

  it('answers the first hashed position only for positions after it, and reads the log once', async () => {
    await legacy('a'); // 1
    await legacy('b'); // 2
    await chained('c'); // 3
    await legacy('d'); // 4: only a writer older than tamper evidence, or a stripped hash
    const start = new LogChainStart(counted());
    expect(await start.chainedBefore(2)).toBeUndefined();
    expect(await start.chainedBefore(3)).toBeUndefined();
    expect(await start.chainedBefore(4)).toBe(3);
    const afterFound = reads;
    expect(await start.chainedBefore(1)).toBeUndefined();
    expect(await start.chainedBefore(1_000)).toBe(3);
    expect(reads).toBe(afterFound);
  });

  it('says nothing on a log never chained, and learns of the first hashed event appended later', async () => {
    await legacy('a');
    await legacy('b');
    const start = new LogChainStart(store);
    expect(await start.chainedBefore(2)).toBeUndefined();
    expect(await start.chainedBefore(10)).toBeUndefined();
    await chained('c'); // 3
    await legacy('d'); // 4
    expect(await start.chainedBefore(4)).toBe(3);
  });
});
