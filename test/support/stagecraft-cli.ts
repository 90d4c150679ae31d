import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, SHIPPED_PROCESSES } from './api-test-app';
import { childNodeArgs } from './child-entry';

/** The `stagecraft` bin launcher a user runs (it compiles the TypeScript entry on the fly in a checkout). */
const CLI_LAUNCHER = join(ROOT, 'apps', 'cli', 'bin', 'stagecraft.js');

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The CLI as a child process, on its entry point from the suite's one build (test/support/child-entry.ts):
 * the bin launcher adds only the on-the-fly compile, which cli.e2e-spec runs once on its own.
 */
export function stagecraft(env: Record<string, string>, ...args: string[]): CliRun {
  return runCli(childNodeArgs('apps/cli/src/main'), env, args);
}

/** The CLI through the bin launcher, exactly as a user types `stagecraft …`. */
export function stagecraftThroughLauncher(env: Record<string, string>, ...args: string[]): CliRun {
  return runCli([CLI_LAUNCHER], env, args);
}

/** The CLI with its stdout going to `stdout` (a file descriptor: /dev/full, say), its stderr read. */
export function stagecraftWritingTo(stdout: number, env: Record<string, string>, ...args: string[]): CliRun {
  return runCli(childNodeArgs('apps/cli/src/main'), env, args, stdout);
}

function runCli(nodeArgs: readonly string[], env: Record<string, string>, args: readonly string[], stdout?: number): CliRun {
  const result = spawnSync(process.execPath, [...nodeArgs, ...args], {
    cwd: ROOT,
    env: { ...process.env, PROCESSES_DIR: SHIPPED_PROCESSES, ...env },
    encoding: 'utf8',
    timeout: 60_000,
    ...(stdout === undefined ? {} : { stdio: ['ignore', stdout, 'pipe'] }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The CLI as a child process, not waited for synchronously: for a store this process serves
 * itself (a KurrentDB test double started in the spec), which must keep answering meanwhile.
 */
export async function stagecraftAsync(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [...childNodeArgs('apps/cli/src/main'), ...args], { cwd: ROOT, env: { ...process.env, PROCESSES_DIR: SHIPPED_PROCESSES, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { status, stdout, stderr };
}
