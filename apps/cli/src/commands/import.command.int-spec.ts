import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings } from '@stagecraft/config';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { EXIT } from '../cli.errors';
import { importFile } from './import.command';

// An import that loses its store mid-way (KurrentDB not ready, restarting, away) stops there with
// exit 3: the line it stopped on is neither imported nor rejected (nothing is wrong with it), the
// lines after it are not read, and a second run once the store answers imports the rest, so that
// the store ends as one uninterrupted run would leave it.
describe('stagecraft import when the store stops answering', () => {
  let double: KurrentDbDouble;
  let dir: string;
  const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');
  const quietly = async <T>(work: () => Promise<T>): Promise<T> => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      return await work();
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
  const openings = () => {
    const deals = Array.from({ length: 60 }, (_, i) => `SF-${2000 + i},2025-01-${String((i % 28) + 1).padStart(2, '0')}T09:00:00Z,new,,,standard,Deal ${i},direct,ana,${1000 + i},EUR,`);
    return ['opportunityId,occurredAt,stage,outcome,lostReason,processId,title,teamId,ownerId,amount,currency,note', ...deals].join('\n');
  };

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    dir = mkdtempSync(join(tmpdir(), 'import-store-lost-'));
  });
  afterAll(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops with exit 3, rejecting nothing; a second run imports the rest, once', async () => {
    const settings = readSettings({ EVENT_STORE_URL: double.url, PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'unused.db') }, dir);
    // A first deal alone: the process versions are recorded, so the refusal below falls on the import's own appends.
    const first = join(dir, 'first.csv');
    writeFileSync(first, openings().split('\n').slice(0, 2).join('\n'));
    expect(await quietly(() => importFile(settings, first, { json: true }))).toBe(EXIT.ok);

    const file = join(dir, 'deals.csv');
    writeFileSync(file, openings());
    double.faults.refuseAppends('not-ready', 1);
    const reports: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void reports.push(text));
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let stopped: number;
    try {
      stopped = await importFile(settings, file, { json: true });
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    expect(stopped).toBe(EXIT.unavailable);
    const report = JSON.parse(reports.at(-1)!) as { rejected: unknown[]; imported: number; lines: number };
    expect(report.rejected).toEqual([]);
    expect(report.imported).toBeLessThan(60);

    expect(await quietly(() => importFile(settings, file, { json: true }))).toBe(EXIT.ok);
    const opened = Array.from({ length: double.log.length }, (_, index) => double.log.at(index)).filter((record) => record.type === 'OpportunityOpened');
    expect(opened).toHaveLength(60);
    expect(new Set(opened.map((record) => record.stream)).size).toBe(60);
  });
});
