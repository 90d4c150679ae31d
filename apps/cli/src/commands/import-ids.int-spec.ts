import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProcessFile, readSettings } from '@stagecraft/config';
import { openEventStore } from '@stagecraft/event-store';
import { compileProcess } from '@stagecraft/sales-process';
import { EXIT } from '../cli.errors';
import { importFile } from './import.command';

// An exported log is replayed through the executor, which trusts its callers' ids: the import
// checks them as the API's routes and bodies do, so that it brings in no deal the API could never
// address (an id that is not a UUID) nor a team or owner no filter or team-limited key can name.
describe('stagecraft import of an event log: ids the API would refuse', () => {
  const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');
  const version = compileProcess(loadProcessFile(join(PROCESSES, 'standard.yaml')).definition).version;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-ids-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const GOOD = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e01';
  const opened = (id: string, data: Record<string, unknown> = {}) => ({
    id: `e-open-${id.slice(0, 20)}`,
    stream: `opportunity-${id}`,
    revision: 0,
    type: 'OpportunityOpened',
    data: { opportunityId: id, occurredAt: '2026-01-02T09:00:00.000Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal', ...data },
    metadata: { actor: 'ana' },
  });

  it('rejects each such line with its reason, and imports every other line', async () => {
    const lines = [
      opened(GOOD, { teamId: 'direct', ownerId: 'ana' }),
      opened('SF-1042'),
      opened('1c0b7c0e-2f4e-4a57-8d0c-8e3c0f6b2a10', { teamId: '🚀' }),
      opened('2d1c8d1f-3a5f-4b68-9e1d-9f4d1a7c3b21', { ownerId: 'o'.repeat(50_000) }),
      { id: 'e-change', stream: `opportunity-${GOOD}`, revision: 1, type: 'OpportunityDetailsChanged', data: { opportunityId: GOOD, occurredAt: '2026-01-03T09:00:00.000Z', title: 'Renamed' }, metadata: { actor: 'ana' } },
    ];
    const file = join(dir, 'log.jsonl');
    writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: PROCESSES }, dir);

    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    let exit: number;
    try {
      exit = await importFile(settings, file, { json: true });
    } finally {
      log.mockRestore();
    }
    expect(exit).toBe(EXIT.failed);
    const report = JSON.parse(printed.at(-1)!) as { imported: number; rejected: { line: number; reason: string }[] };
    expect(report.rejected.map(({ line, reason }) => [line, reason.replace(/ \(got .*$/, '')])).toEqual([
      [2, 'the opportunity id "SF-1042" (of stream "opportunity-<id>") must be a UUID, as the API\'s routes take it'],
      [3, 'data.teamId: must be an id of 1 to 100 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit'],
      [4, 'data.ownerId: must be an id of 1 to 100 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit'],
    ]);
    expect(report.imported).toBe(2);

    const store = openEventStore(settings);
    try {
      const streams = new Set((await store.readAll()).map((event) => event.stream).filter((stream) => stream.startsWith('opportunity-')));
      expect([...streams]).toEqual([`opportunity-${GOOD}`]);
    } finally {
      await store.close();
    }
  });
});
