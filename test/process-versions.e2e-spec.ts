import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SHIPPED_PROCESSES, startApiTestApp, temporaryDirectory } from './support/api-test-app';
import { oldAndNewProcessDirs, withoutPainPoints } from './support/process-files';

describe('process definitions are versioned', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('records a changed file as a new version; an opportunity keeps the version it opened with', async () => {
    const processesDir = join(dir.path, 'processes');
    mkdirSync(processesDir);
    copyFileSync(join(SHIPPED_PROCESSES, 'standard.yaml'), join(processesDir, 'standard.yaml'));
    const eventStorePath = join(dir.path, 'events.db');

    const first = await startApiTestApp({ eventStorePath, processesDir });
    const before = (await first.http.post('/opportunities').send({ title: 'Before the change', processId: 'standard' }).expect(201)).body.id;
    await first.http.post(`/opportunities/${before}/move`).send({ stage: 'qualification' }).expect(200);
    const v1 = (await first.http.get('/processes/standard').expect(200)).body.version;
    await first.close();

    // The team drops "pain points" from Qualification's expected results.
    const file = join(processesDir, 'standard.yaml');
    writeFileSync(file, withoutPainPoints(readFileSync(file, 'utf8')));

    const second = await startApiTestApp({ eventStorePath, processesDir });
    try {
      const process = (await second.http.get('/processes/standard').expect(200)).body;
      expect(process.version).not.toBe(v1);
      expect(process.versions.map((v: { version: string; current: boolean }) => [v.version, v.current])).toEqual([
        [v1, false],
        [process.version, true],
      ]);

      const after = (await second.http.post('/opportunities').send({ title: 'After the change', processId: 'standard' }).expect(201)).body.id;
      await second.http.post(`/opportunities/${after}/move`).send({ stage: 'qualification' }).expect(200);
      const unmetAfter = (await second.http.post(`/opportunities/${after}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria;
      const unmetBefore = (await second.http.post(`/opportunities/${before}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria;
      expect(unmetAfter).toHaveLength(4);
      expect(unmetBefore).toHaveLength(5);
      expect((await second.http.get(`/opportunities/${before}`).expect(200)).body.processVersion).toBe(v1);
      // The board offers each deal its own version's moves: GET /processes/:id?version= answers that
      // version's definition and move table, and each live card names its version.
      const oldDetail = (await second.http.get(`/processes/standard?version=${v1}`).expect(200)).body;
      expect([oldDetail.version, oldDetail.versions.length]).toEqual([v1, 2]);
      expect(oldDetail.definition.stages.find((stage: { id: string }) => stage.id === 'qualification').exitCriteria.map((criterion: { id: string }) => criterion.id)).toContain('pain-points');
      const oldForward = oldDetail.moves.find((entry: { from: string }) => entry.from === 'qualification').options.find((option: { to: string }) => option.to === 'proposition');
      expect(oldForward.requiredCriteria).toContain('pain-points');
      expect((await second.http.get(`/processes/standard?version=deadbeef`).expect(404)).body.code).toBe('PROCESS.VERSION_NOT_FOUND');
      expect((await second.http.get(`/processes/standard?version=`).expect(400)).body.errors[0].field).toBe('version');
      const moved = (await second.http.post(`/opportunities/${after}/criteria`).send({ criterionId: 'goals', met: true }).expect(200)).body.position;
      const cards = (await second.http.get(`/pipeline?processId=standard&include=opportunities&minPosition=${moved}`).expect(200)).body.processes[0].stages.flatMap((stage: { opportunities: unknown[] }) => stage.opportunities);
      expect(Object.fromEntries(cards.map((card: { id: string; processVersion: string }) => [card.id, card.processVersion]))).toEqual({ [before]: v1, [after]: process.version });
      const oldMachine = (await second.http.get(`/processes/standard/machine?version=${v1}`).expect(200)).body;
      const forward = oldMachine.states.qualification.on.MOVE.find((t: { target: string }) => t.target === 'proposition');
      expect(forward.guard.params.required).toContain('pain-points');
    } finally {
      await second.close();
    }

    // A third start with the same file records nothing new.
    const third = await startApiTestApp({ eventStorePath, processesDir });
    expect((await third.http.get('/processes/standard').expect(200)).body.versions).toHaveLength(2);
    await third.close();
  });

  it('an instance still running the old definition serves and decides opportunities on a version another instance recorded since', async () => {
    const { oldDir, newDir } = oldAndNewProcessDirs(dir.path, 'rolling');
    const eventStorePath = join(dir.path, 'rolling.db');

    // A rolling deploy: the old instance keeps running while the new one starts and records v2.
    const oldInstance = await startApiTestApp({ eventStorePath, processesDir: oldDir, env: { READ_MODELS_PATH: join(dir.path, 'rolling-old.read-models.db') } });
    const newInstance = await startApiTestApp({ eventStorePath, processesDir: newDir, env: { READ_MODELS_PATH: join(dir.path, 'rolling-new.read-models.db') } });
    try {
      const v2 = (await newInstance.http.get('/processes/standard').expect(200)).body.version;
      const id = (await newInstance.http.post('/opportunities').send({ title: 'Opened on v2', processId: 'standard' }).expect(201)).body.id;

      expect((await oldInstance.http.get(`/opportunities/${id}`).expect(200)).body.processVersion).toBe(v2);
      await oldInstance.http.post(`/opportunities/${id}/move`).send({ stage: 'qualification' }).expect(200);
      // Decided by v2's rules (four criteria in Qualification), not the old instance's own file (five).
      expect((await oldInstance.http.post(`/opportunities/${id}/move`).send({ stage: 'proposition' }).expect(422)).body.unmetCriteria).toHaveLength(4);
    } finally {
      await newInstance.close();
      await oldInstance.close();
    }
  });

  it('a process whose file is removed is retired: its opportunities go on under their recorded versions, none opens on it, it is not listed', async () => {
    const bothDir = join(dir.path, 'both');
    const oneDir = join(dir.path, 'one');
    for (const [folder, files] of [[bothDir, ['standard.yaml', 'inside-sales.yaml']], [oneDir, ['standard.yaml']]] as const) {
      mkdirSync(folder);
      for (const name of files) copyFileSync(join(SHIPPED_PROCESSES, name), join(folder, name));
    }
    const eventStorePath = join(dir.path, 'retired.db');
    const before = await startApiTestApp({ eventStorePath, processesDir: bothDir, env: { READ_MODELS_PATH: join(dir.path, 'retired.read-models.db') } });
    const id = (await before.http.post('/opportunities').send({ title: 'On inside sales', processId: 'inside-sales' }).expect(201)).body.id;
    await before.http.post(`/opportunities/${id}/criteria`).send({ criterionId: 'contact-made', met: true }).expect(200);
    await before.close();

    const after = await startApiTestApp({ eventStorePath, processesDir: oneDir, env: { READ_MODELS_PATH: join(dir.path, 'retired.read-models.db') } });
    try {
      expect((await after.http.get(`/opportunities/${id}`).expect(200)).body).toMatchObject({ processId: 'inside-sales', stage: 'lead' });
      // Its recorded rules still decide: forward once the lead's criterion is met, never back.
      await after.http.post(`/opportunities/${id}/move`).send({ stage: 'quote' }).expect(200);
      expect((await after.http.post(`/opportunities/${id}/move`).send({ stage: 'lead' }).expect(422)).body.code).toBe('OPPORTUNITY.BACKWARD_NOT_ALLOWED');
      const opened = await after.http.post('/opportunities').send({ title: 'New on a retired process', processId: 'inside-sales' }).expect(404);
      expect(opened.body.code).toBe('PROCESS.NOT_FOUND');
      expect((await after.http.get('/processes').expect(200)).body.processes.map((process: { id: string }) => process.id)).toEqual(['standard']);
      // The timeline names its stages from the retired process's recorded version.
      const timeline = (await after.http.get(`/opportunities/${id}/history?view=timeline`).expect(200)).body;
      expect(JSON.stringify(timeline)).toContain('quote');
    } finally {
      await after.close();
    }
  });
});
