import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { withFileLock } from '../apps/api/src/auth/file-lock';
import { spawnApi, type ApiChildProcess } from './support/api-child-process';
import { ROOT, temporaryDirectory } from './support/api-test-app';
import { childNodeArgs } from './support/child-entry';
import { runKeysCli } from './support/api-keys-cli';

// The 503s only an operator can end, provoked as they happen (a real keys file and its lock, a
// real SQLite log another writer wrote into), each answer checked for what it tells the operator.

async function stop(api: ApiChildProcess | undefined): Promise<void> {
  if (!api) return;
  api.child.kill('SIGTERM');
  await api.exited();
}

/**
 * A log the API wrote (its process versions and one deal), into which another program then wrote
 * an OpportunityOpened without its data (as SQLite stores a JSON null), which no read model can
 * fold. Returns that event's position.
 */
async function logWithUnfoldableEvent(env: { EVENT_STORE_PATH: string; READ_MODELS_PATH: string }): Promise<number> {
  const api = await spawnApi(env);
  try {
    const opened = await fetch(`${api.baseUrl}/opportunities`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Acme', processId: 'standard' }) });
    expect(opened.status).toBe(201);
  } finally {
    await stop(api);
  }
  const db = new Database(env.EVENT_STORE_PATH);
  try {
    const last = db.prepare('SELECT * FROM events ORDER BY position DESC LIMIT 1').get() as Record<string, unknown>;
    const position = Number(last.position) + 1;
    const row = { ...last, position, id: '00000000-0000-4000-8000-0000000000ff', stream: 'opportunity-00000000-0000-4000-8000-0000000000aa', revision: 0, type: 'OpportunityOpened', data: 'null' };
    const columns = Object.keys(row);
    db.prepare(`INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`).run(row);
    return position;
  } finally {
    db.close();
  }
}

describe('problems an operator must act on, through the running API and CLI', () => {
  const dir = temporaryDirectory();
  afterAll(() => dir.remove());

  describe('API_KEY.FILE_BUSY', () => {
    const keysFile = `${dir.path}/api-keys.json`;
    const admin = generateApiKey({ name: 'operator', roles: ['admin'] }, new Date());
    let api: ApiChildProcess | undefined;
    beforeAll(async () => {
      writeFileSync(keysFile, JSON.stringify({ keys: [admin.stored] }), { mode: 0o600 });
      api = await spawnApi({ AUTH: 'on', EVENT_STORE_PATH: `${dir.path}/keys-events.db`, READ_MODELS_PATH: `${dir.path}/keys-read-models.db`, API_KEYS_FILE: keysFile });
    }, 60_000);
    afterAll(() => stop(api));

    it('is answered while another writer holds the keys file, by the API and by npm run api-keys, each saying what to do; both go through once it is released', async () => {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      // Another writer: this test process, holding the lock as the API and the CLI take it (alive, on this host: never stale).
      const writer = withFileLock(`${keysFile}.lock`, async () => {
        held();
        await released;
      });
      await holding;
      try {
        // Each waits out the lock's timeout (10 s) before it gives up: both at once.
        const [answer, cli] = await Promise.all([
          fetch(`${api!.baseUrl}/admin/api-keys`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'billing', roles: ['writer'] }),
          }),
          runKeysCli(keysFile, ['add', '--name', 'billing-cli', '--roles', 'writer']),
        ]);
        const problem = (await answer.json()) as { code: string; detail: string };
        expect([answer.status, problem.code, answer.headers.get('retry-after')]).toEqual([503, 'API_KEY.FILE_BUSY', '1']);
        // Retry, and where to look when it lasts; the server's paths are the operator's, never the client's.
        expect(problem.detail).toMatch(/retry/i);
        expect(problem.detail).toMatch(/server log/);
        expect(problem.detail).not.toContain(dir.path);
        // The log names the lock file and who holds it: this process.
        expect(api!.output()).toMatch(new RegExp(`${keysFile}\\.lock is held by process ${process.pid} on `));
        expect(cli.code).toBe(2);
        expect(cli.output).toContain(`${keysFile}.lock is held by process ${process.pid} on `);
        expect(cli.output).toMatch(/try again/);
        expect(cli.output).not.toMatch(/\n\s+at /);
      } finally {
        release();
        await writer;
      }
      const added = await runKeysCli(keysFile, ['add', '--name', 'billing-cli', '--roles', 'writer']);
      expect(added.code).toBe(0);
      const created = await fetch(`${api!.baseUrl}/admin/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'billing', roles: ['writer'] }),
      });
      expect(created.status).toBe(201);
    }, 90_000);
  });

  describe('PROJECTIONS.FAILED', () => {
    let api: ApiChildProcess | undefined;
    afterAll(() => stop(api));

    it('is answered by a read model stopped on an event another writer put in the log, naming the event and how to rebuild the model', async () => {
      const env = { EVENT_STORE_PATH: `${dir.path}/events.db`, READ_MODELS_PATH: `${dir.path}/read-models.db` };
      const position = await logWithUnfoldableEvent(env);

      // Not healthy: /health answers 503 with the reason, which is the point.
      api = await spawnApi(env, { healthy: (status) => status === 503 });
      const answer = await fetch(`${api.baseUrl}/pipeline`);
      const problem = (await answer.json()) as { code: string; detail: string };
      expect([answer.status, problem.code]).toEqual([503, 'PROJECTIONS.FAILED']);
      expect(answer.headers.get('retry-after')).toBe('30');
      // Which event, and what to do: fix the cause, then rebuild the model by the route that does it.
      expect(problem.detail).toContain(`(position ${position})`);
      expect(problem.detail).toContain('fix the cause');
      expect(problem.detail).toContain('POST /admin/projections/pipeline/rebuild');
      expect(api.output()).toMatch(new RegExp(`Projection pipeline stopped: .*\\(position ${position}\\)`));
    }, 90_000);

    it("names the projector's command, not this API's route, where another process projects (PROJECTIONS=external)", async () => {
      // The test before leaves its API for afterAll: stopped here, as this one starts its own.
      await stop(api);
      api = undefined;
      const env = { EVENT_STORE_PATH: `${dir.path}/external-events.db`, READ_MODELS_PATH: `${dir.path}/external-read-models.db` };
      const position = await logWithUnfoldableEvent(env);

      const projector = spawn(process.execPath, childNodeArgs('apps/projector/src/main'), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise((resolve) => projector.once('exit', resolve));
      let said = '';
      projector.stdout!.on('data', (chunk) => (said += chunk));
      projector.stderr!.on('data', (chunk) => (said += chunk));
      try {
        api = await spawnApi({ ...env, PROJECTIONS: 'external' }, { healthy: (status) => status === 200 || status === 503 });
        // Until the projector has saved the stopped models, the follower serves nothing yet (PROJECTIONS.UNAVAILABLE).
        // The event stops them before any is folded: before, that stop was never saved, and the API
        // served empty figures with 200s for as long as the projector ran.
        let problem: { code?: string; detail?: string } = {};
        for (let i = 0; i < 200 && problem.code !== 'PROJECTIONS.FAILED'; i++) {
          problem = (await (await fetch(`${api.baseUrl}/pipeline`)).json()) as typeof problem;
          if (problem.code !== 'PROJECTIONS.FAILED') await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const command = 'in the projector process: stop it, run npm run projections -- rebuild pipeline, and start it again';
        // This API's route would only answer PROJECTION.REBUILD_ELSEWHERE: the answer names the command that rebuilds.
        expect(problem).toMatchObject({ code: 'PROJECTIONS.FAILED', detail: expect.stringContaining(`(position ${position})`) });
        expect(problem.detail).toContain(`then rebuild it ${command}.`);
        expect(problem.detail).not.toContain('POST /admin/projections');
        // The same from a read-your-writes wait, refused at once.
        const waited = (await (await fetch(`${api.baseUrl}/pipeline?minPosition=${position}`)).json()) as typeof problem;
        expect(waited.code).toBe('PROJECTIONS.FAILED');
        expect(waited.detail).toContain(`then rebuild it ${command}.`);
        // And the route itself, asked anyway, says the same.
        const rebuild = await fetch(`${api.baseUrl}/admin/projections/pipeline/rebuild`, { method: 'POST' });
        const refusal = (await rebuild.json()) as typeof problem;
        expect([rebuild.status, refusal.code]).toEqual([409, 'PROJECTION.REBUILD_ELSEWHERE']);
        expect(refusal.detail).toContain(`rebuild pipeline ${command}.`);
        // The projector itself does not say "caught up" over models that stopped: it names them and the command.
        expect(said).toMatch(/Stagecraft projector started, but read models stopped \(said above\): pipeline, .*Fix the cause, then rebuild them in the projector process: stop it, run npm run projections -- rebuild pipeline /);
        expect(said).not.toContain('caught up');
      } finally {
        projector.kill('SIGTERM');
        await exited;
      }
    }, 90_000);
  });
});
