import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
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

  // Another process holding relay.db's write lock past the busy timeout: the file is away for now
  // (exit 3, as for a file that cannot be used), named with its setting, not SQLite's bare
  // "database is locked" with the exit 1 of a refusal.
  it('on a relay.db another process holds locked: exit 3 naming RELAY_STATE_PATH, the checkpoint unchanged', async () => {
    const other = new Database(statePath);
    other.exec('BEGIN IMMEDIATE');
    let result;
    try {
      result = await cli('replay', '--sink', sink, '--from', '1');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(result).toMatchObject({ code: EXIT.unavailable, stderr: expect.stringMatching(/RELAY_STATE_PATH\) is locked by another process/) });
    expect(result.stderr).toContain(statePath);
    expect(checkpoint()).toBe(3);
  }, 30_000);

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

// A sink taken out of RELAY_SINKS keeps its dead letters in RELAY_STATE_PATH: `relay dead-letters`
// lists them and fails while they are there, so the operator must be able to give them up.
describe('stagecraft relay dead-letters and discard, for a sink no longer in RELAY_SINKS', () => {
  const dir = temporaryDirectory('cli-relay-removed-');
  const kept = 'http://127.0.0.1:4660/hook';
  const removed = 'http://127.0.0.1:4661/hook';
  const statePath = join(dir.path, 'relay.db');
  const env = { EVENT_STORE_PATH: join(dir.path, 'events.db'), PROCESSES_DIR: SHIPPED_PROCESSES, RELAY_SINKS: kept, RELAY_STATE_PATH: statePath, RELAY_WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters-or-more' };
  const cli = async (...args: string[]) => {
    const saved = { ...process.env };
    const lines: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      delete process.env.EVENT_STORE_URL;
      Object.assign(process.env, env);
      return { code: await runCli(['relay', ...args]), output: lines.join('\n') };
    } finally {
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };
  const letter = (position: number, attempts: number) => ({ sink: removed, position, eventId: `event-${position}`, type: 'stagecraft.opportunity.stage-changed.v1', subject: 'deal-1', attempts, lastError: attempts > 0 ? 'HTTP 500' : 'held back', failedAt: '2026-11-30T12:00:00.000Z', body: '{}' });

  beforeAll(() => {
    const state = getSQLiteRelayStateStore(statePath);
    state.create(removed, 0, '');
    // A dead letter, and a later event of its opportunity held back behind it, unsent.
    state.advance(removed, 0, 5, '', { position: 5, eventId: 'event-5' }, [letter(2, 8), letter(4, 0)]);
    state.close();
  });
  afterAll(() => dir.remove());

  it('lists them saying no relay sends them any more, and how to give them up', async () => {
    const listed = await cli('dead-letters');
    expect(listed.code).toBe(EXIT.failed);
    expect(listed.output).toContain(`${removed} is no longer in RELAY_SINKS`);
    expect(listed.output).toContain(`stagecraft relay discard --sink ${removed} --position 2`);
    expect(await cli('dead-letters', '--sink', removed)).toMatchObject({ code: EXIT.failed, output: expect.stringContaining('position 4') });
  });

  // `relay status` exits 1 on any dead letter: a monitor that runs it must not be told all is
  // well while a sink taken out of RELAY_SINKS holds letters no relay sends again.
  it('status names the sink no longer in RELAY_SINKS with its dead letters, how to give them up, and exits 1', async () => {
    await getSQLiteEventStore({ path: env.EVENT_STORE_PATH, durability: 'normal' }).close();
    const text = await cli('status');
    expect(text.code).toBe(EXIT.failed);
    expect(text.output).toContain(`${removed}  no longer in RELAY_SINKS: nothing sends its 2 dead letter(s) again; give each up: stagecraft relay discard --sink ${removed} --position 2`);
    const json = await cli('status', '--json');
    expect(json.code).toBe(EXIT.failed);
    expect((JSON.parse(json.output) as { sinks: unknown[] }).sinks).toContainEqual(expect.objectContaining({ sink: removed, kind: 'webhook', state: 'removed', deadLetters: 2, lag: null }));
  });

  it('gives each up, the held-back one too (no replay can send it), until none is left', async () => {
    expect(await cli('discard', '--sink', removed, '--position', '4')).toMatchObject({ code: EXIT.ok });
    expect(await cli('discard', '--sink', removed, '--position', '2')).toMatchObject({ code: EXIT.ok });
    expect(await cli('dead-letters')).toEqual({ code: EXIT.ok, output: 'No dead letters.' });
    // A replay is still refused: nothing would send what it puts back.
    expect(await cli('replay', '--sink', removed, '--from', '2')).toMatchObject({ code: EXIT.usage, output: expect.stringContaining(`No sink "${removed}" in RELAY_SINKS`) });
  });

  // A NATS or AMQP sink's key holds "?" and "&": pasted into a shell unquoted, the "&" ran the first
  // half of the command in the background and the rest as another command.
  // `relay status` reads the state file, not the running relay: a sink's error (a webhook
  // refusing, an exchange of the wrong type) was only in /health, and status said all was well.
  it("status says since when a sink fails and why, as the relay saved it, its words escaped; nothing once it sends again", async () => {
    await getSQLiteEventStore({ path: env.EVENT_STORE_PATH, durability: 'normal' }).close();
    const state = getSQLiteRelayStateStore(statePath);
    state.create(kept, 0, '');
    state.recordError(kept, { message: 'HTTP 503 from the subscriber: \u001b[2Jdown', at: '2026-12-02T10:00:00.000Z' });
    state.close();
    const text = await cli('status');
    expect(text.output.split('\n')).toContain(`${kept}  failing since 2026-12-02T10:00:00.000Z: HTTP 503 from the subscriber: \\u001b[2Jdown`);
    const json = await cli('status', '--json');
    expect((JSON.parse(json.output) as { sinks: unknown[] }).sinks).toContainEqual(
      expect.objectContaining({ sink: kept, lastError: 'HTTP 503 from the subscriber: \u001b[2Jdown', lastErrorAt: '2026-12-02T10:00:00.000Z' }),
    );
    const cleared = getSQLiteRelayStateStore(statePath);
    cleared.recordError(kept, undefined);
    cleared.close();
    expect((await cli('status')).output).not.toContain('failing since');
    expect((JSON.parse((await cli('status', '--json')).output) as { sinks: Record<string, unknown>[] }).sinks.find((row) => row.sink === kept)).not.toHaveProperty('lastError');
  });

  it('writes the commands it suggests with the sink quoted for a shell', async () => {
    const nats = 'nats://127.0.0.1:4299?stream=STAGECRAFT&subject=stagecraft.opportunity';
    const state = getSQLiteRelayStateStore(statePath);
    state.create(nats, 0, '');
    expect(state.advance(nats, 0, 9, '', { position: 9, eventId: 'event-9' }, [{ ...letter(9, 2), sink: nats }])).toBe(true);
    state.close();
    const listed = await cli('dead-letters', '--sink', nats);
    expect(listed.output).toContain(`stagecraft relay discard --sink '${nats}' --position 9`);
    expect(await cli('discard', '--sink', nats, '--position', '9')).toMatchObject({ code: EXIT.ok });
  });

  // --sink takes a URL as written in RELAY_SINKS, credentials and all: one that names no sink is
  // said without them (the terminal's output goes to CI logs and tickets).
  it('names a --sink it does not know without its password or token', async () => {
    for (const [given, shown] of [
      ['nats://topsecret@127.0.0.1:4298', 'nats://***@127.0.0.1:4298'],
      ['amqp://relay:topsecret@127.0.0.1:4298', 'amqp://relay:***@127.0.0.1:4298'],
    ]) {
      for (const args of [['replay', '--sink', given!, '--from', '2'], ['discard', '--sink', given!, '--position', '2'], ['dead-letters', '--sink', given!]]) {
        const refused = await cli(...args);
        expect(refused).toMatchObject({ code: EXIT.usage, output: expect.stringContaining(`No sink "${shown}" in RELAY_SINKS`) });
        expect(refused.output).not.toContain('topsecret');
      }
    }
  });

  // The relay turned off (RELAY_SINKS emptied) leaves its last sink's letters behind all the same.
  it('lists and gives them up when RELAY_SINKS is now empty, the sink having been the last one', async () => {
    const state = getSQLiteRelayStateStore(statePath);
    expect(state.advance(removed, 0, 7, '', { position: 7, eventId: 'event-7' }, [letter(6, 3)])).toBe(true);
    state.close();
    // Without sinks, the settings that only a relay reads are refused: the state file is then the
    // default one beside the event store (where this one is).
    const empty = async (...args: string[]) => {
      const saved = { ...env };
      const relayOnly = ['RELAY_STATE_PATH', 'RELAY_WEBHOOK_SECRET'] as const;
      for (const name of relayOnly) delete (env as Partial<typeof env>)[name];
      env.RELAY_SINKS = '';
      try {
        return await cli(...args);
      } finally {
        Object.assign(env, saved);
      }
    };
    const listed = await empty('dead-letters');
    expect(listed.code).toBe(EXIT.failed);
    expect(listed.output).toContain(`${removed}  position 6`);
    expect(listed.output).toContain(`stagecraft relay discard --sink ${removed} --position `);
    // Nothing can replay them: the listing does not send the operator to a replay.
    expect(listed.output).not.toContain('relay replay');
    expect(await empty('dead-letters', '--sink', removed)).toMatchObject({ code: EXIT.failed, output: expect.stringContaining('position 6') });
    expect(await empty('status')).toMatchObject({ code: EXIT.failed, output: expect.stringContaining(`${removed}  no longer in RELAY_SINKS: nothing sends its 1 dead letter(s) again`) });
    expect(await empty('discard', '--sink', removed, '--position', '6')).toMatchObject({ code: EXIT.ok });
    expect(await empty('dead-letters')).toMatchObject({ code: EXIT.usage, output: expect.stringContaining('RELAY_SINKS is empty') });
  });

  it('still sends to a replay the letters of a sink in RELAY_SINKS, beside those of one taken out', async () => {
    const state = getSQLiteRelayStateStore(statePath);
    state.create(kept, 0, '');
    expect(state.advance(kept, 0, 11, '', { position: 11, eventId: 'event-11' }, [{ ...letter(11, 8), sink: kept }])).toBe(true);
    state.close();
    const listed = await cli('dead-letters');
    expect(listed.output).toContain('Once the subscriber is fixed: stagecraft relay replay --sink <sink> --from <position>');
    expect(listed.output).not.toContain(`${kept} is no longer in RELAY_SINKS`);
    expect(await cli('discard', '--sink', kept, '--position', '11')).toMatchObject({ code: EXIT.ok });
  });
});

// A sink whose checkpoint belongs to another event log (a store restored from an older backup, or
// replaced) is named log-replaced by `relay status`, as the relay names it, and started over only
// by `relay start-over`: at the beginning or at the end, the operator's choice.
describe('stagecraft relay status and start-over, on a log that replaced the one a checkpoint was taken on', () => {
  const dir = temporaryDirectory('cli-relay-start-over-');
  const sink = 'http://127.0.0.1:4660/hook';
  const statePath = join(dir.path, 'relay.db');
  const env = { EVENT_STORE_PATH: join(dir.path, 'now.db'), PROCESSES_DIR: SHIPPED_PROCESSES, RELAY_SINKS: sink, RELAY_STATE_PATH: statePath, RELAY_WEBHOOK_SECRET: 'a-webhook-secret-of-32-characters-or-more' };
  let head = 0;
  let logId = '';
  const saved = () => {
    const state = getSQLiteRelayStateStore(statePath);
    try {
      return state.checkpoint(sink);
    } finally {
      state.close();
    }
  };
  const cli = async (...args: string[]) => {
    const saved = { ...process.env };
    const errors: string[] = [];
    const lines: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    try {
      delete process.env.EVENT_STORE_URL;
      Object.assign(process.env, env);
      return { code: await runCli(['relay', ...args]), stdout: lines.join('\n'), stderr: errors.join('\n') };
    } finally {
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };
  const storeWith = async (path: string, deals: readonly string[]) => {
    const store = getSQLiteEventStore({ path, durability: 'normal' });
    const side = await createCommandSide(store, { processesDir: SHIPPED_PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
    for (const deal of deals) await runJourney(side.executor, deal);
    const events = await store.readAll();
    await store.close();
    return events;
  };

  let oldLog: Awaited<ReturnType<typeof storeWith>> = [];
  /** The sink's checkpoint at the head of the log that is gone (its state file made anew). */
  const checkpointOnTheOldLog = () => {
    for (const file of [statePath, `${statePath}-wal`, `${statePath}-shm`]) rmSync(file, { force: true });
    const last = oldLog[oldLog.length - 1]!;
    const state = getSQLiteRelayStateStore(statePath);
    state.create(sink, last.position, oldLog[0]!.id, { position: last.position, eventId: last.id });
    state.close();
  };

  beforeAll(async () => {
    // The checkpoint was taken at the head of a log that is gone; the store now holds another one, longer.
    oldLog = await storeWith(join(dir.path, 'before.db'), ['Old']);
    const now = await storeWith(env.EVENT_STORE_PATH, ['New 1', 'New 2']);
    head = now[now.length - 1]!.position;
    logId = now[0]!.id;
    checkpointOnTheOldLog();
  });
  afterAll(() => dir.remove());

  it('status names the sink log-replaced, why, and the commands that start it over, and exits 1', async () => {
    const text = await cli('status');
    expect(text.code).toBe(EXIT.failed);
    expect(text.stdout).toContain(`${sink}  log-replaced: its checkpoint (position ${saved()!.position}) does not belong to the event log it reads now`);
    expect(text.stdout).toContain(`stagecraft relay start-over --sink ${sink} --at beginning`);
    const json = await cli('status', '--json');
    const row = (JSON.parse(json.stdout) as { sinks: { state: string; lag: number | null; problem?: string }[] }).sinks[0]!;
    expect(row).toMatchObject({ state: 'log-replaced', lag: null, problem: expect.stringContaining('is no longer at that position') });
  });

  it('start-over refuses a word other than beginning or end, and changes nothing', async () => {
    const before = saved();
    // (commander writes its usage error itself, to stderr)
    expect((await cli('start-over', '--sink', sink, '--at', 'head')).code).toBe(EXIT.usage);
    expect(saved()).toEqual(before);
  });

  it('start-over refuses (exit 1) a sink holding dead letters unless --discard-dead-letters is given, naming the command that exports them first', async () => {
    const deadLetters = () => {
      const state = getSQLiteRelayStateStore(statePath);
      try {
        return state.deadLetters(sink).map((letter) => letter.position);
      } finally {
        state.close();
      }
    };
    const taken = saved()!;
    const letter = (position: number) => ({ sink, position, eventId: `event-${position}`, type: 'stagecraft.opportunity.stage-changed.v1', subject: 'deal-1', attempts: 8, lastError: 'HTTP 500', failedAt: '2026-11-30T12:00:00.000Z', body: '{}' });
    const state = getSQLiteRelayStateStore(statePath);
    state.advance(sink, taken.generation, taken.position, taken.logId, taken.anchor, [letter(oldLog[1]!.position), letter(oldLog[2]!.position)]);
    state.close();
    const checkpoint = saved()!;
    for (const at of ['beginning', 'end']) {
      const refused = await cli('start-over', '--sink', sink, '--at', at);
      expect(refused.code).toBe(EXIT.failed);
      expect(refused.stderr).toContain(`${sink} holds 2 dead letter(s)`);
      expect(refused.stderr).toContain(`stagecraft relay dead-letters --sink ${sink} --json`);
      expect(refused.stderr).toContain(`stagecraft relay start-over --sink ${sink} --at ${at} --discard-dead-letters`);
      expect(saved()).toEqual(checkpoint);
      expect(deadLetters()).toHaveLength(2);
    }
    // Exported (the command it names lists them as JSON), then given up on by name.
    const exported = await cli('dead-letters', '--sink', sink, '--json');
    expect((JSON.parse(exported.stdout) as { position: number }[]).map((entry) => entry.position)).toEqual(deadLetters());
    const started = await cli('start-over', '--sink', sink, '--at', 'beginning', '--discard-dead-letters');
    expect(started).toMatchObject({ code: EXIT.ok, stdout: expect.stringContaining('its 2 dead letter(s), positions of the other log, were discarded') });
    expect(saved()).toMatchObject({ position: 0, logId });
    expect(deadLetters()).toEqual([]);
    checkpointOnTheOldLog();
  });

  it('start-over --at end puts the checkpoint at the head of this log, tied to it; then status says ok and a second start-over is refused', async () => {
    expect(await cli('start-over', '--sink', sink, '--at', 'end')).toMatchObject({ code: EXIT.ok, stdout: expect.stringContaining(`at its head (position ${head})`) });
    expect(saved()).toMatchObject({ position: head, logId, anchor: { position: head } });
    const status = await cli('status', '--json');
    expect((JSON.parse(status.stdout) as { sinks: { state: string; lag: number }[] }).sinks[0]).toMatchObject({ state: 'ok', lag: 0 });
    expect(status.code).toBe(EXIT.ok);
    const again = await cli('start-over', '--sink', sink, '--at', 'beginning');
    expect(again).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('belongs to the event log it reads: there is nothing to start over') });
    expect(saved()!.position).toBe(head);
  });
});
