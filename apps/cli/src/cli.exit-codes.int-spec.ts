import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from './cli.errors';
import { runCli } from './cli.program';
import { opportunityIdFor } from './io/opportunity-id';

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

// README: "2 a usage error". An id no opportunity can have (empty, spaces, 100,000 characters: the
// import refuses such a source id, and it is no UUID) is a mistake in the command line, not the 1 of
// an opportunity looked for and not found; and an argument that cannot go together says which.
describe('stagecraft given arguments that cannot be right', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-args-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (argv: string[]): Promise<[number, string]> => {
    const saved = { ...process.env };
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      process.env.EVENT_STORE_PATH = join(dir, 'events.db');
      process.env.PROCESSES_DIR = join(__dirname, '..', '..', '..', 'config', 'processes');
      delete process.env.EVENT_STORE_URL;
      const code = await runCli(argv);
      return [code, error.mock.calls.flat().join('\n')];
    } finally {
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'rows.csv'),
      'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,Deal\nopportunity-42,2025-01-01T00:00:00Z,new,standard,Deal\nsales-process-7,2025-01-01T00:00:00Z,new,standard,Deal\n',
    );
    expect((await run(['import', join(dir, 'rows.csv')]))[0]).toBe(EXIT.ok);
  });

  it.each([
    ['empty', ''],
    ['with spaces', 'no such id'],
    ['100,000 characters', 'y'.repeat(100_000)],
    ['of a character no id has', 'SF/1'],
  ])('an id %s: exit 2, saying what an id is, the id cut short', async (_case, id) => {
    for (const command of ['history', 'verify']) {
      const [code, message] = await run([command, id]);
      expect([command, code]).toEqual([command, EXIT.usage]);
      expect(message).toMatch(/is not an opportunity id: give its UUID, or the source id a backfill import gave it/);
      expect(message.length).toBeLessThan(400);
    }
  });

  it('a well-formed id that names no opportunity is still the 1 of one not found', async () => {
    for (const command of ['history', 'verify']) expect((await run([command, 'SF-404']))[0]).toBe(EXIT.failed);
    for (const command of ['history', 'verify']) expect((await run([command, 'SF-1']))[0]).toBe(EXIT.ok);
  });

  // A CRM's id may begin as a stream name does ("opportunity-42", "sales-process-7"): history finds
  // such a deal by it, and verify must too, rather than look for a stream of that name and call
  // the deal missing. An opportunity stream's name always ends in a UUID (in any capitals).
  it('verify takes a source id that begins like a stream name, and a stream name in capitals, as history does', async () => {
    for (const id of ['opportunity-42', 'sales-process-7']) {
      expect([id, (await run(['history', id]))[0]]).toEqual([id, EXIT.ok]);
      expect([id, (await run(['verify', id]))[0]]).toEqual([id, EXIT.ok]);
    }
    const uuid = opportunityIdFor('SF-1');
    expect((await run(['verify', `opportunity-${uuid.toUpperCase()}`]))[0]).toBe(EXIT.ok);
    expect((await run(['verify', 'sales-process-standard']))[0]).toBe(EXIT.ok);
    expect(await run(['verify', 'sales-process-none'])).toEqual([EXIT.failed, expect.stringContaining('There is no stream sales-process-none')]);
  });

  it('verify names what is wrong with its arguments: an id and --all together, --head without --all', async () => {
    expect(await run(['verify', 'SF-1', '--all'])).toEqual([EXIT.usage, expect.stringContaining('not both')]);
    expect(await run(['verify', '--head', `${'0'.repeat(64)}@1`])).toEqual([EXIT.usage, expect.stringContaining('--head checks the whole log: give it with --all')]);
  });
});

// On a terminal the progress bars hide the cursor and turn line wrapping off while they draw. A
// command that failed half-way (an event it cannot read, a store gone) ended with its bar never
// stopped: the error glued to the bar's line, and the terminal left without a cursor or wrapping
// after the CLI exited.
describe('stagecraft on a terminal, failing half-way through a progress bar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-bar-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the terminal its cursor and line wrapping back before it says why it stopped', async () => {
    const saved = { ...process.env };
    const store = join(dir, 'events.db');
    Object.assign(process.env, { EVENT_STORE_PATH: store, READ_MODELS_PATH: join(dir, 'read-models.db'), PROCESSES_DIR: join(__dirname, '..', '..', '..', 'config', 'processes') });
    delete process.env.EVENT_STORE_URL;
    const wasTty = process.stderr.isTTY;
    const written: string[] = [];
    const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void written.push(`<error>${line}`));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      writeFileSync(join(dir, 'rows.csv'), 'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,One\nSF-1,2025-01-02T00:00:00Z,qualification,,\n');
      expect(await runCli(['import', join(dir, 'rows.csv')])).toBe(EXIT.ok);
      const db = new Database(store);
      db.prepare("UPDATE events SET data = '{not json' WHERE type = 'StageChanged'").run();
      db.close();
      process.stderr.isTTY = true;
      expect(await runCli(['export', '--out', join(dir, 'out.jsonl')])).toBe(EXIT.failed);
      const output = written.join('');
      expect(output).toContain('\x1b[?25l'); // a bar was drawn
      // Cursor and wrapping back on, and before the reason is printed (not glued to the bar's line).
      expect(output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(output.lastIndexOf('\x1b[?25l'));
      expect(output.lastIndexOf('\x1b[?7h')).toBeGreaterThan(output.lastIndexOf('\x1b[?7l'));
      expect(output.indexOf('<error>stagecraft:')).toBeGreaterThan(output.lastIndexOf('\x1b[?25h'));
    } finally {
      process.stderr.isTTY = wasTty;
      write.mockRestore();
      error.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  });
});
