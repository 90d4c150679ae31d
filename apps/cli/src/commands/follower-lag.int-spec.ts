import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandSide, type CommandEnvelope } from '@stagecraft/commands';
import { readSettings } from '@stagecraft/config';
import { getKurrentDBEventStore, type EventStore } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { EXIT } from '../cli.errors';
import { showHistory } from './history.command';
import { verifyChains } from './verify.command';

// `stagecraft history <id>` and `verify <id>` on EVENT_STORE_URL with nodePreference=follower:
// a follower behind the leader must not make a deal opened moments ago read as never written,
// nor its process version as removed.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

describe('the CLI reading one deal from a follower that lags behind the leader', () => {
  let double: KurrentDbDouble;
  let dir: string;
  const stores: EventStore[] = [];
  let thaw: (() => void) | undefined;
  let id: string;

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-cli-follower-'));
    // The writer's files: the standard process with a stage renamed, a version the log does not hold yet.
    const changed = join(dir, 'processes');
    cpSync(PROCESSES, changed, { recursive: true });
    const file = join(changed, 'standard.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name: Qualification', 'name: Qualifying'));
    const before = getKurrentDBEventStore({ connectionString: double.url });
    stores.push(before);
    await createCommandSide(before, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 10 }); // the process as it was, on the follower too
    thaw = double.faults.freezeFollower();
    const store = getKurrentDBEventStore({ connectionString: double.url });
    stores.push(store);
    const side = await createCommandSide(store, { processesDir: changed, conflictRetries: 5, streamCacheSize: 10 });
    id = crypto.randomUUID();
    const envelope: CommandEnvelope = { commandId: crypto.randomUUID(), clientSuppliedId: false, correlationId: 'test', actor: 'test', authenticatedBy: 'test', now: '2026-01-01T00:00:00.000Z' };
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope);
  });
  afterAll(async () => {
    thaw?.();
    for (const store of stores.splice(0)) await store.close();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const settings = () => readSettings({ EVENT_STORE_URL: `${double.url}&nodePreference=follower`, PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'unused.db') }, dir);
  const printed = async (run: () => Promise<number>): Promise<{ code: number; output: string }> => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      return { code: await run(), output: lines.join('\n') };
    } finally {
      log.mockRestore();
    }
  };

  it('verify <id> finds the deal and its process version: verified', async () => {
    const { code, output } = await printed(() => verifyChains(settings(), id, { json: true }));
    expect(JSON.parse(output)).toMatchObject({ opportunityId: id, ok: true });
    expect(code).toBe(EXIT.ok);
  });

  it('history of an id no deal has names the store the events live in (EVENT_STORE_URL), not the unused EVENT_STORE_PATH', async () => {
    const missing = crypto.randomUUID();
    const error = await showHistory(settings(), missing, {}).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.message).toBe(`There is no opportunity ${missing} in the event store (EVENT_STORE_URL).`);
  });

  it('history <id> finds the deal', async () => {
    const { code, output } = await printed(() => showHistory(settings(), id, { json: true }));
    expect(code).toBe(EXIT.ok);
    expect(output).toContain(id);
  });
});
