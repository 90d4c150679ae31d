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

// README: "2 a usage error (…, bad setting)". A PROCESSES_DIR that names no directory, or one
// without a definition, is a setting to correct, as a bad EVENT_STORE_PATH is: not the 1 of a
// check that found a problem.
describe('stagecraft with a PROCESSES_DIR it cannot use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-exit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['missing', () => join(dir, 'no-such-dir')],
    ['a file', () => (writeFileSync(join(dir, 'a-file'), ''), join(dir, 'a-file'))],
    ['empty', () => mkdtempSync(join(dir, 'empty-'))],
  ])('exits 2 naming PROCESSES_DIR when it is %s (import, the command that reads it)', async (_label, processesDir) => {
    const saved = { ...process.env };
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const processes = processesDir();
      process.env.PROCESSES_DIR = processes;
      process.env.EVENT_STORE_PATH = join(dir, 'events.db');
      process.env.READ_MODELS_PATH = join(dir, 'read-models.db');
      delete process.env.EVENT_STORE_URL;
      writeFileSync(join(dir, 'empty.jsonl'), '');
      for (const argv of [['import', join(dir, 'empty.jsonl')]]) {
        error.mockClear();
        expect([argv[0], await runCli(argv)]).toEqual([argv[0], EXIT.usage]);
        expect(error.mock.calls.flat().join('\n')).toMatch(/PROCESSES_DIR/);
        expect(error.mock.calls.flat().join('\n')).toContain(processes);
      }
    } finally {
      error.mockRestore();
      process.env = saved;
    }
  });
});
