// The API on KurrentDB when the server loses an answer (test/kurrentdb-double/SERVER-BEHAVIOUR.md
// §1): a command whose append landed is answered as recorded, one the store cannot confirm is a
// 503 telling the client to retry with the same key, and the retry is applied once. Runs in the
// KurrentDB e2e project only, on a double of its own whose faults it switches.
import { startKurrentDbDouble, type KurrentDbDouble } from './kurrentdb-double/kurrentdb-double';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';
import { describeIf } from './support/skips';

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
