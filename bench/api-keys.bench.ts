// How long a key added or revoked in the keys file takes to apply on running API instances.
// Two API processes share one data folder; each round adds a key (as `npm run api-keys` does, under
// the file's lock) and times until both accept it, then revokes it and times until both refuse it.
// Run: npm run bench:api-keys [-- <rounds>]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { updateApiKeysFile, withoutKey, writeApiKeysFile } from '../apps/api/src/auth/api-keys.file';

const ROOT = join(__dirname, '..');
const rounds = Number(process.argv[2] ?? 20);

async function startApi(env: Record<string, string>, port: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'apps', 'api', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), AUTH: 'on', RATE_LIMIT_PER_MINUTE: '0', AUTH_FAILURES_PER_MINUTE: '0', ...env },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { url, child };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error('API did not start');
}

async function timeUntil(urls: string[], key: string, expected: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const answers = await Promise.all(urls.map((url) => fetch(`${url}/processes`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status)));
    if (answers.every((status) => status === expected)) return performance.now() - start;
    if (performance.now() - start > 30_000) throw new Error(`no ${expected} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil(p * values.length) - 1)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-keys-'));
  const file = join(dir, 'api-keys.json');
  writeApiKeysFile(file, [generateApiKey({ name: 'admin', roles: ['admin'] }, new Date()).stored]);
  const env = { EVENT_STORE_PATH: join(dir, 'events.db'), API_KEYS_FILE: file };
  const apis = [await startApi({ ...env, READ_MODELS_PATH: join(dir, 'a.db') }, 3901), await startApi({ ...env, READ_MODELS_PATH: join(dir, 'b.db') }, 3902)];
  const added: number[] = [];
  const revoked: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      const { key, stored } = generateApiKey({ name: `bench-${round}`, roles: ['analyst'] }, new Date());
      await updateApiKeysFile(file, ({ keys }) => ({ keys: [...keys, stored], result: undefined }));
      added.push(await timeUntil(apis.map((api) => api.url), key, 200));
      await updateApiKeysFile(file, ({ keys }) => withoutKey(keys, stored.id));
      revoked.push(await timeUntil(apis.map((api) => api.url), key, 401));
      // Rounds start at varied points of the 500 ms poll.
      await new Promise((resolve) => setTimeout(resolve, 137));
    }
  } finally {
    for (const api of apis) api.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${rounds} rounds, 2 API instances on one keys file, load average ${loadavg()[0]!.toFixed(2)} (${cpus().length} cores)`);
  for (const [label, values] of [['new key accepted by both', added], ['revoked key refused by both', revoked]] as const) {
    console.log(`${label.padEnd(30)} p50 ${percentile(values, 0.5).toFixed(0).padStart(5)} ms   p95 ${percentile(values, 0.95).toFixed(0).padStart(5)} ms   max ${Math.max(...values).toFixed(0).padStart(5)} ms   (target ≤ 2000 ms)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
