import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startApiTestApp, temporaryDirectory } from './support/api-test-app';
import { childNodeArgs } from './support/child-entry';
import { eventStoreEnv } from './support/e2e-store';
import { E2E_READ_MODELS, readModelsEnv } from './support/e2e-read-models';

describe('projections in their own process (apps/projector) behind API instances', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  it('keeps the read models the API serves; the CLI reports and rebuilds them', async () => {
    const env = { ...(await eventStoreEnv(join(dir.path, 'events.db'))), ...(await readModelsEnv(join(dir.path, 'events.db'))), READ_MODELS_PATH: join(dir.path, 'read-models.db') };
    // The API records the process versions first, so the projector has a log to follow.
    const api = await startApiTestApp({ eventStorePath: env.EVENT_STORE_PATH, env: { ...env, PROJECTIONS: 'external', READ_YOUR_WRITES_TIMEOUT_MS: '10000' } });
    const projector = spawn(process.execPath, childNodeArgs('apps/projector/src/main'), {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    projector.stdout!.on('data', (chunk) => (output += chunk));
    projector.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => projector.once('exit', resolve));
    try {
      for (let i = 0; i < 300 && !output.includes('caught up'); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(output).toContain('Stagecraft projector caught up');

      const { position } = (await api.http.post('/opportunities').send({ title: 'Via the projector', processId: 'standard', teamId: 'direct', amount: 300 }).expect(201)).body;
      const board = (await api.http.get(`/pipeline?minPosition=${position}`).expect(200)).body;
      expect(board.processes.find((p: { processId: string }) => p.processId === 'standard').stages[0]).toMatchObject({ count: 1, amount: 300 });
      const health = (await api.anonymous.get('/health').expect(200)).body;
      expect(health.projections.every((p: { checkpoint: number }) => p.checkpoint >= position)).toBe(true);
      const rebuild = await api.http.post('/admin/projections/pipeline/rebuild').send({}).expect(409);
      expect(rebuild.body.code).toBe('PROJECTION.REBUILD_ELSEWHERE');
    } finally {
      projector.kill('SIGTERM');
      await exited;
      await api.close();
    }

    const cli = (...args: string[]) => spawnSync(process.execPath, [...childNodeArgs('apps/projector/src/projections.cli'), ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
    const status = cli('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^pipeline\s+checkpoint \d+ \(lag 0\)$/m);
    const rebuilt = cli('rebuild', 'pipeline', 'funnel');
    expect(rebuilt.status).toBe(0);
    // In PostgreSQL the six read models share a schema and are rebuilt together.
    expect(rebuilt.stdout).toMatch(E2E_READ_MODELS === 'postgres' ? /Rebuilt pipeline, win-loss, stage-durations, funnel, transitions, stage-intervals, win-probability up to position \d+ \(PostgreSQL schema / : /Rebuilt pipeline, funnel up to position \d+/);
    expect(rebuilt.stderr).toContain('100%');
    const unknown = cli('rebuild', 'nope');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown projection\(s\) "nope"; there are pipeline/);
  }, 60_000);

  it('the projector, the relay and the projections CLI refuse a store that is not there instead of making an empty one', () => {
    const missing = join(dir.path, 'typo', 'evnts.db');
    const env: NodeJS.ProcessEnv = { ...process.env, EVENT_STORE_PATH: missing, READ_MODELS_PATH: join(dir.path, 'typo-read-models.db'), RELAY_SINKS: 'https://127.0.0.1:9/hook', RELAY_WEBHOOK_SECRET: 'a-secret-of-at-least-32-characters-long', RELAY_STATE_PATH: join(dir.path, 'typo-relay.db') };
    delete env.EVENT_STORE_URL;
    delete env.READ_MODELS_URL;
    for (const entry of ['apps/projector/src/main', 'apps/relay/src/main', 'apps/projector/src/projections.cli']) {
      const run = spawnSync(process.execPath, [...childNodeArgs(entry), ...(entry.endsWith('cli') ? ['status'] : [])], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
      expect([entry, run.status]).toEqual([entry, 1]);
      expect(run.stderr).toMatch(/Invalid setting EVENT_STORE_PATH: names no event store/);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(missing)).toBe(false);
  }, 60_000);
});
