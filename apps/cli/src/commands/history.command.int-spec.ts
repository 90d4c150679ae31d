import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandSide, type CommandEnvelope } from '@stagecraft/commands';
import { readSettings, type Settings } from '@stagecraft/config';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { INSTANT_RULE } from '@stagecraft/opportunity';
import { CliError, EXIT } from '../cli.errors';
import { showHistory, type HistoryOptions } from './history.command';

// `stagecraft history <id> --as-of <instant>` before the deal was opened (on the clock asked) has
// no history to show: a state "did not exist yet" and exit 0 read as a deal with nothing done.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');
// A backfilled deal: opened in business time on 5 January, recorded on 10 January.
const OPENED = '2026-01-05T09:00:00.000Z';
const RECORDED = '2026-01-10T12:00:00.000Z';

describe('stagecraft history --as-of an instant before the opportunity was opened', () => {
  let dir: string;
  let settings: Settings;
  let id: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-history-'));
    const path = join(dir, 'events.db');
    const store = getSQLiteEventStore({ path });
    try {
      const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 10 });
      id = crypto.randomUUID();
      const envelope: CommandEnvelope = { commandId: crypto.randomUUID(), clientSuppliedId: false, correlationId: 'test', actor: 'test', authenticatedBy: 'test', now: RECORDED };
      await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard', occurredAt: OPENED }, envelope);
    } finally {
      await store.close();
    }
    settings = readSettings({ EVENT_STORE_PATH: path, PROCESSES_DIR: PROCESSES }, dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The exit code and what was printed, or the CliError the command ended with. */
  const run = async (options: HistoryOptions): Promise<{ code?: number; error?: CliError; printed: string[] }> => {
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      return { code: await showHistory(settings, id, options), printed };
    } catch (error) {
      if (error instanceof CliError) return { error, printed };
      throw error;
    } finally {
      log.mockRestore();
    }
  };

  it.each([
    ['business time', { asOf: '2026-01-01T00:00:00Z' }, `opened at ${OPENED} (business time, occurredAt)`],
    ['business time, --json', { asOf: '2026-01-05T08:59:59.999Z', json: true }, `opened at ${OPENED} (business time, occurredAt)`],
    ['recording time, between the opening and its recording', { asOf: '2026-01-07T00:00:00Z', axis: 'recordedAt' as const }, `recorded at ${RECORDED} (recording time, recordedAt)`],
  ])('exits 1 saying it did not exist yet and when it was opened: %s', async (_label, options, opened) => {
    const { code, error, printed } = await run(options);
    expect({ code, printed }).toEqual({ code: undefined, printed: [] });
    expect(error?.exitCode).toBe(EXIT.failed);
    expect(error?.message).toContain(`Opportunity ${id} did not exist yet at ${new Date(options.asOf).toISOString()}`);
    expect(error?.message).toContain(opened);
  });

  it('shows the deal from the instant it was opened on the clock asked', async () => {
    expect((await run({ asOf: OPENED })).code).toBe(EXIT.ok);
    // Opened on 5 January in business time, known from 10 January: on the recording clock it is there on the 10th, not before.
    expect((await run({ asOf: RECORDED, axis: 'recordedAt' })).code).toBe(EXIT.ok);
    const json = await run({ asOf: '2026-01-07T00:00:00Z', json: true });
    expect(json.code).toBe(EXIT.ok);
    expect(JSON.parse(json.printed.join('\n')).state).toMatchObject({ status: 'open', stage: 'new' });
  });

  // The API's words for an as-of value that is no instant (INSTANT_RULE), the value quoted and
  // escaped: printed raw, an escape sequence in it would act on the auditor's terminal.
  it.each(['yesterday', '0000-12-31T00:00:00Z', '2026-01-01T00:00:00+25:00', '\u001b[2J2026-01-01T00:00:00Z'])('refuses --as-of %j as a usage error (exit 2), naming the form and the value', async (value) => {
    const { error } = await run({ asOf: value });
    expect(error?.exitCode).toBe(EXIT.usage);
    expect(error?.message).toBe(`--as-of must be ${INSTANT_RULE}; got ${JSON.stringify(value)}.`);
  });
});
