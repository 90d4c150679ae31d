import { join } from 'node:path';
import { createCommandSide } from '@stagecraft/commands';
import { readSettings } from '@stagecraft/config';
import { getKurrentDBEventStore, getSQLiteEventStore } from '@stagecraft/event-store';
import { getSQLiteRelayStateStore } from '@stagecraft/relay';
import { SHIPPED_PROCESSES, temporaryDirectory } from '../../../../test/support/api-test-app';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { runJourney } from '../../../../test/support/relay-journey';
import { EXIT } from '../cli.errors';
import { runCli } from '../cli.program';

// `stagecraft relay replay` moves a sink's checkpoint back. Moved forward (a position past the
// checkpoint of a sink that lags, or past the log's end), it would pass events never published,
// which no later start sends: the loss at-least-once rules out.
describe('stagecraft relay replay', () => {
  const dir = temporaryDirectory('cli-relay-');
  const sink = 'http://127.0.0.1:4650/hook';
  const statePath = join(dir.path, 'relay.db');
  const env = { EVENT_STORE_PATH: join(dir.path, 'events.db'), PROCESSES_DIR: SHIPPED_PROCESSES, RELAY_SINKS: sink, RELAY_STATE_PATH: statePath, RELAY_WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters-or-more' };
  let head = 0;
  const checkpoint = () => {
    const state = getSQLiteRelayStateStore(statePath);
    try {
      return state.checkpoint(sink)?.position;
    } finally {
      state.close();
    }
  };
  const cli = async (...args: string[]) => cliWith({}, ...args);
  const cliWith = async (more: Record<string, string>, ...args: string[]) => {
    const saved = { ...process.env };
    const errors: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      delete process.env.EVENT_STORE_URL;
      Object.assign(process.env, env, more);
      return { code: await runCli(['relay', ...args]), stderr: errors.join('\n') };
    } finally {
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };

  beforeAll(async () => {
    const store = getSQLiteEventStore({ path: env.EVENT_STORE_PATH, durability: 'normal' });
    const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    await runJourney(side.executor, 'Lagging');
    head = await store.headPosition();
    const logId = (await store.readAll({ maxCount: 1 }))[0]!.id;
    await store.close();
    expect(readSettings(env, dir.path).relay.statePath).toBe(statePath);
    const state = getSQLiteRelayStateStore(statePath);
    state.create(sink, 3, logId); // a sink that lags: published up to position 3
    state.close();
  });
  afterAll(() => dir.remove());

  it('refuses a position past the checkpoint of a sink that lags: the events between would never be published', async () => {
    const refused = await cli('replay', '--sink', sink, '--from', String(head - 2));
    expect(refused).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('has published up to position 3 only') });
    expect(checkpoint()).toBe(3);
  });

  it('refuses a position past the end of the log', async () => {
    const refused = await cli('replay', '--sink', sink, '--from', String(head + 1_000));
    expect(refused).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining(`the log ends at position ${head}`) });
    expect(checkpoint()).toBe(3);
  });

  it('refuses a position past the first event for a sink not started yet that will publish from the beginning', async () => {
    const fresh = 'http://127.0.0.1:4651/hook';
    const more = { RELAY_SINKS: `${sink},${fresh}`, RELAY_NEW_SINK_FROM: 'beginning' };
    const refused = await cliWith(more, 'replay', '--sink', fresh, '--from', '3');
    expect(refused).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('has not started yet') });
    const state = getSQLiteRelayStateStore(statePath);
    try {
      expect(state.checkpoint(fresh)).toBeUndefined();
    } finally {
      state.close();
    }
    // From the first event, nothing is skipped; a sink that will start at the log's end is moved back.
    expect(await cliWith(more, 'replay', '--sink', fresh, '--from', '1')).toEqual({ code: EXIT.ok, stderr: '' });
    const later = 'http://127.0.0.1:4652/hook';
    expect(await cliWith({ RELAY_SINKS: `${sink},${later}` }, 'replay', '--sink', later, '--from', '3')).toEqual({ code: EXIT.ok, stderr: '' });
  });

  it('moves the checkpoint back to just before the position given, and to the event after the checkpoint', async () => {
    expect(await cli('replay', '--sink', sink, '--from', '4')).toEqual({ code: EXIT.ok, stderr: '' });
    expect(checkpoint()).toBe(3);
    expect(await cli('replay', '--sink', sink, '--from', '2')).toEqual({ code: EXIT.ok, stderr: '' });
    expect(checkpoint()).toBe(1);
  });
});

// On KurrentDB a position is the byte offset of an event's record: a position between two events'
// starts is no event's, and the server refuses to read from it. A replay from there is a usage
// error saying so, not a report that the store holds another log.
describe('stagecraft relay replay on KurrentDB', () => {
  const dir = temporaryDirectory('cli-relay-kurrentdb-');
  const sink = 'http://127.0.0.1:4653/hook';
  let double: KurrentDbDouble;
  const positions: number[] = [];
  const cli = async (...args: string[]) => {
    const saved = { ...process.env };
    const errors: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      Object.assign(process.env, { EVENT_STORE_URL: double.url, PROCESSES_DIR: SHIPPED_PROCESSES, RELAY_SINKS: sink, RELAY_STATE_PATH: join(dir.path, 'relay.db'), RELAY_WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters-or-more' });
      return { code: await runCli(['relay', ...args]), stderr: errors.join('\n') };
    } finally {
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    const store = getKurrentDBEventStore({ connectionString: double.url });
    try {
      const stream = `opportunity-${crypto.randomUUID()}`;
      for (let i = 0; i < 3; i += 1) positions.push((await store.appendToStream(stream, [{ id: crypto.randomUUID(), type: 'NoteAdded', data: {}, metadata: {} }], { expectedRevision: 'any' })).position);
    } finally {
      await store.close();
    }
  });
  afterAll(async () => {
    await double?.stop();
    dir.remove();
  });

  it('refuses a position no event starts at, and replays from one that does', async () => {
    const inside = positions[1]! + 1;
    const refused = await cli('replay', '--sink', sink, '--from', String(inside));
    expect(refused).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining(`No event starts at position ${inside}`) });
    expect(await cli('replay', '--sink', sink, '--from', String(positions[1]))).toEqual({ code: EXIT.ok, stderr: '' });
  });
});
