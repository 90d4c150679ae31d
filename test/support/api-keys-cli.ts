import { spawn } from 'node:child_process';
import { ROOT } from './api-test-app';
import { childNodeArgs } from './child-entry';

/** Runs `npm run api-keys -- <args>` (the CLI that script runs) on `keysFile`: its exit code and everything it printed. */
export function runKeysCli(keysFile: string, args: readonly string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...childNodeArgs('apps/api/src/auth/api-keys.cli'), ...args], {
    cwd: ROOT,
    env: { ...process.env, API_KEYS_FILE: keysFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
