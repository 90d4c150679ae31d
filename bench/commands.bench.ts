// npm run bench:commands [-- --large] — commands through the whole API (Nest + validation + auth +
// read/fold/decide + durable group-committed append), measured against a bare Fastify route
// answering the same body and a Nest route with the same kind of DTO and no store. Each server is
// a process of its own on this machine, loaded by autocannon (50 connections) from this process.
//
// Paired and interleaved: every round loads each server once, in a rotating order, and the
// figures printed are medians over the rounds (ratios are taken within a round, then the median).
// CPU per request is the server process's user + system time over the load window (/proc), all
// threads together and its main thread (the event loop) alone.
//
// --large: the same command load on an API whose store already holds ~1M events (written by
// bench/support/history-store.ts) against one on an empty store, paired the same way; then,
// one at a time on an API with no stream cache, commands on a 5,000-event and a 10-event stream.
//
// --profile: the same command load on the API alone, with V8's sampling profiler on its event loop
// for the load window only (not start-up, not the set-up commands); prints the functions with the
// most time of their own, the most time in all, and the time per package or source folder
// (BENCH_PROFILE_TOP=<n> lines; BENCH_PROFILE_SAVE=<file> keeps the raw profile).
// --profile --allocations: V8's sampling heap profiler instead (every allocation sampled, those
// garbage collection freed included): the bytes each command allocates, per function and place.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { generateApiKey } from '../apps/api/src/auth/api-key.credentials';
import { summariseAllocations, summariseProfile, type CpuProfile, type ProfileLine, type SamplingHeapProfile } from './support/cpu-profile';
import { writeHistoryStore, writeLongOpportunity } from './support/history-store';
import { sampleCpu, type CpuSample } from './support/process-cpu';

const ROOT = join(__dirname, '..');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const OPPORTUNITIES = 2_000;
const LARGE_EVENTS = Number(process.env.BENCH_LARGE_EVENTS ?? 1_000_000);
const UNCACHED_COMMANDS = Number(process.env.BENCH_UNCACHED_COMMANDS ?? 100);
const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
// BENCH_COMPARE_MAIN=<another build's dist/apps/api/src/main.js>: the same load on that build too,
// in the same rounds (for before/after figures under the same machine load).
const COMPARE_MAIN = process.env.BENCH_COMPARE_MAIN;
const API_MAIN = join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
const LONG_STREAM = '00000000-0000-4000-9000-000000005000';
const SHORT_STREAM = '00000000-0000-4000-9000-000000000010';

interface Server {
  readonly label: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** What one request of the load is; each call gives the next. */
  readonly load: autocannon.Request[];
}

interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly answered: number;
  readonly failed: number;
  /** µs of CPU per answered request: every thread of the server, and its main thread alone. */
  readonly cpuUs?: number;
  readonly mainThreadUs?: number;
  readonly load1: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const loadAverage = () => loadavg().map((value) => value.toFixed(2)).join(' / ');

/** fdatasync calls per second on the disk the stores live on, for a second: what bounds a durable commit. */
function fdatasyncRate(dir: string): number {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const page = Buffer.alloc(4096, 1);
  let syncs = 0;
  const until = performance.now() + 1_000;
  try {
    while (performance.now() < until) {
      writeSync(fd, page, 0, page.length, 0);
      fdatasyncSync(fd);
      syncs += 1;
    }
  } finally {
    closeSync(fd);
  }
  return syncs;
}
const fixed = (value: number | undefined, digits = 0) => (value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));

async function waitFor(url: string, child: ChildProcess, attempts = 600): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

function startNode(args: string[], env: Record<string, string>, ipc = false): ChildProcess {
  return spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit', ...(ipc ? (['ipc'] as const) : [])] });
}

async function stop(child: ChildProcess): Promise<void> {
  // Ended by a signal, a child has no exit code but a signal code: either means it is gone.
  if (child.exitCode !== null || child.signalCode !== null) return;
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
const headers = () => ({ 'content-type': 'application/json', authorization });

async function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: headers(), body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

// BENCH_PORT_BASE=<port>: the ports the servers listen on start there (the Nest route, bare Fastify,
// then one per API), so two runs on one machine do not answer each other's requests.
const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 3898);
let nextPort = PORT_BASE + 3;
function startApi(
  label: string,
  dir: string,
  eventStorePath: string,
  extraEnv: Record<string, string> = {},
  main = API_MAIN,
  nodeArgs: readonly string[] = [main],
): { label: string; url: string; child: ChildProcess; readModelsPath: string } {
  const port = nextPort++;
  const readModelsPath = extraEnv.READ_MODELS_PATH ?? `${eventStorePath}.read-models-${port}.db`;
  const child = startNode(
    ['--max-old-space-size=2048', ...nodeArgs],
    {
    PORT: String(port),
    HOST: '127.0.0.1',
    API_KEYS: JSON.stringify({ keys: [apiKey.stored] }),
    API_KEYS_FILE: join(dir, `api-keys-${port}.json`),
    RATE_LIMIT_PER_MINUTE: '0',
    EVENT_STORE_PATH: eventStorePath,
    EVENT_STORE_DURABILITY: process.env.EVENT_STORE_DURABILITY ?? 'full',
      ...extraEnv,
      READ_MODELS_PATH: readModelsPath,
    },
    nodeArgs[0] === '-e',
  );
  return { label, url: `http://127.0.0.1:${port}`, child, readModelsPath };
}

/** 2,000 deals in Qualification; the load toggles their criteria and moves them New ⇄ Qualification. */
async function commandLoad(url: string): Promise<autocannon.Request[]> {
  const ids: string[] = [];
  for (let i = 0; i < OPPORTUNITIES; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, OPPORTUNITIES - i) }, async () => {
        const { id } = await post(url, '/opportunities', { title: 'Bench deal', processId: 'standard', amount: 1000 });
        await post(url, `/opportunities/${id}/move`, { stage: 'qualification' });
        return id as string;
      }),
    );
    ids.push(...batch);
  }
  // Each request changes something, so each acknowledged one appends an event.
  let counter = 0;
  const met = new Map<string, boolean>();
  const inQualification = new Map<string, boolean>(ids.map((id) => [id, true]));
  return [
    {
      method: 'POST',
      setupRequest: (request: autocannon.Request) => {
        const n = counter++;
        const id = ids[n % ids.length]!;
        if (n % 4 === 3) {
          const toQualification = !inQualification.get(id);
          inQualification.set(id, toQualification);
          return { ...request, path: `/opportunities/${id}/move`, headers: headers(), body: JSON.stringify({ stage: toQualification ? 'qualification' : 'new' }) };
        }
        const criterionId = QUALIFICATION[Math.floor(n / ids.length) % QUALIFICATION.length]!;
        const key = `${id}/${criterionId}`;
        const next = !met.get(key);
        met.set(key, next);
        return { ...request, path: `/opportunities/${id}/criteria`, headers: headers(), body: JSON.stringify({ criterionId, met: next }) };
      },
    },
  ];
}

const constantLoad = (id: string): autocannon.Request[] => [
  { method: 'POST', path: `/opportunities/${id}/criteria`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ criterionId: 'goals', met: true }) },
];

async function measure(server: Server): Promise<Measured> {
  const pid = server.child.pid!;
  const load1 = loadavg()[0]!;
  const before = sampleCpu(pid);
  const result = await autocannon({ url: server.url, connections: CONNECTIONS, duration: DURATION_S, requests: server.load });
  const after = sampleCpu(pid);
  const answered = result['2xx'];
  const perRequest = (pick: (sample: CpuSample) => number) => (before && after && answered > 0 ? ((pick(after) - pick(before)) * 1e6) / answered : undefined);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    answered,
    failed: result.non2xx + result.errors + result.timeouts,
    cpuUs: perRequest((sample) => sample.process),
    mainThreadUs: perRequest((sample) => sample.mainThread),
    load1,
  };
}

/** Rounds of every server once each, the order rotating; returns each server's figures per round. */
async function rounds(servers: readonly Server[]): Promise<Measured[][]> {
  const figures: Measured[][] = servers.map(() => []);
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = servers.map((_, index) => (index + round) % servers.length);
    for (const index of order) {
      const measured = await measure(servers[index]!);
      figures[index]!.push(measured);
      console.log(
        `  round ${round + 1}  ${servers[index]!.label.padEnd(46)} ${Math.round(measured.rps).toLocaleString('en').padStart(7)} req/s  p50 ${fixed(measured.p50, 1).padStart(5)} ms  p99 ${fixed(measured.p99, 1).padStart(6)} ms  CPU ${fixed(measured.cpuUs).padStart(4)} µs/req (main thread ${fixed(measured.mainThreadUs).padStart(4)})  non-2xx ${measured.failed}  load ${measured.load1.toFixed(2)}`,
      );
    }
  }
  return figures;
}

function summaryLine(label: string, figures: readonly Measured[]): string {
  const m = (pick: (f: Measured) => number | undefined) => {
    const values = figures.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  return `${label.padEnd(46)} ${Math.round(m((f) => f.rps)!).toLocaleString('en').padStart(7)} req/s  p50 ${fixed(m((f) => f.p50), 1).padStart(5)} ms  p99 ${fixed(m((f) => f.p99), 1).padStart(6)} ms  CPU ${fixed(m((f) => f.cpuUs)).padStart(4)} µs/req (main thread ${fixed(m((f) => f.mainThreadUs)).padStart(4)})`;
}

/** Median over rounds of a within-round ratio. */
const pairedRatio = (a: readonly Measured[], b: readonly Measured[], pick: (f: Measured) => number) => median(a.map((f, round) => pick(f) / pick(b[round]!)));

const apiKey = generateApiKey({ name: 'bench', roles: ['writer'] }, new Date());

async function main(): Promise<void> {
  authorization = `Bearer ${apiKey.key}`;
  const large = process.argv.includes('--large');
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-bench-'));
  const started: ChildProcess[] = [];
  try {
    console.log(`Stagecraft command benchmark${large ? ' --large' : ''} — ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} rounds, SQLite durability ${process.env.EVENT_STORE_DURABILITY ?? 'full'}, API key auth, ${OPPORTUNITIES} opportunities`);
    console.log(`load average at start (1 / 5 / 15 min): ${loadAverage()} on ${cpus().length} cores; fdatasync ${fdatasyncRate(dir)}/s on the stores' disk`);
    if (large) await largeMode(dir, started);
    else if (process.argv.includes('--profile')) await profileMode(dir, started);
    else await defaultMode(dir, started);
    console.log(`load average at end (1 / 5 / 15 min): ${loadAverage()}; fdatasync ${fdatasyncRate(dir)}/s`);
  } finally {
    await Promise.all(started.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function defaultMode(dir: string, started: ChildProcess[]): Promise<void> {
  const api = startApi('Stagecraft commands (durable)', dir, join(dir, 'events.db'));
  const bare = { label: 'bare Fastify route (same body)', url: `http://127.0.0.1:${PORT_BASE + 1}`, child: startNode(['-e', BARE_SERVER], { PORT: String(PORT_BASE + 1) }) };
  const nest = { label: 'Nest route, same DTO, no store', url: `http://127.0.0.1:${PORT_BASE}`, child: startNode(['-r', '@swc-node/register', join(__dirname, 'support', 'nest-baseline.server.ts')], { PORT: String(PORT_BASE) }) };
  const baseline = COMPARE_MAIN ? startApi('commands, BENCH_COMPARE_MAIN build', dir, join(dir, 'baseline.db'), {}, COMPARE_MAIN) : undefined;
  started.push(api.child, bare.child, nest.child, ...(baseline ? [baseline.child] : []));
  await Promise.all([api, bare, nest, ...(baseline ? [baseline] : [])].map((server) => waitFor(`${server.url}/health`, server.child)));
  const id = crypto.randomUUID();
  const servers: Server[] = [
    { ...bare, load: constantLoad(id) },
    { ...nest, load: constantLoad(id) },
    { ...api, load: await commandLoad(api.url) },
    ...(baseline ? [{ ...baseline, load: await commandLoad(baseline.url) }] : []),
  ];
  const figures = await rounds(servers);
  const [bareFigures, nestFigures, apiFigures] = figures;
  console.log(`\nmedians of ${ROUNDS} rounds:`);
  for (const [index, server] of servers.entries()) console.log(summaryLine(server.label, figures[index]!));
  if (baseline) {
    const cpuRatio = (pick: (f: Measured) => number | undefined) => pairedRatio(apiFigures!, figures[3]!, (f) => pick(f) ?? NaN).toFixed(2);
    console.log(
      `this build vs BENCH_COMPARE_MAIN (medians of within-round ratios): ${pairedRatio(apiFigures!, figures[3]!, (f) => f.rps).toFixed(2)}× the commands per second, ${cpuRatio((f) => f.cpuUs)}× the CPU per command (main thread ${cpuRatio((f) => f.mainThreadUs)}×)`,
    );
  }
  const apiToBare = pairedRatio(apiFigures!, bareFigures!, (f) => f.rps);
  const cpu = median(apiFigures!.map((f) => f.cpuUs ?? NaN));
  console.log(`Nest route alone: ${pairedRatio(nestFigures!, bareFigures!, (f) => f.rps).toFixed(2)}× bare Fastify`);
  console.log(`durable commands: ${apiToBare.toFixed(2)}× bare Fastify (target ≥ 0.3×: ${apiToBare >= 0.3 ? 'met' : 'NOT met'}), ${pairedRatio(apiFigures!, nestFigures!, (f) => f.rps).toFixed(2)}× the Nest route`);
  console.log(`CPU per durable command: ${fixed(cpu)} µs, of which the main thread ${fixed(median(apiFigures!.map((f) => f.mainThreadUs ?? NaN)))} µs (target ≤ 150 µs: ${cpu <= 150 ? 'met' : 'NOT met'})`);
}

// The API with an in-process profiler switched by messages on the IPC channel (not signals: Nest's
// shutdown hooks take them all): 'start' samples the event loop, 'stop' writes the profile to
// PROFILE_OUT (renamed into place when complete).
const PROFILED_API = (main: string) => `
const inspector = require('node:inspector');
const fs = require('node:fs');
const session = new inspector.Session();
session.connect();
process.on('message', (message) => {
  if (message === 'start') {
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
    return;
  }
  if (message === 'start allocations') {
    session.post('HeapProfiler.enable', () => session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }));
    return;
  }
  session.post(message === 'stop allocations' ? 'HeapProfiler.stopSampling' : 'Profiler.stop', (error, result) => {
    if (error) throw error;
    fs.writeFileSync(process.env.PROFILE_OUT + '.part', JSON.stringify(result.profile));
    fs.renameSync(process.env.PROFILE_OUT + '.part', process.env.PROFILE_OUT);
  });
});
process.channel.unref();
require(${JSON.stringify(main)});
`;

async function profileMode(dir: string, started: ChildProcess[]): Promise<void> {
  const profileOut = join(dir, 'api.cpuprofile');
  // BENCH_PROFILE_MAIN=<another build's dist/apps/api/src/main.js>: profile that build instead (a before figure).
  const profiled = process.env.BENCH_PROFILE_MAIN ?? API_MAIN;
  const api = startApi('Stagecraft commands (durable), profiled', dir, join(dir, 'events.db'), { PROFILE_OUT: profileOut }, profiled, ['-e', PROFILED_API(profiled)]);
  started.push(api.child);
  await waitFor(`${api.url}/health`, api.child);
  const server: Server = { ...api, load: await commandLoad(api.url) };
  // A short unprofiled run first, so the profile shows the warm path, not the JIT warming up.
  await autocannon({ url: server.url, connections: CONNECTIONS, duration: 3, requests: server.load });
  const allocations = process.argv.includes('--allocations');
  api.child.send(allocations ? 'start allocations' : 'start');
  await new Promise((resolve) => setTimeout(resolve, 200));
  const measured = await measure(server);
  api.child.send(allocations ? 'stop allocations' : 'stop');
  for (let i = 0; i < 300 && !existsSync(profileOut); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
  // BENCH_PROFILE_SAVE=<file>: keep the raw profile (open it in Chrome's DevTools or VS Code).
  if (process.env.BENCH_PROFILE_SAVE) copyFileSync(profileOut, process.env.BENCH_PROFILE_SAVE);
  if (allocations) {
    const summary = summariseAllocations(JSON.parse(readFileSync(profileOut, 'utf8')) as SamplingHeapProfile, Number(process.env.BENCH_PROFILE_TOP ?? 30));
    const perCommand = (bytes: number) => (measured.answered > 0 ? bytes / measured.answered : NaN);
    console.log(`${Math.round(measured.rps).toLocaleString('en')} req/s, ${measured.answered.toLocaleString('en')} answered; allocated on the event loop: ${fixed(perCommand(summary.totalBytes))} bytes per answered command (sampled)`);
    for (const [title, lines] of [
      ['bytes allocated, by package or source folder:', summary.byPlace],
      ['bytes allocated, by function (its own):', summary.self],
    ] as const) {
      console.log(`\n${title}`);
      for (const line of lines) console.log(`  ${(line.share * 100).toFixed(1).padStart(5)} %  ${fixed(perCommand(line.micros)).padStart(6)} B/cmd  ${line.name}`);
    }
    return;
  }
  const summary = summariseProfile(JSON.parse(readFileSync(profileOut, 'utf8')) as CpuProfile, Number(process.env.BENCH_PROFILE_TOP ?? 30));
  console.log(
    `${Math.round(measured.rps).toLocaleString('en')} req/s, p50 ${fixed(measured.p50, 1)} ms, p99 ${fixed(measured.p99, 1)} ms, CPU ${fixed(measured.cpuUs)} µs/command (main thread ${fixed(measured.mainThreadUs)}), non-2xx ${measured.failed} (the profiler itself costs some of it)`,
  );
  const perCommand = (micros: number) => (measured.answered > 0 ? micros / measured.answered : NaN);
  console.log(`event loop busy ${(summary.busyMicros / 1e6).toFixed(2)} s of ${(summary.totalMicros / 1e6).toFixed(2)} s sampled: ${fixed(perCommand(summary.busyMicros))} µs per answered command`);
  const table = (title: string, lines: readonly ProfileLine[]) => {
    console.log(`\n${title}`);
    for (const line of lines) console.log(`  ${(line.share * 100).toFixed(1).padStart(5)} %  ${fixed(perCommand(line.micros), 1).padStart(6)} µs/cmd  ${line.name}`);
  };
  table('self time, by package or source folder:', summary.byPlace);
  table('self time, by function:', summary.self);
  table('total time (with callees), by function:', summary.total);
}

async function largeMode(dir: string, started: ChildProcess[]): Promise<void> {
  const largePath = join(dir, 'large.db');
  const written = await writeHistoryStore(largePath, LARGE_EVENTS);
  await writeLongOpportunity(largePath, LONG_STREAM, 5_000);
  await writeLongOpportunity(largePath, SHORT_STREAM, 10);
  console.log(`wrote ${written.events.toLocaleString('en')} events (${written.opportunities.toLocaleString('en')} opportunities) in ${written.seconds.toFixed(1)} s, plus a 5,000-event and a 10-event opportunity`);

  const millions = `${(written.events / 1e6).toFixed(1)}M`;
  const empty = startApi('commands, empty store', dir, join(dir, 'empty.db'));
  const full = startApi(`commands, ${millions}-event store`, dir, largePath);
  const comparing = COMPARE_MAIN
    ? (() => {
        copyFileSync(largePath, `${largePath}.compare.db`);
        return [
          startApi('BENCH_COMPARE_MAIN build, empty store', dir, join(dir, 'empty-compare.db'), {}, COMPARE_MAIN),
          startApi(`BENCH_COMPARE_MAIN build, ${millions}-event store`, dir, `${largePath}.compare.db`, {}, COMPARE_MAIN),
        ];
      })()
    : [];
  const apis = [empty, full, ...comparing];
  started.push(...apis.map((api) => api.child));
  const t0 = performance.now();
  await Promise.all(apis.map((api) => waitFor(`${api.url}/health`, api.child, 3_000)));
  console.log(`APIs ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (those on the large store rebuilt their read models from the log)`);
  const servers: Server[] = [];
  for (const api of apis) servers.push({ ...api, load: await commandLoad(api.url) });
  const figures = await rounds(servers);
  console.log(`\nmedians of ${ROUNDS} rounds:`);
  for (const [index, server] of servers.entries()) console.log(summaryLine(server.label, figures[index]!));
  const p99Ratio = pairedRatio(figures[1]!, figures[0]!, (f) => f.p99);
  console.log(`p99 at ${millions} events vs empty: ${p99Ratio.toFixed(2)}× (target ≤ 2×: ${p99Ratio <= 2 ? 'met' : 'NOT met'})`);
  if (comparing.length > 0) console.log(`BENCH_COMPARE_MAIN build: p99 at ${millions} events vs empty: ${pairedRatio(figures[3]!, figures[2]!, (f) => f.p99).toFixed(2)}×`);
  for (const api of [full, ...comparing]) await stop(api.child);

  // Uncached: an instance with no stream cache reads and folds the whole stream for every command
  // (it starts from the read models the large instance saved).
  const uncached = startApi('uncached commands', dir, largePath, { STREAM_CACHE_SIZE: '0', READ_MODELS_PATH: full.readModelsPath });
  started.push(uncached.child);
  await waitFor(`${uncached.url}/health`, uncached.child, 3_000);
  const lines: string[] = [];
  const p99s: number[] = [];
  for (const [id, events] of [
    [SHORT_STREAM, 10],
    [LONG_STREAM, 5_000],
  ] as const) {
    const latencies: number[] = [];
    let met = events % 2 === 1; // see writeLongOpportunity
    for (let i = 0; i < UNCACHED_COMMANDS; i += 1) {
      met = !met;
      const t = performance.now();
      await post(uncached.url, `/opportunities/${id}/criteria`, { criterionId: 'goals', met });
      latencies.push(performance.now() - t);
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)]!;
    lines.push(`uncached command on a ${events.toLocaleString('en')}-event stream: p50 ${at(0.5).toFixed(1)} ms  p99 ${at(0.99).toFixed(1)} ms  (${UNCACHED_COMMANDS} one at a time, load ${loadavg()[0]!.toFixed(2)})`);
    p99s.push(at(0.99));
  }
  for (const line of lines) console.log(line);
  const uncachedRatio = p99s[1]! / p99s[0]!;
  console.log(`uncached p99 at 5,000 events vs 10: ${uncachedRatio.toFixed(2)}× (target ≤ 2×: ${uncachedRatio <= 2 ? 'met' : 'NOT met'}; keyed commands: npm run bench:keyed-history)`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
