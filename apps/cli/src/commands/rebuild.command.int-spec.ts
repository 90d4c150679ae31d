import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../cli.errors';
import { runCli } from '../cli.program';

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

// `stagecraft rebuild` says "Rebuilt … up to position N" and exits 0 only when the read models it
// rebuilt are saved and reached the log's head. A log it cannot read on (an event edited outside
// Stagecraft), or a read-models file it cannot write (another process holding its lock), ended in
// that same line with exit 0: nothing saved, or models stopped part-way, while the operator was told
// the rebuild was done.
describe('stagecraft rebuild that cannot finish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-rebuild-'));
  const store = join(dir, 'events.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (env: Record<string, string>, argv: string[]): Promise<[number, string, string]> => {
    const saved = { ...process.env };
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      delete process.env.EVENT_STORE_URL;
      delete process.env.READ_MODELS_URL;
      Object.assign(process.env, { PROCESSES_DIR: PROCESSES, ...env });
      const code = await runCli(argv);
      return [code, log.mock.calls.flat().join('\n'), error.mock.calls.flat().join('\n')];
    } finally {
      error.mockRestore();
      warn.mockRestore();
      log.mockRestore();
      process.env = saved;
    }
  };

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'rows.csv'),
      'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,One\nSF-2,2025-01-02T00:00:00Z,new,standard,Two\nSF-1,2025-01-03T00:00:00Z,qualification,,\n',
    );
    expect((await run({ EVENT_STORE_PATH: store, READ_MODELS_PATH: join(dir, 'imported-read-models.db') }, ['import', join(dir, 'rows.csv')]))[0]).toBe(EXIT.ok);
  });

  it('rebuilds and saves, exit 0, on a log it reads whole (the baseline)', async () => {
    const readModels = join(dir, 'baseline.db');
    const [code, printed] = await run({ EVENT_STORE_PATH: store, READ_MODELS_PATH: readModels }, ['rebuild']);
    expect([code, printed]).toEqual([EXIT.ok, expect.stringMatching(/^Rebuilt .* up to position \d+/)]);
    const saved = new Database(readModels, { readonly: true });
    try {
      expect(saved.prepare('SELECT count(*) AS n FROM read_model_snapshots').get()).toEqual({ n: expect.any(Number) });
      expect((saved.prepare('SELECT count(*) AS n FROM read_model_snapshots').get() as { n: number }).n).toBeGreaterThan(0);
    } finally {
      saved.close();
    }
  });

  it('a log holding an event it cannot read: exit 1 naming it, not "Rebuilt" with exit 0', async () => {
    const edited = join(dir, 'edited.db');
    copyFileSync(store, edited);
    const db = new Database(edited);
    db.prepare("UPDATE events SET data = '{not json' WHERE position = (SELECT max(position) FROM events WHERE type = 'StageChanged')").run();
    db.close();
    const [code, printed, error] = await run({ EVENT_STORE_PATH: edited, READ_MODELS_PATH: join(dir, 'edited-read-models.db') }, ['rebuild']);
    expect(code).toBe(EXIT.failed);
    expect(printed).not.toMatch(/Rebuilt/);
    expect(error).toMatch(/cannot be read/);
  });

  it('a read-models file another process holds locked: exit 1 saying nothing was saved, not "Rebuilt" with exit 0', async () => {
    const readModels = join(dir, 'locked.db');
    expect((await run({ EVENT_STORE_PATH: store, READ_MODELS_PATH: readModels }, ['rebuild']))[0]).toBe(EXIT.ok);
    const other = new Database(readModels);
    other.exec('BEGIN IMMEDIATE');
    let result: [number, string, string];
    try {
      result = await run({ EVENT_STORE_PATH: store, READ_MODELS_PATH: readModels }, ['rebuild']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const [code, printed, error] = result;
    expect(code).toBe(EXIT.failed);
    expect(printed).not.toMatch(/Rebuilt/);
    expect(error).toMatch(/not saved/);
    expect(error).toContain(readModels);
  }, 60_000);
});
