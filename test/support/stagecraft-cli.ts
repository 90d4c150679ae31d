import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, SHIPPED_PROCESSES } from './api-test-app';

const LAUNCHER = join(ROOT, 'apps', 'cli', 'bin', 'stagecraft.js');

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as a user runs it: a child process through the `stagecraft` bin launcher. */
export function stagecraft(env: Record<string, string>, ...args: string[]): CliRun {
  const result = spawnSync(process.execPath, [LAUNCHER, ...args], {
    cwd: ROOT,
    env: { ...process.env, PROCESSES_DIR: SHIPPED_PROCESSES, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
