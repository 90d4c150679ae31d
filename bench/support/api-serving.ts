import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { besideThis, nodeScript, REPO_ROOT } from './bench-paths';

// An API instance (apps/api, PROJECTIONS=external) on the PostgreSQL read side, answering the
// analytics in a loop over HTTP while its RSS is sampled: what "flat memory" means for a serving
// process (it keeps no model, so its RSS must not follow the number of events).

/** The API's main in this bench's language: compiled beside it (dist/bench) or the TypeScript source. */
const API_MAIN = besideThis(resolve(__dirname, '..', '..', 'apps', 'api', 'src'), 'main');
export const PATHS = [
  '/pipeline',
  '/pipeline?closed=won,lost&closedFrom=2025-06-01T00:00:00Z&closedTo=2025-06-30T23:59:59Z',
  '/pipeline?include=opportunities&cardsPerColumn=100&closed=won,lost&closedFrom=2025-06-01T00:00:00Z&closedTo=2025-06-30T23:59:59Z',
  '/pipeline?asOf=2025-07-01T00:00:00Z',
  '/analytics/win-loss?groupBy=month',
  '/analytics/win-loss?groupBy=owner&teamId=direct',
  '/analytics/stage-durations?processId=standard',
  '/analytics/funnel?teamId=direct',
  '/analytics/transitions?ownerId=owner-3',
  // The learned win probability (/pipeline above carries it too, now and as of an instant).
  '/analytics/forecast?include=learned',
  '/analytics/forecast?include=learned&asOf=2025-07-01T00:00:00Z',
  '/analytics/win-probability/calibration',
  '/analytics/win-probability/calibration?teamId=direct&from=2025-03-01T00:00:00Z&to=2025-09-30T23:59:59Z',
];

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

export interface ServingFigures {
  readonly requests: number;
  readonly seconds: number;
  /** RSS once started (before any query), then the median and the highest sample while serving. */
  readonly idleRss: number;
  readonly medianRss: number;
  readonly peakRss: number;
  readonly failures: number;
}

/** Starts the API on the schema, serves the analytics for `seconds` with `concurrency` clients, stops it. */
export async function serveFromPostgres(options: { eventStorePath: string; url: string; schema: string; port: number; seconds: number; concurrency?: number; paths?: readonly string[] }): Promise<ServingFigures> {
  const paths = options.paths ?? PATHS;
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-api-bench-'));
  const child = spawn(process.execPath, ['--max-old-space-size=2048', ...nodeScript(API_MAIN)], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      AUTH: 'off',
      RATE_LIMIT_PER_MINUTE: '0',
      PROJECTIONS: 'external',
      READ_MODELS_URL: options.url,
      READ_MODELS_SCHEMA: options.schema,
      EVENT_STORE_PATH: options.eventStorePath,
      EVENT_STORE_DURABILITY: 'normal',
      STREAM_SNAPSHOTS_PATH: 'off',
      API_KEYS_FILE: join(dir, 'api-keys.json'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${options.port}`;
  try {
    for (let tries = 0; ; tries++) {
      if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode}`);
      const up = await fetch(`${base}/health`).then((response) => response.ok, () => false);
      if (up) break;
      if (tries > 600) throw new Error('the API did not start in 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const idleRss = rssOf(child.pid!);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssOf(child.pid!)), 100);
    const deadline = performance.now() + options.seconds * 1000;
    let requests = 0;
    let failures = 0;
    const client = async (offset: number) => {
      for (let i = offset; performance.now() < deadline; i++) {
        const response = await fetch(base + paths[i % paths.length]!);
        await response.arrayBuffer();
        requests++;
        if (!response.ok) failures++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, (_, i) => client(i * 3)));
    clearInterval(sampler);
    samples.push(rssOf(child.pid!));
    samples.sort((a, b) => a - b);
    return { requests, seconds: (performance.now() - started) / 1000, idleRss, medianRss: samples[Math.floor(samples.length / 2)]!, peakRss: samples[samples.length - 1]!, failures };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    rmSync(dir, { recursive: true, force: true });
  }
}
