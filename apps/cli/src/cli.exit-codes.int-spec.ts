import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './cli.errors';
import { runCli } from './cli.program';

// README: "3 the event store cannot be reached or read (a KurrentDB server away, a damaged SQLite
// page): nothing was checked, which a script must not take for tampering".
describe('stagecraft on a SQLite store it cannot read at all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-exit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 3, not the 1 of a broken chain, when the file is damaged from its first page', async () => {
    const damaged = join(dir, 'events.db');
    writeFileSync(damaged, Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4080, 0xff)]));
    const saved = { ...process.env };
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      process.env.EVENT_STORE_PATH = damaged;
      delete process.env.EVENT_STORE_URL;
      expect(await runCli(['verify', '--all'])).toBe(EXIT.unavailable);
      expect(error.mock.calls.flat().join('\n')).toContain(damaged);
    } finally {
      error.mockRestore();
      process.env = saved;
    }
  });
});
