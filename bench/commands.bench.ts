// npm run bench:commands — commands per second through the whole API (Nest + validation + CQRS +
// read/fold/decide + durable group-committed append), against a bare Fastify route answering the
// same body and, to show where the time goes, a Nest route with the same DTO and no store. Each
// server runs in its own process on this machine, loaded by autocannon with 50 connections.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';

const ROOT = join(__dirname, '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const OPPORTUNITIES = 2_000;
const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];

async function waitFor(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

function startNode(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const BARE_SERVER = `
const app = require('fastify')();
app.post('/opportunities/:id/criteria', async (request) => ({ id: request.params.id, stage: 'qualification', status: 'open', revision: 1, position: 1 }));
app.get('/health', async () => ({ status: 'ok' }));
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

let authorization = '';

async function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

function summary(label: string, result: autocannon.Result) {
  const ok = result['2xx'];
  console.log(
    `${label.padEnd(34)} ${Math.round(result.requests.average).toLocaleString('en').padStart(8)} req/s   p50 ${String(result.latency.p50).padStart(3)} ms   p99 ${String(result.latency.p99).padStart(4)} ms   2xx ${ok}   other ${result.non2xx + result.errors + result.timeouts}`,
  );
  return result.requests.average;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-'));
  const apiPort = '3901';
  const barePort = '3902';
  const nodeArgs = process.env.BENCH_API_NODE_ARGS ? process.env.BENCH_API_NODE_ARGS.split(' ') : [];
  // Authentication stays on, as in production: one writer key, sent with every request.
  const { key, stored } = generateApiKey({ name: 'bench', roles: ['writer'] }, new Date());
  authorization = `Bearer ${key}`;
  const api = startNode([...nodeArgs, join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js')], {
    PORT: apiPort,
    HOST: '127.0.0.1',
    API_KEYS: JSON.stringify({ keys: [stored] }),
    API_KEYS_FILE: join(dir, 'api-keys.json'),
    RATE_LIMIT_PER_MINUTE: '0',
    EVENT_STORE_PATH: join(dir, 'events.db'),
    EVENT_STORE_DURABILITY: process.env.EVENT_STORE_DURABILITY ?? 'full',
  });
  const bare = startNode(['-e', BARE_SERVER], { PORT: barePort });
  const nestPort = '3903';
  const nest = startNode(['-r', '@swc-node/register', join(__dirname, 'support', 'nest-baseline.server.ts')], { PORT: nestPort });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const nestUrl = `http://127.0.0.1:${nestPort}`;
  try {
    await waitFor(`${apiUrl}/health`, api);
    await waitFor(`${bareUrl}/health`, bare);
    await waitFor(`${nestUrl}/health`, nest);

    // Opportunities in Qualification; the load toggles their criteria and moves them back and forth.
    const ids: string[] = [];
    for (let i = 0; i < OPPORTUNITIES; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, OPPORTUNITIES - i) }, async () => {
          const { id } = await post(apiUrl, '/opportunities', { title: 'Bench deal', processId: 'standard', amount: 1000 });
          await post(apiUrl, `/opportunities/${id}/move`, { stage: 'qualification' });
          return id as string;
        }),
      );
      ids.push(...batch);
    }
    const headBefore = ((await (await fetch(`${apiUrl}/health`)).json()) as { store: { headPosition: number } }).store.headPosition;

    // Each request changes something, so each acknowledged one appends an event: criteria are
    // toggled met/unmet, and every fourth request moves the deal New ⇄ Qualification.
    let counter = 0;
    const met = new Map<string, boolean>();
    const inQualification = new Map<string, boolean>(ids.map((id) => [id, true]));
    const commandRequest = {
      method: 'POST' as const,
      setupRequest: (request: autocannon.Request) => {
        const n = counter++;
        const id = ids[n % ids.length]!;
        if (n % 4 === 3) {
          const toQualification = !inQualification.get(id);
          inQualification.set(id, toQualification);
          return { ...request, path: `/opportunities/${id}/move`, headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ stage: toQualification ? 'qualification' : 'new' }) };
        }
        const criterionId = QUALIFICATION[Math.floor(n / ids.length) % QUALIFICATION.length]!;
        const key = `${id}/${criterionId}`;
        const next = !met.get(key);
        met.set(key, next);
        return { ...request, path: `/opportunities/${id}/criteria`, headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ criterionId, met: next }) };
      },
    };

    console.log(`Stagecraft command benchmark — ${CONNECTIONS} connections, ${DURATION_S} s each, SQLite durability FULL, API key auth, ${OPPORTUNITIES} opportunities`);
    const bareResult = await autocannon({
      url: bareUrl,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [{ method: 'POST', path: `/opportunities/${ids[0]}/criteria`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ criterionId: 'goals', met: true }) }],
    });
    const nestResult = await autocannon({
      url: nestUrl,
      connections: CONNECTIONS,
      duration: DURATION_S,
      requests: [{ method: 'POST', path: `/opportunities/${ids[0]}/criteria`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ criterionId: 'goals', met: true }) }],
    });
    const apiResult = await autocannon({ url: apiUrl, connections: CONNECTIONS, duration: DURATION_S, requests: [commandRequest] });
    const bareRate = summary('bare Fastify route (same body)', bareResult);
    const nestRate = summary('Nest route, same DTO, no store', nestResult);
    const apiRate = summary('Stagecraft commands (durable)', apiResult);
    const headAfter = ((await (await fetch(`${apiUrl}/health`)).json()) as { store: { headPosition: number } }).store.headPosition;
    console.log(`events appended during the run: ${(headAfter - headBefore).toLocaleString('en')} (2xx answers: ${apiResult['2xx'].toLocaleString('en')})`);
    console.log(`Nest route alone: ${(nestRate / bareRate).toFixed(2)}× bare Fastify`);
    console.log(`ratio: ${(apiRate / bareRate).toFixed(2)}× bare Fastify (target ≥ 0.35×)`);
  } finally {
    await Promise.all([stop(api), stop(bare), stop(nest)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
