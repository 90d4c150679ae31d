import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';

type Api = ApiTestApp & { keys: Record<string, string> };

describe('migrating opportunities to a newer process version', () => {
  const dir = temporaryDirectory();
  const processesDir = join(dir.path, 'processes');
  const eventStorePath = join(dir.path, 'events.db');
  const file = join(processesDir, 'standard.yaml');
  let api: Api;
  let v1: string;
  let v2: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(processesDir);
    copyFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), file);
    const first = await startApiTestApp({ eventStorePath, processesDir });
    v1 = (await first.http.get('/processes/standard').expect(200)).body.version;
    const open = async (title: string) => (await first.http.post('/opportunities').send({ title, processId: 'standard', teamId: 'direct', amount: 100, occurredAt: '2026-03-01T09:00:00Z' }).expect(201)).body.id as string;
    ids.qualifying = await open('Qualifying');
    await first.http.post(`/opportunities/${ids.qualifying}/move`).send({ stage: 'qualification', occurredAt: '2026-03-02T09:00:00Z' }).expect(200);
    for (const criterionId of ['need-confirmed', 'pain-points']) {
      await first.http.post(`/opportunities/${ids.qualifying}/criteria`).send({ criterionId, met: true, occurredAt: '2026-03-03T09:00:00Z' }).expect(200);
    }
    ids.fresh = await open('Fresh');
    ids.fresh2 = await open('Fresh too');
    ids.lost = await open('Lost');
    await first.http.post(`/opportunities/${ids.lost}/lose`).send({ reason: 'price', occurredAt: '2026-03-02T09:00:00Z' }).expect(200);
    await first.close();

    // v2: "qualification" becomes "discovery" (an id change), without the pain-points criterion.
    const yaml = readFileSync(file, 'utf8')
      .replace('- id: qualification\n    name: Qualification', '- id: discovery\n    name: Discovery')
      .replace(/^\s+- \{ id: pain-points,.*\n/m, '');
    expect(yaml).toContain('id: discovery');
    writeFileSync(file, yaml);
    api = await startApiTestApp({ eventStorePath, processesDir });
    v2 = (await api.http.get('/processes/standard').expect(200)).body.version;
  });
  afterAll(async () => {
    await api?.close();
    dir.remove();
  });

  it('refuses what cannot be migrated, each with its code', async () => {
    const migrate = (id: string, body: object) => api.http.post(`/opportunities/${id}/migrate`).send(body);
    expect((await migrate(ids.qualifying!, { toVersion: v2 }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.UNMAPPED_STAGE', stage: 'qualification' });
    expect((await migrate(ids.qualifying!, { toVersion: v2, stageMapping: { qualification: 'closing' } }).expect(422)).body.code).toBe('OPPORTUNITY.INVALID_STAGE_MAPPING');
    expect((await migrate(ids.qualifying!, { toVersion: v1 }).expect(422)).body.code).toBe('OPPORTUNITY.NOT_A_NEWER_VERSION');
    expect((await migrate(ids.lost!, { toVersion: v2 }).expect(422)).body.code).toBe('OPPORTUNITY.ALREADY_CLOSED');
    // A key named like an inherited property (a valid stage id) is an entry of the mapping like any other: judged, not dropped.
    const answer = await migrate(ids.qualifying!, { toVersion: v2, stageMapping: { qualification: 'discovery', constructor: 'new' } }).expect(422);
    expect(answer.body).toMatchObject({ code: 'OPPORTUNITY.INVALID_STAGE_MAPPING', problem: 'unknown-source-stage', from: 'constructor' });
    // A mapping is judged against the two versions alone: on the bulk route, once, as the single route judges it.
    const bulk = await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping: { qualification: 'discovery', constructor: 'new' } }).expect(422);
    expect(bulk.body).toMatchObject({ code: 'OPPORTUNITY.INVALID_STAGE_MAPPING', problem: 'unknown-source-stage', from: 'constructor' });
  });

  it('answers the bulk route as the single-deal route: an unknown version or one not newer is 422 with its code, before anything is migrated', async () => {
    const bulk = (body: object) => api.http.post('/processes/standard/migrate').send(body);
    const single = (body: object) => api.http.post(`/opportunities/${ids.fresh}/migrate`).send(body);
    const before = (await api.http.get(`/opportunities/${ids.fresh}/history`).expect(200)).body.events.length;
    // Same version on both sides: open deals are on it, yet the answer is a refusal, not "nothing migrated".
    expect((await bulk({ fromVersion: v1, toVersion: v1 }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.NOT_A_NEWER_VERSION', fromVersion: v1, toVersion: v1 });
    expect((await single({ toVersion: v1 }).expect(422)).body.code).toBe('OPPORTUNITY.NOT_A_NEWER_VERSION');
    // Backwards: refused once, not once per deal inside a 200.
    expect((await bulk({ fromVersion: v2, toVersion: v1 }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.NOT_A_NEWER_VERSION', fromVersion: v2, toVersion: v1 });
    // A version none recorded, named in the body: the same status and code on both routes, naming the field.
    const unknownOnSingle = await single({ toVersion: 'deadbeef' }).expect(422);
    const unknownOnBulk = await bulk({ fromVersion: v1, toVersion: 'deadbeef' }).expect(unknownOnSingle.status);
    expect(unknownOnBulk.body).toMatchObject({ code: unknownOnSingle.body.code, version: 'deadbeef', field: 'toVersion' });
    expect((await bulk({ fromVersion: 'deadbeef', toVersion: v2 }).expect(422)).body).toMatchObject({ code: 'OPPORTUNITY.UNKNOWN_PROCESS_VERSION', version: 'deadbeef', field: 'fromVersion' });
    expect((await api.http.get(`/opportunities/${ids.fresh}/history`).expect(200)).body.events).toHaveLength(before);
  });

  it.each([
    ['from a stage neither version has', { nowhere: 'new' }, 'unknown-source-stage'],
    ['to a stage the new version lacks', { qualification: 'nowhere' }, 'unknown-target-stage'],
    ['of a stage the new version keeps', { new: 'discovery' }, 'stage-still-exists'],
    ['past the stage after it', { qualification: 'negotiation' }, 'past-next-stage'],
  ])('refuses a bulk stage mapping %s once with 422, as the single route does, whether or not any deal is open on fromVersion', async (_case, stageMapping, problem) => {
    const single = await api.http.post(`/opportunities/${ids.qualifying}/migrate`).send({ toVersion: v2, stageMapping }).expect(422);
    expect(single.body).toMatchObject({ code: 'OPPORTUNITY.INVALID_STAGE_MAPPING', problem });
    const bulk = await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping }).expect(422);
    expect(bulk.body).toMatchObject({ code: 'OPPORTUNITY.INVALID_STAGE_MAPPING', problem });
  });

  it('migrates one opportunity: the visit continues under the mapped stage, with the criteria the new stage still has', async () => {
    const answer = (await api.http.post(`/opportunities/${ids.qualifying}/migrate`).send({ toVersion: v2, stageMapping: { qualification: 'discovery' }, note: 'new process', occurredAt: '2026-03-05T09:00:00Z' }).expect(200)).body;
    expect(answer).toMatchObject({ stage: 'discovery', status: 'open', revision: 4 });
    const now = (await api.http.get(`/opportunities/${ids.qualifying}`).expect(200)).body;
    expect(now).toMatchObject({ processVersion: v2, stage: 'discovery', stageName: 'Discovery', stageEnteredAt: '2026-03-02T09:00:00.000Z', criteriaMet: ['need-confirmed'] });
    const history = (await api.http.get(`/opportunities/${ids.qualifying}/history`).expect(200)).body.events;
    expect(history[4]).toMatchObject({
      type: 'ProcessMigrated',
      data: { processId: 'standard', fromVersion: v1, toVersion: v2, stageMapping: { qualification: 'discovery' }, fromStage: 'qualification', toStage: 'discovery', criteriaKept: ['need-confirmed'], note: 'new process' },
    });
    // As of before the migration it is still on v1, in qualification.
    expect((await api.http.get(`/opportunities/${ids.qualifying}?asOf=2026-03-04T00:00:00Z`).expect(200)).body).toMatchObject({ processVersion: v1, stage: 'qualification', stageName: 'Qualification' });
    const { steps } = (await api.http.get(`/opportunities/${ids.qualifying}/history?view=timeline`).expect(200)).body;
    expect(steps.at(-1)).toMatchObject({ kind: 'migrated', stageBefore: 'qualification', stageAfter: 'discovery', fromVersion: v1, processVersion: v2, note: 'new process' });
    expect((await api.http.get(`/opportunities/${ids.qualifying}/verify`).expect(200)).body.ok).toBe(true);
    // The new version now decides.
    await api.http.post(`/opportunities/${ids.qualifying}/move`).send({ stage: 'proposition' }).expect(422);
  });

  it('migrates every open opportunity of a version at once, and only those', async () => {
    const report = (await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping: { qualification: 'discovery' } }).expect(200)).body;
    expect(report).toEqual({ processId: 'standard', fromVersion: v1, toVersion: v2, migrated: [ids.fresh, ids.fresh2].sort(), refused: [] });
    for (const id of [ids.fresh, ids.fresh2]) expect((await api.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ processVersion: v2, stage: 'new' });
    expect((await api.http.get(`/opportunities/${ids.lost}`).expect(200)).body.processVersion).toBe(v1);
    // Again: nothing left on v1 that is open.
    expect((await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2 }).expect(200)).body.migrated).toEqual([]);
    // With none to migrate, a mapping no deal could be migrated by is refused all the same, not "nothing migrated".
    expect((await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, stageMapping: { nowhere: 'new' } }).expect(422)).body.code).toBe('OPPORTUNITY.INVALID_STAGE_MAPPING');
  });

  it('a bulk migration retried with its Idempotency-Key answers as the first did, each deal replayed, nothing migrated twice', async () => {
    // The one deal left on v1 (lost there), reopened: open on v1 again.
    await api.http.post(`/opportunities/${ids.lost}/reopen`).send({}).expect(200);
    const key = randomUUID();
    const send = (note: string) => api.http.post('/processes/standard/migrate').set('Idempotency-Key', key).send({ fromVersion: v1, toVersion: v2, note });
    const first = await send('To v2').expect(200);
    expect(first.body).toEqual({ processId: 'standard', fromVersion: v1, toVersion: v2, migrated: [ids.lost], refused: [] });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // Its answer lost, the client sends it again: the report of what the key migrated, said to be a replay.
    const again = await send('To v2').expect(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const migrations = ((await api.http.get(`/opportunities/${ids.lost}/history`).expect(200)).body.events as { type: string }[]).filter((event) => event.type === 'ProcessMigrated');
    expect(migrations).toHaveLength(1);
    // The key with another body: each deal it migrated says the key was used for another request.
    const other = await send('Another note').expect(200);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(other.body).toMatchObject({ migrated: [], refused: [{ opportunityId: ids.lost, status: 422, code: 'COMMAND.IDEMPOTENCY_KEY_REUSED' }] });
    // Without a key, a run again finds nothing left on v1, as before.
    expect((await api.http.post('/processes/standard/migrate').send({ fromVersion: v1, toVersion: v2, note: 'To v2' }).expect(200)).body.migrated).toEqual([]);
  });
});
