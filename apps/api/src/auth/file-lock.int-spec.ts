import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLockTimeoutError, withFileLock, withFileLockSync } from './file-lock';

// What a writer that cannot take the lock is told: who holds it, as the lock names them (what the
// lock says is written by whoever could write the folder: quoted, never put raw into a log line),
// and when a lock left behind is taken over, as this writer's own rules say.
describe('withFileLock: the timeout tells the operator who holds the lock and what to do', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-file-lock-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['async', (file: string) => withFileLock(file, () => 'done', { timeoutMs: 50, staleMs: 90_000 })],
    ['sync', async (file: string) => withFileLockSync(file, () => 'done', { timeoutMs: 50, staleMs: 90_000 })],
  ] as const)('names the holder quoted and the stale time it judges by (%s)', async (_kind, take) => {
    const file = join(dir, `keys-${_kind}.json.lock`);
    // Held, fresh, by a process of another host whose name holds a line break and quotes.
    writeFileSync(file, JSON.stringify({ pid: 4242, host: 'build-7\nERROR "forged"', token: 'x' }));
    const error = (await take(file).then(
      () => undefined,
      (e: unknown) => e,
    )) as FileLockTimeoutError;
    expect(error).toBeInstanceOf(FileLockTimeoutError);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.message).toContain(`${file} is held by process 4242 on "build-7\\nERROR \\"forged\\""`);
    expect(error.message).toContain('after 90 s from another host');
  });
});
