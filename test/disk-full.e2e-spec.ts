import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runApiUntilExit, spawnApi } from './support/api-child-process';
import { startApiTestApp, temporaryDirectory, type ApiTestApp } from './support/api-test-app';
import { E2E_STORE } from './support/e2e-store';
import { fillDisk, mountSmallDisk } from './support/small-disk';

// A full disk under the embedded store: commands answer 507 EVENT_STORE.DISK_FULL with
// Retry-After (never 500), nothing acknowledged is lost, /health is 503 naming the cause while it
// lasts, and writes resume once space is freed, without a restart. The disk is a tmpfs of a few
// MB, which only root can mount: elsewhere the test is skipped, and its title says why.

const dir = temporaryDirectory('stagecraft-disk-full-');
const mountPoint = join(dir.path, 'disk');

function whyNotHere(): string | undefined {
  if (E2E_STORE !== 'sqlite') return 'the embedded store only: a KurrentDB server keeps its own disk';
  return mountSmallDisk(mountPoint, '6m');
}

const skipped = whyNotHere();
const test = skipped === undefined ? it : it.skip;

/**
 * /health once it answers `status`, or its last answer. The read models are saved within 5 s of an
 * event (snapshotEveryMs), and a failed save is tried again as long after: their report lags.
 */
async function healthUntil(app: ApiTestApp, status: number) {
  let response = await app.anonymous.get('/health');
  for (let attempt = 0; attempt < 300 && response.status !== status; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    response = await app.anonymous.get('/health');
  }
  return response;
}

describe(`a full disk under the SQLite event store${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  let api: ApiTestApp | undefined;

  afterAll(async () => {
    await api?.close();
    if (skipped === undefined) execFileSync('umount', ['-l', mountPoint]);
    dir.remove();
  });

  test('answers 507 with Retry-After, loses nothing acknowledged, reports it on /health, and recovers without a restart', async () => {
    api = await startApiTestApp({
      eventStorePath: join(mountPoint, 'events.db'),
      env: { READ_MODELS_PATH: join(mountPoint, 'read-models.db'), STREAM_SNAPSHOTS_PATH: join(mountPoint, 'stream-snapshots.db') },
    });
    const acknowledged: string[] = [];
    const create = async (title: string) => {
      const response = await api!.http.post('/opportunities').send({ title: `${title} ${'x'.repeat(150)}`, processId: 'standard', amount: 1000 });
      if (response.status === 201) acknowledged.push(response.body.id);
      return response;
    };
    expect((await create('before')).status).toBe(201);

    const filler = fillDisk(mountPoint);
    // The WAL may still have room from earlier commits: keep writing until the store needs more.
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof create>> | undefined;
    for (let index = 0; index < 3000 && !refused; index += 1) {
      const response = await create(`while full ${index}`);
      statuses.push(response.status);
      if (response.status !== 201) refused = response;
    }
    expect(refused).toBeDefined();
    expect(statuses.filter((status) => status >= 500 && status !== 507)).toEqual([]);
    expect(refused!.status).toBe(507);
    expect(refused!.body.code).toBe('EVENT_STORE.DISK_FULL');
    expect(refused!.headers['retry-after']).toBe('30');
    expect(refused!.headers['content-type']).toContain('application/problem+json');

    const unhealthy = await api.anonymous.get('/health');
    expect(unhealthy.status).toBe(503);
    // An operator frees the space: ask again no sooner than the refused command was told to.
    expect(unhealthy.headers['retry-after']).toBe('30');
    expect(unhealthy.body.store.cannotWrite).toContain('is full');
    expect(unhealthy.body.store.cannotWrite).toContain(join(mountPoint, 'events.db'));
    // Reads go on: what was acknowledged is served.
    expect((await api.http.get(`/opportunities/${acknowledged[0]}`)).status).toBe(200);

    rmSync(filler);
    // The read models on the same disk may have failed a save too: cleared by the next one.
    const healthy = await healthUntil(api, 200);
    expect(healthy.status).toBe(200);
    expect(healthy.body.store.cannotWrite).toBeUndefined();
    const after = await create('after space was freed');
    expect(after.status).toBe(201);

    // Nothing acknowledged was lost, whether written before, during or after.
    for (const id of acknowledged) expect((await api.http.get(`/opportunities/${id}`)).status).toBe(200);
    const verify = await api.http.get(`/opportunities/${after.body.id}/verify`);
    expect(verify.body.ok).toBe(true);

    // And still there after a restart on the same file.
    await api.close();
    api = await startApiTestApp({
      eventStorePath: join(mountPoint, 'events.db'),
      env: { READ_MODELS_PATH: join(mountPoint, 'read-models.db'), STREAM_SNAPSHOTS_PATH: join(mountPoint, 'stream-snapshots.db') },
    });
    for (const id of acknowledged) expect((await api.http.get(`/opportunities/${id}`)).status).toBe(200);
  });

  // The read models on a disk of their own: commands go on (the log has room), but the models
  // kept in memory can no longer be saved, and a restart would replay the log from the last save.
  test('a read-models file that cannot be saved is reported on /health until a save succeeds again', async () => {
    await api?.close();
    const readModelsPath = join(mountPoint, 'read-models.db');
    api = await startApiTestApp({ eventStorePath: join(dir.path, 'events-beside.db'), env: { READ_MODELS_PATH: readModelsPath } });
    const create = (title: string) => api!.http.post('/opportunities').send({ title, processId: 'standard', amount: 1000 });
    expect((await create('before')).status).toBe(201);

    const filler = fillDisk(mountPoint);
    try {
      // A model large enough that its save needs pages the full disk has not got.
      for (let index = 0; index < 200; index += 1) expect((await create(`while full ${index} ${'y'.repeat(180)}`)).status).toBe(201);
      const unhealthy = await healthUntil(api, 503);
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.body.status).toBe('unavailable');
      expect(unhealthy.body.store.cannotWrite).toBeUndefined();
      expect(unhealthy.body.readModels.cannotSave).toContain(readModelsPath);
    } finally {
      rmSync(filler);
    }
    // No further event needed: the failed save is tried again by itself.
    const healthy = await healthUntil(api, 200);
    expect(healthy.status).toBe(200);
    expect(healthy.body.readModels).toBeUndefined();
  });

  test('key changes on a full disk answer 503 with Retry-After, and revoking a key that does not exist is 404 all the same', async () => {
    await api?.close();
    api = await startApiTestApp({ eventStorePath: join(mountPoint, 'events.db'), env: { API_KEYS_FILE: join(mountPoint, 'keys.json') } });
    const made = await api.http.post('/admin/api-keys').send({ name: 'before', roles: ['analyst'] });
    expect(made.status).toBe(201);

    const filler = fillDisk(mountPoint);
    try {
      const refused = [await api.http.post('/admin/api-keys').send({ name: 'while full', roles: ['analyst'] }), await api.http.delete(`/admin/api-keys/${made.body.id}`)];
      for (const response of refused) {
        expect([response.status, response.body.code]).toEqual([503, 'API_KEY.FILE_UNUSABLE']);
        expect(response.headers['retry-after']).toBe('30');
      }
      const unknown = await api.http.delete('/admin/api-keys/abcdef012345');
      expect([unknown.status, unknown.body.code]).toEqual([404, 'API_KEY.NOT_FOUND']);
    } finally {
      rmSync(filler);
    }
    expect((await api.http.delete(`/admin/api-keys/${made.body.id}`)).status).toBe(204);
  });

  test('a start on a full disk stops with one line naming the file and the full disk, and succeeds once space is freed', async () => {
    await api?.close();
    api = undefined;
    const env = {
      EVENT_STORE_PATH: join(mountPoint, 'events.db'),
      READ_MODELS_PATH: join(mountPoint, 'read-models.db'),
      STREAM_SNAPSHOTS_PATH: join(mountPoint, 'stream-snapshots.db'),
    };
    const filler = fillDisk(mountPoint);
    let refused: { code: number | null; output: string };
    try {
      refused = await runApiUntilExit(env);
    } finally {
      rmSync(filler);
    }
    // SQLite cannot size the -shm file a WAL-mode file needs beside it, and said only "disk I/O error".
    expect(refused.code).toBe(1);
    const reason = refused.output.slice(refused.output.indexOf('Stagecraft did not start.')).split('\n').filter((line) => line.trim() !== '');
    expect(reason).toHaveLength(2);
    expect(reason[1]).toMatch(new RegExp(`^${join(mountPoint, '')}\\S+\\.db \\([A-Z_]+\\) cannot be opened: the disk is full`));
    expect(refused.output).not.toMatch(/^\s+at /m);

    const started = await spawnApi(env);
    try {
      expect((await fetch(`${started.baseUrl}/health`)).status).toBe(200);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited();
    }
  });
});
