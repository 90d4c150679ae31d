import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { eventStoreEnv } from './support/e2e-store';
import { stagecraft } from './support/stagecraft-cli';

type Api = ApiTestApp & { keys: Record<string, string> };

// Several API instances on one store (README, "For operators": every command reads its stream from
// the store, so any instance may serve any request). After each race: every acknowledged command is
// in the log once, revisions run without a gap or a twin, and both instances answer the same view.
describe('races between API instances on one store', () => {
  const dir = temporaryDirectory();
  const eventStorePath = join(dir.path, 'events.db');
  let a: Api;
  let b: Api;
  beforeAll(async () => {
    a = await startApiTestApp({ eventStorePath });
    b = await startApiTestApp({ eventStorePath });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    dir.remove();
  });

  const open = async (api: Api, body: object = {}) => (await api.http.post('/opportunities').send({ title: 'Deal', processId: 'standard', teamId: 'direct', ...body }).expect(201)).body.id as string;
  const history = async (id: string) => (await a.http.get(`/opportunities/${id}/history`).expect(200)).body.events as { revision: number; metadata: { commandId: string } }[];
  async function consistent(id: string) {
    const events = await history(id);
    expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
    const ids = events.map((e) => e.metadata.commandId);
    expect(new Set(ids).size).toBe(ids.length);
    const [va, vb] = await Promise.all([a.http.get(`/opportunities/${id}`).expect(200), b.http.get(`/opportunities/${id}`).expect(200)]);
    expect(vb.body).toEqual(va.body);
    return events;
  }

  it('same Idempotency-Key, same body, on both at once: one event, both answers identical', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await open(a);
      await b.http.get(`/opportunities/${id}`).expect(200);
      const key = randomUUID();
      const [ra, rb] = await Promise.all([
        a.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', key).send({ stage: 'qualification' }),
        b.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', key).send({ stage: 'qualification' }),
      ]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(rb.body).toEqual(ra.body);
      expect([ra.headers['idempotent-replayed'], rb.headers['idempotent-replayed']].filter(Boolean)).toHaveLength(1);
      expect(await consistent(id)).toHaveLength(2);
    }
  });

  it('same Idempotency-Key, different bodies: one lands, the other 422', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await open(a);
      await b.http.get(`/opportunities/${id}`).expect(200);
      const key = randomUUID();
      const [ra, rb] = await Promise.all([
        a.http.patch(`/opportunities/${id}`).set('Idempotency-Key', key).send({ title: 'Renamed' }),
        b.http.post(`/opportunities/${id}/move`).set('Idempotency-Key', key).send({ stage: 'qualification' }),
      ]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses[1]).toBe(422);
      const events = await consistent(id);
      expect(events.length).toBe(statuses[0] === 200 ? 2 : 1);
    }
  });

  it('same expectedRevision to both: exactly one lands', async () => {
    for (let round = 0; round < 10; round++) {
      const id = await open(a);
      await b.http.get(`/opportunities/${id}`).expect(200);
      const [ra, rb] = await Promise.all([
        a.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification', expectedRevision: 0 }),
        b.http.patch(`/opportunities/${id}`).send({ title: 'Renamed', expectedRevision: 0 }),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      expect(await consistent(id)).toHaveLength(2);
    }
  });

  it('an opening with the same client id on both: one 201, the other 409 (or a replay with the same key)', async () => {
    for (let round = 0; round < 10; round++) {
      const id = randomUUID();
      const [ra, rb] = await Promise.all([
        a.http.post('/opportunities').send({ id, title: 'A', processId: 'standard' }),
        b.http.post('/opportunities').send({ id, title: 'B', processId: 'standard' }),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([201, 409]);
      expect(await consistent(id)).toHaveLength(1);
      const key = randomUUID();
      const id2 = randomUUID();
      const [ka, kb] = await Promise.all([
        a.http.post('/opportunities').set('Idempotency-Key', key).send({ id: id2, title: 'A', processId: 'standard' }),
        b.http.post('/opportunities').set('Idempotency-Key', key).send({ id: id2, title: 'A', processId: 'standard' }),
      ]);
      expect([ka.status, kb.status]).toEqual([201, 201]);
      expect(kb.body).toEqual(ka.body);
      expect(await consistent(id2)).toHaveLength(1);
    }
  });

  it('moves on A while B has the stream cached; criteria ticks racing moves', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await open(a);
      await a.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      await b.http.get(`/opportunities/${id}`).expect(200);
      const criteria = ['goals', 'budget-confirmed', 'decision-maker', 'pain-points', 'need-confirmed'];
      const results = await Promise.all([
        ...criteria.map((criterionId, i) => (i % 2 ? a : b).http.post(`/opportunities/${id}/criteria`).send({ criterionId, met: true })),
        a.http.post(`/opportunities/${id}/move`).send({ stage: 'new' }),
        b.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }),
      ]);
      for (const r of results) expect([200, 409, 422]).toContain(r.status);
      const events = await consistent(id);
      const acked = results.filter((r) => r.status === 200).length;
      expect(events.length).toBe(2 + acked);
    }
  }, 60_000);

  it('verify --all is green after the races', async () => {
    const run = stagecraft(await eventStoreEnv(eventStorePath), 'verify', '--all');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
