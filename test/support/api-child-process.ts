import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { ROOT } from './api-test-app';
import { childNodeArgs } from './child-entry';
import { eventStoreEnv } from './e2e-store';

export interface ApiChildProcess {
  readonly baseUrl: string;
  readonly child: ChildProcess;
  output(): string;
  /** Waits for the process to exit (after a signal, say). */
  exited(): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs the API as `npm run start:dev` would (authentication off unless env says otherwise) and waits until it is healthy:
 * listening, and /health answering 2xx (or the status `healthy` accepts: 503 for an API started to report a stopped read model).
 */
export async function spawnApi(env: Record<string, string>, options: { healthy?: (status: number) => boolean } = {}): Promise<ApiChildProcess> {
  const accepts = options.healthy ?? ((status: number) => status >= 200 && status < 300);
  const port = await freePort();
  const child = spawn(process.execPath, childNodeArgs('apps/api/src/main'), {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      AUTH: 'off',
      RATE_LIMIT_PER_MINUTE: '0',
      ...(env.EVENT_STORE_PATH !== undefined ? await eventStoreEnv(env.EVENT_STORE_PATH) : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;

  for (let attempt = 0; attempt < 300; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`The API exited during start-up:\n${output}`);
    const healthy = output.includes('Stagecraft API listening') && (await fetch(`${baseUrl}/health`).then((r) => accepts(r.status), () => false));
    if (healthy) return { baseUrl, child, output: () => output, exited: () => exit };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`The API did not become healthy:\n${output}`);
}

/** Runs the API expecting it not to start: resolves with its exit code and everything it printed. */
export async function runApiUntilExit(env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, childNodeArgs('apps/api/src/main'), {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(await freePort()), AUTH: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  // One that starts after all is a failed expectation, not a hung test.
  const started = setInterval(() => output.includes('Stagecraft API listening') && child.kill('SIGTERM'), 100);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearInterval(started);
  return { code, output };
}

/**
 * Runs one of the apps expecting it not to start: resolves with its exit code and everything it
 * printed. One that starts after all is stopped (SIGTERM) once it prints `startedLine`, a failed
 * expectation rather than a test waiting on a process that retries for ever.
 */
async function runUntilExit(entry: string, startedLine: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, childNodeArgs(entry), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const started = setInterval(() => output.includes(startedLine) && child.kill('SIGTERM'), 100);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearInterval(started);
  return { code, output };
}

/** Runs apps/relay expecting it not to start (see runUntilExit). */
export function runRelayUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return runUntilExit('apps/relay/src/main', 'Stagecraft relay started', env);
}

/** Runs apps/projector expecting it not to start (see runUntilExit). */
export function runProjectorUntilExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  // Caught up, or started with read models stopped on the way: started either way (apps/projector/src/started-line.ts).
  return runUntilExit('apps/projector/src/main', 'Stagecraft projector ', env);
}
