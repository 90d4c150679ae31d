// The API on KurrentDB when the server loses an answer (test/kurrentdb-double/SERVER-BEHAVIOUR.md
// §1): a command whose append landed is answered as recorded, one the store cannot confirm is a
// 503 telling the client to retry with the same key, and the retry is applied once. Runs in the
// KurrentDB e2e project only, on a double of its own whose faults it switches; and the API while the
// server goes away (a TCP proxy cut) and comes back.
import { jsonEvent, KurrentDBClient } from '@kurrent/kurrentdb-client';
import { startKurrentDbDouble, type KurrentDbDouble } from './kurrentdb-double/kurrentdb-double';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';
import { waitFor, webhookReceiver } from './support/relay-consumers';
import { describeIf } from './support/skips';
import { stagecraftAsync } from './support/stagecraft-cli';
import { TcpProxy } from './support/tcp-proxy';

describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its test double is what loses answers')('commands on KurrentDB when the server loses an answer', () => {
  let double: KurrentDbDouble;
  let api: ApiTestApp;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { EVENT_STORE_URL: double.url } });
  });

  afterAll(async () => {
    await api?.close();
    await double?.stop();
    dir.remove();
  });

  it('commands retried while the server still indexes the first are all answered as the first, and applied once', async () => {
    const restore = double.faults.slowIndexing(50, 300);
    try {
      const responses = await Promise.all(Array.from({ length: 3 }, () => api.http.post('/opportunities').set('Idempotency-Key', 'slow-open').send({ title: 'Slow', processId: 'standard' })));

      expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(new Set(responses.map((r) => JSON.stringify(r.body))).size).toBe(1);
    } finally {
      await restore();
    }
    const opened = await api.http.post('/opportunities').set('Idempotency-Key', 'slow-open').send({ title: 'Slow', processId: 'standard' }).expect(201);
    const history = await api.http.get(`/opportunities/${opened.body.id}/history`).expect(200);
    expect(history.body.events).toHaveLength(1);
  });

  it('a command the store cannot confirm is a 503 OUTCOME_UNKNOWN with Retry-After; its retry with the same key is applied once', async () => {
    const restore = double.faults.slowIndexing(300, 50);
    let unknown;
    try {
      unknown = await api.http.post('/opportunities').set('Idempotency-Key', 'unconfirmed-open').send({ title: 'Unconfirmed', processId: 'standard' });
    } finally {
      await restore();
    }

    expect(unknown.status).toBe(503);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.headers['retry-after']).toBe('1');
    expect(unknown.body).toMatchObject({ code: 'EVENT_STORE.OUTCOME_UNKNOWN', detail: expect.stringMatching(/same Idempotency-Key/) });
    const retried = await api.http.post('/opportunities').set('Idempotency-Key', 'unconfirmed-open').send({ title: 'Unconfirmed', processId: 'standard' }).expect(201);
    const history = await api.http.get(`/opportunities/${retried.body.id}/history`).expect(200);
    expect(history.body.events).toHaveLength(1);
  });

  it('a command whose connection broke after the server stored it is answered as recorded', async () => {
    const { body: opened } = await api.http.post('/opportunities').send({ title: 'Broken', processId: 'standard' }).expect(201);
    double.faults.breakAfterNextWrite();
    const moved = await api.http.post(`/opportunities/${opened.id}/move`).send({ stage: 'qualification' }).expect(200);

    expect(moved.body).toMatchObject({ stage: 'qualification', revision: 1 });
    const history = await api.http.get(`/opportunities/${opened.id}/history`).expect(200);
    expect(history.body.events).toHaveLength(2);
  });
});

describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what goes away')('the API on KurrentDB while the server goes away and comes back', () => {
  let double: KurrentDbDouble;
  let proxy: TcpProxy;
  let api: ApiTestApp;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    proxy = await new TcpProxy('127.0.0.1', double.port).start();
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { EVENT_STORE_URL: `kurrentdb://${proxy.url}?tls=false` } });
  });

  afterAll(async () => {
    await api?.close();
    await proxy?.close();
    await double?.stop();
    dir.remove();
  });

  it('answers 503 EVENT_STORE.UNAVAILABLE with Retry-After while away, writing nothing; once back, commands land once and the read models follow from where they were', async () => {
    const { body: opened } = await api.http.post('/opportunities').send({ title: 'Before', processId: 'standard', teamId: 'direct', amount: 100 }).expect(201);
    await api.http.get(`/pipeline?minPosition=${opened.position}`).expect(200);
    const logLength = double.log.length;
    await proxy.cut();

    const away = [
      await api.http.post(`/opportunities/${opened.id}/move`).set('Idempotency-Key', 'move-while-away').send({ stage: 'qualification' }),
      await api.http.post('/opportunities').set('Idempotency-Key', 'open-while-away').send({ title: 'While away', processId: 'standard', teamId: 'direct', amount: 50 }),
    ];
    for (const response of away) {
      expect([response.status, response.body.code, response.headers['retry-after']]).toEqual([503, 'EVENT_STORE.UNAVAILABLE', expect.any(String)]);
    }
    expect(double.log.length).toBe(logLength);
    expect((await api.anonymous.get('/health')).status).toBe(503);

    await proxy.restore();
    const moved = await api.http.post(`/opportunities/${opened.id}/move`).set('Idempotency-Key', 'move-while-away').send({ stage: 'qualification' }).expect(200);
    const { body: later } = await api.http.post('/opportunities').set('Idempotency-Key', 'open-while-away').send({ title: 'While away', processId: 'standard', teamId: 'direct', amount: 50 }).expect(201);

    const board = (await api.http.get(`/pipeline?minPosition=${Math.max(moved.body.position, later.position)}`).expect(200)).body;
    const stages = board.processes.find((p: { processId: string }) => p.processId === 'standard').stages;
    expect(stages[0]).toMatchObject({ count: 1, amount: 50 });
    expect(stages[1]).toMatchObject({ count: 1, amount: 100 });
    const history = (await api.http.get(`/opportunities/${opened.id}/history`).expect(200)).body;
    expect(history.events).toHaveLength(2);
    expect((await api.http.get(`/opportunities/${opened.id}/verify`).expect(200)).body).toMatchObject({ ok: true });
  });
});

// The server started again without its data (the test server keeps its log in memory, as a node
// restored from a backup older than anything written here would): the read models the API keeps
// in memory must follow the log the server now holds, as the relay and the PostgreSQL projector
// do — not answer 503 PROJECTIONS.FAILED until the API restarts.
describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what restarts')('the API on KurrentDB when the server comes back with another log', () => {
  const rig = apiOnServerBehindProxy();

  it('its read models start over on the new log and answer from it, read-your-writes included', async () => {
    for (const amount of [100, 200, 300]) await rig.api.http.post('/opportunities').send({ title: `Old ${amount}`, processId: 'standard', teamId: 'direct', amount }).expect(201);
    const { body: last } = await rig.api.http.post('/opportunities').send({ title: 'Old last', processId: 'standard', teamId: 'direct', amount: 400 }).expect(201);
    await rig.api.http.get(`/pipeline?minPosition=${last.position}`).expect(200);

    // The server goes; another one, with none of those events, answers on the same address.
    await rig.serveFrom(await startKurrentDbDouble());

    const { body: opened } = await rig.api.http.post('/opportunities').send({ title: 'New', processId: 'standard', teamId: 'direct', amount: 50 }).expect(201);
    // Until the read models meet the new log (their subscription, cut, comes back to a server
    // that refuses their checkpoint) they answer from the old one: positions of two logs cannot
    // be told apart. Then, within moments, from the new one only — not stopped, not stale.
    const standard = (body: { processes: { processId: string; stages: { count: number; amount: number }[] }[] }) => body.processes.find((p) => p.processId === 'standard')!.stages[0];
    let board;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      board = await rig.api.http.get(`/pipeline?minPosition=${opened.position}`);
      if (board.status === 200 && standard(board.body).count === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect([board!.status, board!.body.code]).toEqual([200, undefined]);
    expect(standard(board!.body)).toMatchObject({ count: 1, amount: 50 });
    const health = (await rig.api.anonymous.get('/health').expect(200)).body;
    expect(health.projections.every((p: { failed?: string; checkpoint: number }) => p.failed === undefined && p.checkpoint >= opened.position)).toBe(true);
  }, 60_000);
});

// The server restored from a backup taken before the API's last writes: a client that retries one
// of them (same Idempotency-Key) must find it recorded on the log the server holds now, not be told
// it was from what the API remembered of the log that was lost (its folds, the adapter's ids).
describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what is restored')('the API on KurrentDB when the server comes back from an older backup', () => {
  const rig = apiOnServerBehindProxy();

  /** A server holding a copy of what the first one holds now (its events, same ids and bodies). */
  async function backup(): Promise<KurrentDbDouble> {
    const copy = await startKurrentDbDouble();
    const [from, to] = [KurrentDBClient.connectionString(rig.server.url), KurrentDBClient.connectionString(copy.url)];
    try {
      for await (const { event } of from.readAll()) {
        if (!event || event.streamId.startsWith('$')) continue;
        await to.appendToStream(event.streamId, jsonEvent({ id: event.id, type: event.type, data: event.data as Record<string, unknown>, metadata: event.metadata as Record<string, unknown> }));
      }
    } finally {
      await Promise.all([from.dispose(), to.dispose()]);
    }
    return copy;
  }

  it('a command retried with its Idempotency-Key after the restore is recorded there, once', async () => {
    const { body: opened } = await rig.api.http.post('/opportunities').send({ title: 'Before the backup', processId: 'standard', teamId: 'direct', amount: 100 }).expect(201);
    const copy = await backup();
    await rig.api.http.post(`/opportunities/${opened.id}/move`).set('Idempotency-Key', 'moved-after-the-backup').send({ stage: 'qualification' }).expect(200);

    await rig.serveFrom(copy);

    const retried = await rig.api.http.post(`/opportunities/${opened.id}/move`).set('Idempotency-Key', 'moved-after-the-backup').send({ stage: 'qualification' });
    const again = await rig.api.http.post(`/opportunities/${opened.id}/move`).set('Idempotency-Key', 'moved-after-the-backup').send({ stage: 'qualification' });
    const history = (await rig.api.http.get(`/opportunities/${opened.id}/history`).expect(200)).body;
    expect([retried.status, retried.body.stage, again.status, again.headers['idempotent-replayed']]).toEqual([200, 'qualification', 200, 'true']);
    expect(history.events.map((event: { type: string }) => event.type)).toEqual(['OpportunityOpened', 'StageChanged']);
    expect((await rig.api.http.get(`/opportunities/${opened.id}`).expect(200)).body).toMatchObject({ stage: 'qualification', revision: 1 });
  });
});

// A server that takes the connection but no longer answers (a frozen node, a network that drops
// packets): /health says so within its own bound, the relay's lag unknown, rather than wait with
// every command for the client to give the connection up.
describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what stops answering')('/health with a relay while the KurrentDB server stops answering', () => {
  let double: KurrentDbDouble;
  let proxy: TcpProxy;
  let api: ApiTestApp;
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    proxy = await new TcpProxy('127.0.0.1', double.port).start();
    receiver = await webhookReceiver();
    api = await startApiTestApp({
      eventStorePath: `${dir.path}/events.db`,
      env: { EVENT_STORE_URL: `kurrentdb://${proxy.url}?tls=false`, RELAY_SINKS: receiver.url, RELAY_WEBHOOK_SECRET: 'a-webhook-secret-of-thirty-two-characters' },
    });
  });

  afterAll(async () => {
    await proxy?.restore();
    await api?.close();
    await proxy?.close();
    await receiver?.close();
    await double?.stop();
    dir.remove();
  });

  it('answers 503 while a command still waits on the store, each sink with its lag unknown', async () => {
    const { body: opened } = await api.http.post('/opportunities').send({ title: 'Before', processId: 'standard', teamId: 'direct', amount: 100 }).expect(201);
    await waitFor('the webhook to take the opening', () => receiver.requests.find((request) => request.event.subject === opened.id));
    proxy.freeze();

    let commandSettled = false;
    const command = api.http
      .post(`/opportunities/${opened.id}/move`)
      .send({ stage: 'qualification' })
      .then(
        (response) => response,
        (error: unknown) => error,
      )
      .finally(() => (commandSettled = true));
    const health = await api.anonymous.get('/health');
    const waitingStill = !commandSettled;
    await proxy.restore();
    await command;

    expect({ waitingStill, status: health.status, reachable: health.body.store?.reachable }).toEqual({ waitingStill: true, status: 503, reachable: false });
    expect(health.body.relay).toEqual([expect.objectContaining({ sink: expect.stringContaining('/hooks/stagecraft'), lag: null })]);
  });
});

/**
 * An API on a KurrentDB test server reached through a TCP proxy, for a test that puts another
 * server (a restart without data, a restore from a backup) behind the same address.
 */
function apiOnServerBehindProxy(): { readonly api: ApiTestApp; readonly server: KurrentDbDouble; serveFrom(next: KurrentDbDouble): Promise<void> } {
  const servers: KurrentDbDouble[] = [];
  let proxy: TcpProxy;
  let api: ApiTestApp;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    servers.push(await startKurrentDbDouble());
    proxy = await new TcpProxy('127.0.0.1', servers[0]!.port).start();
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { EVENT_STORE_URL: `kurrentdb://${proxy.url}?tls=false` } });
  });

  afterAll(async () => {
    await api?.close();
    await proxy?.close();
    for (const server of servers) await server.stop();
    dir.remove();
  });

  return {
    get api() {
      return api;
    },
    /** The server answering now. */
    get server() {
      return servers.at(-1)!;
    },
    /** Cuts every connection to the server answering now; `next` answers on its address from then on. */
    async serveFrom(next) {
      servers.push(next);
      await proxy.cut();
      const swapped = new TcpProxy('127.0.0.1', next.port);
      swapped.port = proxy.port;
      await swapped.restore();
      proxy = swapped;
    },
  };
}

// The server starts refusing the API's user while it runs (a password rotated, an ACL changed):
// the in-process projections keep their checkpoints, /health is 503 naming EVENT_STORE_URL, and
// they follow again by themselves once the operator has let the user in, without a restart.
describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what refuses')('the API on KurrentDB when the server starts denying its user', () => {
  let double: KurrentDbDouble;
  let api: ApiTestApp;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { EVENT_STORE_URL: double.url } });
  });

  afterAll(async () => {
    await api?.close();
    await double?.stop();
    dir.remove();
  });

  it('/health answers 503 and GET /admin/projections names EVENT_STORE_URL and the refusal, recovering; once let in, both are well again and the read models go on', async () => {
    const { body: opened } = await api.http.post('/opportunities').send({ title: 'Before', processId: 'standard', teamId: 'direct', amount: 100 }).expect(201);
    await api.http.get(`/pipeline?minPosition=${opened.position}`).expect(200);
    const allow = double.faults.denyAccess('');
    let allowed = false;
    try {
      double.faults.dropSubscriptions(); // the server ends the subscription: following again is refused
      const health = await waitFor('/health to say so', async () => {
        const answer = await api.anonymous.get('/health');
        return answer.status === 503 && answer.body.projections.some((p: { failed?: string }) => p.failed !== undefined) ? answer : undefined;
      });
      const pipeline = health.body.projections.find((p: { name: string }) => p.name === 'pipeline');
      expect(pipeline).toMatchObject({ recovering: true, failed: expect.stringContaining('EVENT_STORE_URL') });
      expect(pipeline.failed).toContain('denied');
      const listed = (await api.http.get('/admin/projections').expect(200)).body.projections.find((p: { name: string }) => p.name === 'pipeline');
      expect(listed).toMatchObject({ recovering: true, failed: expect.stringContaining('EVENT_STORE_URL'), checkpoint: pipeline.checkpoint });
      // Every 503 says when to retry, an operator's matter later than a passing outage: /health,
      // a command the server refuses, and a read that cannot be met meanwhile.
      expect(health.headers['retry-after']).toBe('30');
      const command = await api.http.post('/opportunities').send({ title: 'While denied', processId: 'standard', teamId: 'direct', amount: 1 });
      expect([command.status, command.body.code, command.headers['retry-after']]).toEqual([503, 'EVENT_STORE.ACCESS_DENIED', '30']);
      const unmet = await api.http.get(`/pipeline?minPosition=${opened.position + 1_000}`);
      expect([unmet.status, unmet.headers['retry-after']]).toEqual([503, expect.stringMatching(/^[1-9]\d*$/)]);
      allow();
      allowed = true;
      const { body: later } = await api.http.post('/opportunities').send({ title: 'After', processId: 'standard', teamId: 'direct', amount: 50 }).expect(201);
      const board = (await api.http.get(`/pipeline?minPosition=${later.position}`).expect(200)).body;
      expect(board.processes.find((p: { processId: string }) => p.processId === 'standard').stages[0]).toMatchObject({ count: 2, amount: 150 });
      await waitFor('/health well again', async () => ((await api.anonymous.get('/health')).status === 200 ? true : undefined));
      const after = (await api.http.get('/admin/projections').expect(200)).body.projections as { failed?: string }[];
      expect(after.filter((p) => p.failed !== undefined)).toEqual([]);
    } finally {
      if (!allowed) allow();
    }
  });
});

// `verify` asks the server which streams hide events from their readers (stream metadata, deletes:
// README, "For auditors"); that needs read on the metadata streams ($$<stream>), which a user
// granted $all alone does not have. The check it could not make is named, with the user and the
// setting: never "Intact" for a log whose readers may miss events, never a bare refusal.
describeIf(E2E_STORE === 'kurrentdb', 'the KurrentDB run only: its server is what refuses')('verify on KurrentDB as a user who may read $all but not the streams\' metadata', () => {
  let double: KurrentDbDouble;
  const dir = temporaryDirectory();

  beforeAll(async () => {
    double = await startKurrentDbDouble();
  });

  afterAll(async () => {
    await double?.stop();
    dir.remove();
  });

  it('verify --all and verify <id> exit 3 naming the check not made, the permission and EVENT_STORE_URL\'s user (never its password), with no head to keep; once let in, the hidden events are reported', async () => {
    const api = await startApiTestApp({ eventStorePath: `${dir.path}/events.db`, env: { EVENT_STORE_URL: double.url } });
    let id: string;
    let plainId: string;
    let goneId: string;
    try {
      id = (await api.http.post('/opportunities').send({ title: 'Counted', processId: 'standard', teamId: 'direct' }).expect(201)).body.id;
      await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      plainId = (await api.http.post('/opportunities').send({ title: 'Plain', processId: 'standard', teamId: 'direct' }).expect(201)).body.id;
      goneId = (await api.http.post('/opportunities').send({ title: 'Gone', processId: 'standard', teamId: 'direct' }).expect(201)).body.id;
    } finally {
      await api.close();
    }
    const client = KurrentDBClient.connectionString(double.url);
    try {
      await client.setStreamMetadata(`opportunity-${id}`, { maxCount: 1 }, { deadline: 60_000 });
      await client.deleteStream(`opportunity-${goneId}`, { deadline: 60_000 });
    } finally {
      await client.dispose();
    }
    const env = { EVENT_STORE_PATH: `${dir.path}/events.db`, EVENT_STORE_URL: double.url.replace('://', '://auditor:s3cretpw@') };
    const allow = double.faults.denyStreamReads('$$');
    let allowed = false;
    try {
      const all = await stagecraftAsync(env, 'verify', '--all');
      const output = all.stdout + all.stderr;
      expect([all.status, output]).toEqual([3, expect.stringContaining('UNCHECKED: ')]);
      expect(all.stdout).not.toMatch(/^Intact/m);
      expect(all.stdout).not.toMatch(/^keep: /m);
      expect(output).toContain('user "auditor" of EVENT_STORE_URL');
      expect(output).toContain('$$<stream>');
      expect(output).not.toContain('s3cretpw');
      const json = await stagecraftAsync(env, 'verify', '--all', '--json');
      expect(json.status).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, keep: null, hidden: [], unchecked: [{ check: 'hidden-streams', user: 'auditor', detail: expect.stringContaining('EVENT_STORE_URL') }] });

      // A deal whose read shows all it holds: its chains hold, what hides its events is not known (3).
      const one = await stagecraftAsync(env, 'verify', plainId);
      expect([one.status, one.stdout]).toEqual([3, expect.stringContaining(`UNCHECKED: opportunity-${plainId}: `)]);
      expect(one.stdout).toContain('user "auditor" of EVENT_STORE_URL');
      expect(one.stdout).not.toMatch(/^Verified/m);
      const oneJson = await stagecraftAsync(env, 'verify', plainId, '--json');
      expect(oneJson.status).toBe(3);
      expect(JSON.parse(oneJson.stdout)).toMatchObject({
        ok: false,
        unchecked: [
          { check: 'hidden-streams', stream: `opportunity-${plainId}`, user: 'auditor' },
          { check: 'hidden-streams', stream: 'sales-process-standard', user: 'auditor' },
        ],
      });
      // The API's /verify, its user refused the same: the same report, not a 503 refusing the whole check.
      const refused = await startApiTestApp({ eventStorePath: env.EVENT_STORE_PATH, env: { EVENT_STORE_URL: env.EVENT_STORE_URL } });
      try {
        expect((await refused.http.get(`/opportunities/${plainId}/verify`).expect(200)).body).toEqual(JSON.parse(oneJson.stdout));
        expect((await refused.http.get(`/opportunities/${id}/verify`).expect(200)).body).toEqual(JSON.parse((await stagecraftAsync(env, 'verify', id, '--json')).stdout));
        // The API's reads of the cut deal say the check not made, as history and verify do: the
        // events view with `unchecked` beside a history that starts at revision 1, the folds from the opening refused naming it.
        const cutUnchecked = { check: 'hidden-streams', stream: `opportunity-${id}`, user: 'auditor', firstReadRevision: 1 };
        expect((await refused.http.get(`/opportunities/${id}/history`).expect(200)).body).toMatchObject({ events: [{ revision: 1 }], hidden: [], unchecked: [cutUnchecked] });
        for (const path of [`/opportunities/${id}/history?view=timeline`, `/opportunities/${id}?asOf=2099-01-01T00:00:00Z`, `/opportunities/${id}`]) {
          const cutRead = (await refused.http.get(path)).body;
          expect([path, cutRead]).toEqual([path, expect.objectContaining({ status: 500, code: 'EVENT_STORE.STREAM_UNREADABLE', firstReadableRevision: 1, hidden: [], unchecked: [expect.objectContaining(cutUnchecked)] })]);
          expect(cutRead.detail).toContain('hidden from readers by a setting or cut by tampering, which could not be told apart');
        }
        // A deal no event of which reads, its settings refused: /verify says the check not made (as verify <id> exits 3), not "open it first".
        expect((await refused.http.get(`/opportunities/${goneId}/verify`).expect(200)).body).toMatchObject({ ok: false, hidden: [], unchecked: [{ stream: `opportunity-${goneId}`, user: 'auditor' }] });
      } finally {
        await refused.close();
      }
      // The deal $maxCount cuts: its read starts past revision 0, hidden by a setting or cut by
      // tampering, which only the check not made would tell apart: UNCHECKED (3), never BROKEN, the
      // chain checked from the first revision read; the API's /verify says the same.
      const counted = await stagecraftAsync(env, 'verify', id);
      expect([counted.status, counted.stdout]).toEqual([3, expect.stringContaining(`UNCHECKED: opportunity-${id}: its read starts at revision 1: `)]);
      expect(counted.stdout).not.toContain('BROKEN');
      const countedJson = await stagecraftAsync(env, 'verify', id, '--json');
      expect(countedJson.status).toBe(3);
      expect(JSON.parse(countedJson.stdout)).toMatchObject({ ok: false, opportunity: { ok: true }, hidden: [], unchecked: [{ stream: `opportunity-${id}`, firstReadRevision: 1 }] });
      // history, refused the metadata the same: a deal cut or gone is said not checked (UNCHECKED,
      // exit 3), never altered by tampering nor absent; a whole one is shown, nothing hidden.
      const cut = await stagecraftAsync(env, 'history', id);
      expect([cut.status, cut.stderr]).toEqual([3, expect.stringContaining(`UNCHECKED: opportunity-${id}: `)]);
      expect(cut.stderr).toContain('hidden from readers by a setting or cut by tampering, which could not be told apart:\nUNCHECKED: ');
      expect(cut.stderr).not.toContain('the stream was altered');
      const gone = await stagecraftAsync(env, 'history', goneId);
      expect([gone.status, gone.stderr]).toEqual([3, expect.stringContaining(`UNCHECKED: opportunity-${goneId}: `)]);
      expect(gone.stderr).toContain('never written, deleted, or hidden from readers, which could not be told apart:\nUNCHECKED: ');
      const plain = await stagecraftAsync(env, 'history', plainId, '--json');
      expect([plain.status, plain.stderr, JSON.parse(plain.stdout).hidden]).toEqual([0, '', []]);
      allow();
      allowed = true;
      const seen = await stagecraftAsync(env, 'verify', '--all');
      expect([seen.status, seen.stdout]).toEqual([1, expect.stringContaining(`ALTERED: opportunity-${id}: max-count`)]);
    } finally {
      if (!allowed) allow();
    }
  });
});
