import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSinkUrl, getSQLiteRelayStateStore } from '@stagecraft/relay';
import { PUBLIC_EVENT_TYPES, type PublicEvent } from '@stagecraft/public-events';
import { ROOT, SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { childNodeArgs } from './support/child-entry';
import { eventStoreEnv } from './support/e2e-store';
import { natsHostAndPort, natsStreamReader, perOpportunityOrderProblems, schemaProblems, waitFor, webhookReceiver, type NatsStreamReader } from './support/relay-consumers';
import { TcpProxy } from './support/tcp-proxy';

// The relay in the running app (in-process) and as its own process (apps/relay), on the SQLite
// store and again on the KurrentDB adapter, against the machine's NATS JetStream and a webhook
// subscriber in the test. Each test has a stream and subject of its own.

type Api = ApiTestApp & { keys: Record<string, string> };
jest.setTimeout(120_000);
const SECRET = 'e2e-relay-secret-0123456789abcdef0123';
const FAST_RETRIES = { RELAY_RETRY_BASE_MS: '20', RELAY_RETRY_MAX_MS: '200', RELAY_NEW_SINK_FROM: 'beginning' };

describe('public events relayed from the app', () => {
  const dir = temporaryDirectory('stagecraft-relay-e2e-');
  let reader: NatsStreamReader;
  beforeEach(async () => (reader = await natsStreamReader()));
  afterEach(() => reader.close());
  afterAll(() => dir.remove());

  /** `position:subject:revision` of every event of these opportunities, in log order, from their histories. */
  const historyKeys = async (api: Api, ids: readonly string[]) => {
    const all: { position: number; key: string }[] = [];
    for (const id of ids) {
      for (const event of (await api.http.get(`/opportunities/${id}/history`).expect(200)).body.events as { position: number; revision: number }[]) {
        all.push({ position: event.position, key: `${event.position}:${id}:${event.revision}` });
      }
    }
    return all.sort((a, b) => a.position - b.position).map((entry) => entry.key);
  };
  const keyOf = (event: PublicEvent) => `${event.stagecraftposition}:${event.subject}:${event.stagecraftrevision}`;
  /** apps/relay as a child process on this store, its output collected. */
  const spawnRelayProcess = async (env: Record<string, string>, eventStorePath: string) => {
    const child = spawn(process.execPath, childNodeArgs('apps/relay/src/main'), {
      cwd: ROOT,
      env: { ...process.env, ...env, ...(await eventStoreEnv(eventStorePath)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => output };
  };

  it('publishes every command type as its public event, valid against its schema, in order, named from the process version; /health and /docs/asyncapi.json say so', async () => {
    const processesDir = join(dir.path, 'types-processes');
    mkdirSync(processesDir);
    copyFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), join(processesDir, 'standard.yaml'));
    const eventStorePath = join(dir.path, 'types.db');
    const env = { RELAY_SINKS: reader.sinkUrl(), ...FAST_RETRIES };
    let api: Api = await startApiTestApp({ eventStorePath, processesDir, env });
    const ids: string[] = [];
    try {
      const open = async (title: string) => (await api.http.post('/opportunities').set('X-Actor', 'ana').send({ title, processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 100, currency: 'EUR' }).expect(201)).body.id as string;
      const a = await open('Every command');
      ids.push(a);
      await api.http.post(`/opportunities/${a}/move`).send({ stage: 'qualification', note: 'call' }).expect(200);
      for (const criterionId of ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker']) await api.http.post(`/opportunities/${a}/criteria`).send({ criterionId, met: true }).expect(200);
      await api.http.post(`/opportunities/${a}/criteria`).send({ criterionId: 'goals', met: false, note: 'unsure' }).expect(200);
      await api.http.patch(`/opportunities/${a}`).send({ amount: 250, ownerId: 'ben', expectedCloseDate: '2026-09-30' }).expect(200);
      await api.http.post(`/opportunities/${a}/lose`).send({ reason: 'price' }).expect(200);
      await api.http.post(`/opportunities/${a}/reopen`).send({}).expect(200);
      const b = await open('Won deal');
      ids.push(b);
      await api.http.post(`/opportunities/${b}/move`).send({ stage: 'qualification' }).expect(200);
      for (const criterionId of ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker']) await api.http.post(`/opportunities/${b}/criteria`).send({ criterionId, met: true }).expect(200);
      await api.http.post(`/opportunities/${b}/move`).send({ stage: 'proposition' }).expect(200);
      for (const criterionId of ['proposal-given', 'decision-maker-interest', 'pricing-agreed']) await api.http.post(`/opportunities/${b}/criteria`).send({ criterionId, met: true }).expect(200);
      await api.http.post(`/opportunities/${b}/move`).send({ stage: 'negotiation' }).expect(200);
      for (const criterionId of ['negotiation-concluded', 'terms-agreed', 'contract-submitted']) await api.http.post(`/opportunities/${b}/criteria`).send({ criterionId, met: true }).expect(200);
      await api.http.post(`/opportunities/${b}/win`).send({ note: 'signed' }).expect(200);

      // A new process version (a stage renamed), then a migration: the relay resumes from its checkpoint.
      await api.close();
      const file = join(processesDir, 'standard.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace('name: Qualification', 'name: Discovery'));
      api = await startApiTestApp({ eventStorePath, processesDir, env });
      const v2 = (await api.http.get('/processes/standard').expect(200)).body.version as string;
      await api.http.post(`/opportunities/${a}/migrate`).send({ toVersion: v2 }).expect(200);

      const expected = await historyKeys(api, ids);
      await waitFor('every event in the stream', async () => (await reader.count()) >= expected.length);
      const events = (await reader.messages()).map((message) => message.event);
      // Each event once (sorted: within a batch, events of different opportunities may pass each
      // other); per opportunity in order, below.
      expect(events.map(keyOf).sort()).toEqual([...expected].sort());
      expect(new Set(events.map((event) => event.type))).toEqual(new Set(PUBLIC_EVENT_TYPES));
      expect(events.flatMap(schemaProblems)).toEqual([]);
      expect(perOpportunityOrderProblems(events)).toEqual([]);
      const byType = (type: PublicEvent['type']) => events.filter((event) => event.type === type);
      expect(byType('stagecraft.opportunity.opened.v1')[0]!.data).toMatchObject({ title: 'Every command', stage: { id: 'new', name: 'New' }, actor: { name: 'test-service', onBehalfOf: 'ana' } });
      expect(byType('stagecraft.opportunity.process-migrated.v1')[0]!.data).toMatchObject({ toVersion: v2, fromStage: { id: 'qualification', name: 'Qualification' }, toStage: { id: 'qualification', name: 'Discovery' } });
      expect(byType('stagecraft.opportunity.lost.v1')[0]!.data).toMatchObject({ outcome: 'lost', lostReason: 'price', amount: 250, ownerId: 'ben' });
      expect(byType('stagecraft.opportunity.expected-close-date-changed.v1')[0]!.data).toMatchObject({ from: null, to: '2026-09-30', amount: 250 });
      expect(JSON.stringify(events)).not.toMatch(/"(prevHash|hash|commandId|authenticatedBy|commandFingerprint)"/);

      const health = (await api.anonymous.get('/health').expect(200)).body;
      await waitFor('a caught-up relay in /health', async () => {
        const relay = (await api.anonymous.get('/health').expect(200)).body.relay as { sink: string; lag: number; state: string }[];
        return relay[0]!.lag === 0 && relay[0]!.state === 'live' ? true : undefined;
      });
      expect(health.relay[0]).toMatchObject({ sink: parseSinkUrl(reader.sinkUrl()).key, kind: 'nats', deadLetters: 0 });
      const document = (await api.anonymous.get('/docs/asyncapi.json').expect(200)).body;
      expect(document).toEqual(JSON.parse(readFileSync(join(ROOT, 'docs', 'asyncapi.json'), 'utf8')));
    } finally {
      await api.close();
    }
  });

  it('keeps answering commands while the broker is away; /health shows the sink retrying and its lag; it catches up in order', async () => {
    const proxy = await new TcpProxy(...natsHostAndPort()).start();
    const api = await startApiTestApp({ eventStorePath: join(dir.path, 'outage.db'), env: { RELAY_SINKS: reader.sinkUrl(proxy.url), ...FAST_RETRIES } });
    try {
      const open = async (title: string) => (await api.http.post('/opportunities').send({ title, processId: 'standard' }).expect(201)).body.id as string;
      const ids = [await open('Before')];
      await waitFor('the first event', async () => (await reader.count()) >= 1);
      await proxy.cut();
      for (let index = 0; index < 5; index += 1) ids.push(await open(`During ${index}`)); // answered: nothing waits for the sink
      const relay = await waitFor('the sink retrying in /health', async () => {
        const [sink] = (await api.anonymous.get('/health').expect(200)).body.relay as { state: string; lag: number; lastError?: string }[];
        return sink!.state === 'retrying' && sink!.lag > 0 ? sink : undefined;
      });
      expect(relay.lastError).toBeDefined();
      await proxy.restore();
      await waitFor('the catch-up', async () => (await reader.count()) >= 6);
      const events = (await reader.messages()).map((message) => message.event);
      expect(events.map((event) => event.subject)).toEqual(ids);
    } finally {
      await api.close();
      await proxy.close();
    }
  });

  it('as its own process, killed with SIGKILL while publishes wait for their acknowledgement, loses nothing after a restart', async () => {
    const proxy = await new TcpProxy(...natsHostAndPort()).start();
    const eventStorePath = join(dir.path, 'killed.db');
    const statePath = join(dir.path, 'killed.relay.db');
    const env = { RELAY_SINKS: reader.sinkUrl(proxy.url), RELAY: 'external', RELAY_STATE_PATH: statePath, ...FAST_RETRIES };
    const api = await startApiTestApp({ eventStorePath, env });
    const spawnRelay = () => spawnRelayProcess(env, eventStorePath);
    const children: { child: ReturnType<typeof spawn>; exited: Promise<unknown> }[] = [];
    const checkpoint = () => {
      const state = getSQLiteRelayStateStore(statePath);
      try {
        return state.checkpoint(parseSinkUrl(reader.sinkUrl(proxy.url)).key)?.position ?? 0;
      } finally {
        state.close();
      }
    };
    try {
      const open = async (title: string) => (await api.http.post('/opportunities').send({ title, processId: 'standard' }).expect(201)).body.id as string;
      const ids = [await open('First')];
      const first = await spawnRelay();
      children.push(first);
      await waitFor('the first event', async () => (await reader.count()) >= 1, 60_000);
      await waitFor('its checkpoint', () => (checkpoint() > 0 ? true : undefined));

      // The broker stores what the relay sends but its acknowledgements are held back: the relay
      // is mid-publish, its checkpoint unmoved, when it is killed.
      proxy.freeze();
      for (let index = 0; index < 20; index += 1) ids.push(await open(`Deal ${index}`));
      await waitFor('the broker to store an event it cannot acknowledge', async () => (await reader.count()) >= 2);
      const head = (await api.anonymous.get('/health').expect(200)).body.store.headPosition as number;
      expect(checkpoint()).toBeLessThan(head);
      first.child.kill('SIGKILL');
      await first.exited;
      await proxy.restore();

      for (let index = 0; index < 5; index += 1) ids.push(await open(`After ${index}`));
      const second = await spawnRelay();
      children.push(second);
      try {
        await waitFor('the restarted relay to reach the head', () => (checkpoint() >= head + 5 ? true : undefined), 60_000);
        const events = (await reader.messages()).map((message) => message.event);
        // Republished from the old checkpoint: JetStream recognised the ids, so each is there once, in order.
        expect(events.map((event) => event.subject)).toEqual(ids);
        expect(events.flatMap(schemaProblems)).toEqual([]);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      for (const { child, exited } of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      }
      await api.close();
      await proxy.close();
    }
  });

  it('as its own process, refuses to start on a state file another relay publishes from, naming the file and that process; a relay killed with SIGKILL leaves no claim behind', async () => {
    const eventStorePath = join(dir.path, 'claimed.db');
    const statePath = join(dir.path, 'claimed.relay.db');
    const env = { RELAY_SINKS: reader.sinkUrl(), RELAY: 'external', RELAY_STATE_PATH: statePath, ...FAST_RETRIES };
    const api = await startApiTestApp({ eventStorePath, env });
    const children: Awaited<ReturnType<typeof spawnRelayProcess>>[] = [];
    const spawnRelay = async () => {
      const relay = await spawnRelayProcess(env, eventStorePath);
      children.push(relay);
      return relay;
    };
    try {
      await api.http.post('/opportunities').send({ title: 'Claimed', processId: 'standard' }).expect(201);
      const first = await spawnRelay();
      await waitFor('the first relay to publish', async () => (await reader.count()) >= 1, 60_000);

      const second = await spawnRelay();
      const outcome = await Promise.race([
        second.exited.then((code) => `exited with ${code}`),
        waitFor('the second relay to start or stop', () => (second.output().includes('Stagecraft relay started') ? 'started' : undefined), 60_000),
      ]);
      expect(outcome).toBe('exited with 1');
      expect(second.output()).toContain('Relay did not start.');
      expect(second.output()).toContain(`${statePath} (RELAY_STATE_PATH) is in use by another relay, process ${first.child.pid} on `);
      expect(second.output()).not.toContain('    at '); // one line for the operator, no stack

      first.child.kill('SIGKILL');
      await first.exited;
      const third = await spawnRelay();
      await waitFor('the next relay to start', () => (third.output().includes('Stagecraft relay started') ? true : undefined), 60_000);
      await api.http.post('/opportunities').send({ title: 'After', processId: 'standard' }).expect(201);
      await waitFor('the next relay to publish', async () => (await reader.count()) >= 2, 60_000);
      third.child.kill('SIGTERM');
      expect(await third.exited).toBe(0);
    } finally {
      for (const { child, exited } of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      }
      await api.close();
    }
  });

  it('retries a webhook that is down or busy for longer than every attempt allowed, shown retrying with its lag in /health, and catches up in order when it is back, nothing dead-lettered', async () => {
    const receiver = await webhookReceiver(() => 503);
    const eventStorePath = join(dir.path, 'webhook-down.db');
    const api: Api = await startApiTestApp({ eventStorePath, env: { RELAY_SINKS: receiver.url, RELAY_WEBHOOK_SECRET: SECRET, RELAY_WEBHOOK_MAX_ATTEMPTS: '2', ...FAST_RETRIES } });
    type SinkHealth = { state: string; lag: number; failures: number; lastError?: string; deadLetters: number };
    const health = async () => ((await api.anonymous.get('/health').expect(200)).body.relay as SinkHealth[])[0]!;
    try {
      const id = (await api.http.post('/opportunities').send({ title: 'Hook down', processId: 'standard' }).expect(201)).body.id as string;
      // Three times the attempts allowed, each after its backoff: before, the event was dead-lettered after two.
      const down = await waitFor('the webhook retried past its attempts', async () => {
        const sink = await health();
        return sink.failures >= 6 || sink.deadLetters > 0 ? sink : undefined;
      });
      expect(down).toMatchObject({ state: 'retrying', deadLetters: 0, lastError: expect.stringMatching(/down or busy.*: HTTP 503$/) });
      expect(down.lag).toBeGreaterThan(0);
      // Commands are answered meanwhile; the lag grows.
      await api.http.patch(`/opportunities/${id}`).send({ ownerId: 'ben' }).expect(200);
      await waitFor('the lag to grow', async () => ((await health()).lag > down.lag ? true : undefined));

      receiver.setAnswer(() => 204);
      await waitFor('the catch-up', async () => ((await health()).lag === 0 ? true : undefined));
      expect(await health()).toMatchObject({ state: 'live', deadLetters: 0, failures: 0 });
      const delivered = receiver.requests.filter((request) => request.answered === 204).map((request) => request.event);
      // Each event once (the subscriber answered at once), in the opportunity's order.
      expect(delivered.map(keyOf)).toEqual(await historyKeys(api, [id]));
    } finally {
      await api.close();
      await receiver.close();
    }
  });

  it('signs webhooks, dead-letters what a failing subscriber refuses (in /health and the CLI) and replays it from the CLI', async () => {
    const receiver = await webhookReceiver(() => 500);
    const eventStorePath = join(dir.path, 'webhook.db');
    const env = { RELAY_SINKS: receiver.url, RELAY_WEBHOOK_SECRET: SECRET, RELAY_WEBHOOK_MAX_ATTEMPTS: '2', ...FAST_RETRIES };
    const api = await startApiTestApp({ eventStorePath, env });
    const cli = async (...args: string[]) => {
      const result = spawnSync(process.execPath, [...childNodeArgs('apps/cli/src/main'), 'relay', ...args], {
        cwd: ROOT,
        env: { ...process.env, PROCESSES_DIR: SHIPPED_PROCESSES, ...env, ...(await eventStoreEnv(eventStorePath)) },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    try {
      const id = (await api.http.post('/opportunities').send({ title: 'Hooked', processId: 'standard' }).expect(201)).body.id as string;
      const [sink] = await waitFor('a dead letter in /health', async () => {
        const relay = (await api.anonymous.get('/health').expect(200)).body.relay as { sink: string; deadLetters: number; lag: number }[];
        return relay[0]!.deadLetters === 1 && relay[0]!.lag === 0 ? relay : undefined;
      });
      expect(receiver.requests.map((request) => request.answered)).toEqual([500, 500]);

      const listed = await cli('dead-letters', '--json');
      expect(listed.status).toBe(1);
      const [letter] = JSON.parse(listed.stdout) as { sink: string; position: number; attempts: number; lastError: string; event: PublicEvent }[];
      expect(letter).toMatchObject({ sink: sink!.sink, attempts: 2, lastError: 'HTTP 500', event: { subject: id, type: 'stagecraft.opportunity.opened.v1' } });

      // A later event of the deal is held back behind it, never sent, so never refused: it cannot be given up on.
      await api.http.patch(`/opportunities/${id}`).send({ ownerId: 'ben' }).expect(200);
      await waitFor('the held-back event', async () => (((await api.anonymous.get('/health').expect(200)).body.relay[0].deadLetters as number) === 2 ? true : undefined));
      const held = (JSON.parse((await cli('dead-letters', '--json')).stdout) as { position: number; attempts: number }[])[1]!;
      expect(held.attempts).toBe(0);
      const refusedDiscard = await cli('discard', '--sink', receiver.url, '--position', String(held.position));
      expect(refusedDiscard).toMatchObject({ status: 2, stderr: expect.stringContaining(`held back behind the dead letter at position ${letter!.position} of the same opportunity, never sent`) });

      receiver.setAnswer(() => 204);
      const replay = await cli('replay', '--sink', receiver.url, '--from', String(letter!.position));
      expect(replay).toMatchObject({ status: 0, stderr: '' });
      expect(replay.stdout).toContain('2 dead letter(s) from there on cleared');
      await waitFor('the replayed delivery', () => (receiver.requests.some((request) => request.answered === 204) ? true : undefined));
      const delivered = receiver.requests.find((request) => request.answered === 204)!;
      expect(delivered.event.id).toBe(letter!.event.id);
      // The documented recipe: HMAC-SHA256 over "<t>.<raw body>" with the shared secret, hex.
      const { createHmac } = await import('node:crypto');
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(delivered.headers['stagecraft-signature']))!;
      expect(createHmac('sha256', SECRET).update(`${t}.`).update(delivered.body).digest('hex')).toBe(v1);
      await waitFor('no dead letter left', async () => (((await api.anonymous.get('/health').expect(200)).body.relay[0].deadLetters as number) === 0 ? true : undefined));
      expect((await cli('status')).status).toBe(0);
      // Nothing left to give up on: said, with what there is.
      const discard = await cli('discard', '--sink', receiver.url, '--position', String(letter!.position));
      expect(discard).toMatchObject({ status: 2, stderr: expect.stringContaining(`has no dead letter at position ${letter!.position}; it has none`) });
    } finally {
      await api.close();
      await receiver.close();
    }
  });
});
