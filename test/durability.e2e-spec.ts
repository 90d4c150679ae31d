import { spawnApi } from './support/api-child-process';
import { ROOT, startApiTestApp, temporaryDirectory, TEST_SERVICE } from './support/api-test-app';
import { eventStoreEnv } from './support/e2e-store';
import { ApiKeyStore } from '../apps/api/src/auth/api-key.store';
import { readSettings } from '@stagecraft/config';
import { openEventStore } from '@stagecraft/event-store';

describe('durability of acknowledged commands', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('keeps state and history across a close and a reopen on the same file', async () => {
    const eventStorePath = `${dir.path}/restart.db`;
    const first = await startApiTestApp({ eventStorePath });
    const { id } = (await first.http.post('/opportunities').send({ title: 'Survivor', processId: 'standard', amount: 10 }).expect(201)).body;
    await first.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
    await first.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: true }).expect(200);
    const before = (await first.http.get(`/opportunities/${id}/history`).expect(200)).body;
    await first.close();

    const second = await startApiTestApp({ eventStorePath });
    const view = (await second.http.get(`/opportunities/${id}`).expect(200)).body;
    expect(view).toMatchObject({ stage: 'qualification', criteriaMet: ['goals'], revision: 2, amount: 10 });
    expect((await second.http.get(`/opportunities/${id}/history`).expect(200)).body).toEqual(before);
    // The process version was recorded once, not again on the second start.
    expect((await second.http.get('/processes/standard').expect(200)).body.versions).toHaveLength(1);
    await second.close();
  });

  it('loses none of the commands acknowledged right before a SIGKILL', async () => {
    const env = { EVENT_STORE_PATH: `${dir.path}/killed.db` };
    const api = await spawnApi(env);
    const acknowledged: { id: string; revision: number }[] = [];
    let killed = false;

    // Commands keep flowing while the process is killed: every answer that came back 201
    // was acknowledged, and must be in the store after the restart.
    const send = async (index: number) => {
      try {
        const response = await fetch(`${api.baseUrl}/opportunities`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: `Deal ${index}`, processId: 'standard' }),
        });
        if (response.status === 201) {
          const body = (await response.json()) as { id: string; revision: number };
          acknowledged.push(body);
          if (acknowledged.length === 60 && !killed) {
            killed = true;
            api.child.kill('SIGKILL');
          }
        }
      } catch {
        // refused or reset by the kill: not acknowledged, so nothing is promised about it
      }
    };
    await Promise.all(Array.from({ length: 200 }, (_, index) => send(index)));
    await api.exited();
    expect(killed).toBe(true);
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);

    const restarted = await spawnApi(env);
    try {
      for (const { id } of acknowledged) {
        const response = await fetch(`${restarted.baseUrl}/opportunities/${id}`);
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ id, stage: 'new', revision: 0 });
      }
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited();
    }
  }, 60_000);

  it('shuts down on SIGTERM within REQUEST_TIMEOUT_MS even while a client trickles a body', async () => {
    const { connect } = await import('node:net');
    const api = await spawnApi({ EVENT_STORE_PATH: `${dir.path}/trickled.db`, REQUEST_TIMEOUT_MS: '1000' });
    const { port } = new URL(api.baseUrl);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => undefined);
    socket.write('POST /opportunities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    // A byte now and then: never the whole body, so only a timeout or a cut ends the request.
    const trickle = setInterval(() => socket.write(' '), 300);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      api.child.kill('SIGTERM');
      const exited = await Promise.race([api.exited().then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 8_000))]);
      expect({ exited, withinMs: exited ? Date.now() - started < 8_000 : false }).toEqual({ exited: true, withinMs: true });
    } finally {
      clearInterval(trickle);
      socket.destroy();
      api.child.kill('SIGKILL');
      await api.exited();
    }
  }, 30_000);

  it('answers 503 SERVICE.SHUTTING_DOWN from the moment the shutdown starts, while its hooks still run, and runs nothing', async () => {
    const eventStorePath = `${dir.path}/shutting-down.db`;
    const api = await startApiTestApp({ eventStorePath });
    const server = api.app.getHttpServer() as import('node:http').Server;
    if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const open = (title: string) =>
      fetch(`http://127.0.0.1:${port}/opportunities`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.keys[TEST_SERVICE]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title, processId: 'standard' }),
      });
    expect((await open('Before')).status).toBe(201);
    // The shutdown is held in its first hooks (Nest's onModuleDestroy, before the server closes):
    // a request arriving then met services being torn down, and was run all the same.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inHooks!: () => void;
    const reached = new Promise<void>((resolve) => (inHooks = resolve));
    const keys = api.app.get(ApiKeyStore);
    const destroy = keys.onModuleDestroy.bind(keys);
    jest.spyOn(keys, 'onModuleDestroy').mockImplementation(async () => {
      inHooks();
      await held;
      destroy();
    });
    const closed = api.close();
    try {
      await reached;
      const during = await open('During');
      expect([during.status, ((await during.json()) as { code?: string }).code, during.headers.get('retry-after')]).toEqual([503, 'SERVICE.SHUTTING_DOWN', '1']);
    } finally {
      release();
      await closed;
    }
    // Not run: the store holds the first opportunity only.
    const store = openEventStore(readSettings(await eventStoreEnv(eventStorePath), ROOT));
    try {
      expect((await store.readAll()).filter((event) => event.type === 'OpportunityOpened')).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('stops start-up on a bad process file, naming the file, the field and the reason', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const processesDir = `${dir.path}/bad-processes`;
    mkdirSync(processesDir);
    writeFileSync(`${processesDir}/broken.yaml`, 'id: broken\nname: Broken\nstages: []\nlostReasons: [price]\n');
    await expect(spawnApi({ EVENT_STORE_PATH: `${dir.path}/bad.db`, PROCESSES_DIR: processesDir })).rejects.toThrow(
      /Stagecraft did not start\.\s+Invalid process definition .*broken\.yaml .*\n.*broken\.yaml:3:\d+ stages: must list at least one stage/,
    );
  }, 30_000);
});

describe('two API instances on one store', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('each sees what the other appended, even after caching the opportunity, and conflicts stay honest', async () => {
    const eventStorePath = `${dir.path}/shared.db`;
    const a = await startApiTestApp({ eventStorePath });
    const b = await startApiTestApp({ eventStorePath });
    try {
      const { id } = (await a.http.post('/opportunities').send({ title: 'Shared', processId: 'standard' }).expect(201)).body;
      expect((await b.http.get(`/opportunities/${id}`).expect(200)).body.revision).toBe(0); // b now caches revision 0
      await a.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      expect((await b.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ stage: 'qualification', revision: 1 });
      await b.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'goals', met: true }).expect(200);
      await a.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'budget-confirmed', met: true }).expect(200);
      const view = (await b.http.get(`/opportunities/${id}`).expect(200)).body;
      expect(view).toMatchObject({ revision: 3, criteriaMet: ['goals', 'budget-confirmed'] });
      const conflict = await a.http.post(`/opportunities/${id}/move`).send({ stage: 'new', expectedRevision: 2 }).expect(409);
      expect(conflict.body).toMatchObject({ expectedRevision: 2, actualRevision: 3 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
