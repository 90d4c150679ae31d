import { EventEmitter } from 'node:events';
import { firstEvent } from './first-event';

describe('firstEvent', () => {
  const listeners = (emitter: EventEmitter) => ['drain', 'close'].map((name) => emitter.listenerCount(name));

  it('resolves on the first event named and leaves no listener behind, wait after wait', async () => {
    const channel = new EventEmitter();
    for (let wait = 0; wait < 20; wait += 1) {
      const waiting = firstEvent(channel, ['drain', 'close'], 10_000, 'waiting for the connection to take more');
      setImmediate(() => channel.emit('drain'));
      await waiting;
    }
    expect(listeners(channel)).toEqual([0, 0]);
  });

  it('rejects after the time given, naming what it waited for, and leaves no listener behind', async () => {
    const channel = new EventEmitter();
    await expect(firstEvent(channel, ['drain', 'close'], 5, 'waiting for the connection to take more')).rejects.toThrow('no answer from the broker within 5 ms (waiting for the connection to take more)');
    expect(listeners(channel)).toEqual([0, 0]);
  });
});
