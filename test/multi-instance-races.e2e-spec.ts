import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { eventStoreEnv } from './support/e2e-store';
import { oldAndNewProcessDirs, standardYaml, withoutPainPoints } from './support/process-files';
import { stagecraft } from './support/stagecraft-cli';

type Api = ApiTestApp & { keys: Record<string, string> };

/** The stages' configured probabilities, as the shipped process file gives them. */
const STANDARD_PROBABILITY: Record<string, number> = Object.fromEntries(
  (parse(standardYaml()) as { stages: { id: string; probability: number }[] }).stages.map((stage) => [stage.id, stage.probability]),
);
const withoutLearned = ({ winProbability: _w, configuredProbability: _c, ...view }: Record<string, unknown>) => view;

// Several API instances on one store (README, "For operators": every command reads its stream from
// the store, so any instance may serve any request). After each race: every acknowledged command is
// in the log once, revisions run without a gap or a twin, and both instances answer the same view.
// The learned figures beside it come from each instance's read models, which may lag the log: they
// may be null on one and not the other, but never a figure of a stage the deal is not in.
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
    expect(withoutLearned(vb.body)).toEqual(withoutLearned(va.body));
    for (const view of [va.body, vb.body] as { stage: string; configuredProbability: number | null }[]) {
      if (view.configuredProbability !== null) expect({ stage: view.stage, configuredProbability: view.configuredProbability }).toEqual({ stage: view.stage, configuredProbability: STANDARD_PROBABILITY[view.stage] });
    }
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

describe('a process file changed while instances run on one store', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('instances restarting on the changed file at once record its version once, and each deal is decided by its own version', async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'standard.yaml'), standardYaml());
    const eventStorePath = join(dir.path, 'events.db');
    const start = () => startApiTestApp({ eventStorePath, processesDir });
    let [a, b] = await Promise.all([start(), start()]);
    const v1 = (await a.http.get('/processes/standard').expect(200)).body.version;
    const old = (await a.http.post('/opportunities').send({ title: 'On v1', processId: 'standard' }).expect(201)).body.id;
    await b.http.post(`/opportunities/${old}/move`).send({ stage: 'qualification' }).expect(200);

    writeFileSync(join(processesDir, 'standard.yaml'), withoutPainPoints(standardYaml()));
    await Promise.all([a.close(), b.close()]);
    [a, b] = await Promise.all([start(), start()]);
    try {
      const [pa, pb] = await Promise.all([a.http.get('/processes/standard').expect(200), b.http.get('/processes/standard').expect(200)]);
      expect(pa.body.versions).toHaveLength(2);
      expect(pb.body.versions).toEqual(pa.body.versions);
      const v2 = pa.body.version;
      expect(v2).not.toBe(v1);
      const fresh = (await b.http.post('/opportunities').send({ title: 'On v2', processId: 'standard' }).expect(201)).body.id;
      await a.http.post(`/opportunities/${fresh}/move`).send({ stage: 'qualification' }).expect(200);
      // v1 has five criteria in Qualification, v2 four: each deal by the version it opened with, on either instance.
      for (const api of [a, b]) {
        expect((await api.http.post(`/opportunities/${old}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria).toHaveLength(5);
        expect((await api.http.post(`/opportunities/${fresh}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria).toHaveLength(4);
      }
      const versionEvents = (await a.http.get('/processes/standard').expect(200)).body.versions;
      expect(new Set(versionEvents.map((v: { version: string }) => v.version)).size).toBe(2);
      const run = stagecraft({ ...(await eventStoreEnv(eventStorePath)), PROCESSES_DIR: processesDir }, 'verify', '--all');
      expect(run.status).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }, 120_000);

  it('instances starting at once on different files (a rolling deploy) both start, and each deal is decided by the version it opened with', async () => {
    const { oldDir, newDir } = oldAndNewProcessDirs(dir.path, 'rolling');
    const eventStorePath = join(dir.path, 'rolling.db');
    // Before the fix the second to append lost the race on the process stream and its start-up threw.
    const [oldInstance, newInstance] = await Promise.all([
      startApiTestApp({ eventStorePath, processesDir: oldDir }),
      startApiTestApp({ eventStorePath, processesDir: newDir }),
    ]);
    try {
      const onOld = (await oldInstance.http.post('/opportunities').send({ title: 'Old file', processId: 'standard' }).expect(201)).body.id;
      const onNew = (await newInstance.http.post('/opportunities').send({ title: 'New file', processId: 'standard' }).expect(201)).body.id;
      const versions = (await oldInstance.http.get('/processes/standard').expect(200)).body.versions as { version: string }[];
      expect(new Set(versions.map((v) => v.version)).size).toBe(2);
      for (const api of [oldInstance, newInstance]) {
        for (const [id, unmet] of [[onOld, 5], [onNew, 4]] as const) {
          await api.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' });
          expect((await api.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria).toHaveLength(unmet);
        }
      }
      expect(stagecraft({ ...(await eventStoreEnv(eventStorePath)), PROCESSES_DIR: newDir }, 'verify', '--all').status).toBe(0);
    } finally {
      await Promise.all([oldInstance.close(), newInstance.close()]);
    }
  }, 120_000);

  it('an instance started before another recorded a version lists that version too: both answer GET /processes/:id alike', async () => {
    const { oldDir, newDir } = oldAndNewProcessDirs(dir.path, 'listing');
    const eventStorePath = join(dir.path, 'listing.db');
    const oldInstance = await startApiTestApp({ eventStorePath, processesDir: oldDir });
    const newInstance = await startApiTestApp({ eventStorePath, processesDir: newDir });
    try {
      const onNew = (await newInstance.http.get('/processes/standard').expect(200)).body.versions as { version: string; current: boolean }[];
      const onOld = (await oldInstance.http.get('/processes/standard').expect(200)).body.versions as { version: string; current: boolean }[];
      expect(onNew).toHaveLength(2);
      // The same recordings; `current` is each instance's own file.
      expect(onOld.map(({ current: _, ...rest }) => rest)).toEqual(onNew.map(({ current: _, ...rest }) => rest));
    } finally {
      await Promise.all([oldInstance.close(), newInstance.close()]);
    }
  }, 120_000);
});
