import { spawn } from 'node:child_process';
import { join } from 'node:path';

// A process that only follows the log (apps/projector) has nothing else holding its event loop
// while the server is away: the subscription's wait before it subscribes again must hold it, or
// the process exits with status 0 at the first dropped connection and no supervisor restarts it.
describe('a KurrentDB subscription waiting for the server', () => {
  it('keeps its process alive while it waits to subscribe again', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'kurrentdb-subscription-liveness.fixture.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !output.includes('server stopped') && child.exitCode === null; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(output).toContain('server stopped');
      // Reconnect attempts every 100 ms doubling to 2 s: the subscription is still trying after 2 s.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect({ running: child.exitCode === null && child.signalCode === null, output }).toEqual({ running: true, output: expect.any(String) });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }, 60_000);
});
