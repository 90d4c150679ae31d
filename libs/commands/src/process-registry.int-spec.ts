import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSQLiteEventStore, type SQLiteEventStore } from '@stagecraft/event-store';
import { ProcessRegistry } from './process-registry';

const SHIPPED = join(__dirname, '..', '..', '..', 'config', 'processes', 'standard.yaml');

// A process file set back to an earlier version records that version again (the last recording
// is what opportunities open with, and what a migration counts as newer): the versions are listed
// in the order of their last recording, each with the time of it, so the current one is last.
describe('ProcessRegistry: a file set back to an earlier version', () => {
  let dir: string;
  let store: SQLiteEventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'process-registry-'));
    mkdirSync(join(dir, 'processes'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = () => join(dir, 'processes', 'standard.yaml');
  const started = async () => {
    const registry = new ProcessRegistry(store, { processesDir: join(dir, 'processes') });
    await registry.load();
    return registry;
  };

  it('lists it last, as current, recorded when it was recorded again; migrations count it newer', async () => {
    const first = readFileSync(SHIPPED, 'utf8');
    writeFileSync(file(), first);
    const a = (await started()).current('standard').version;
    writeFileSync(file(), first.replace(/^name: .*$/m, 'name: Changed for a while'));
    const b = (await started()).current('standard').version;
    writeFileSync(file(), first);
    const registry = await started();

    const versions = registry.versions('standard');
    expect(versions.map(({ version, current }) => [version, current])).toEqual([
      [b, false],
      [a, true],
    ]);
    expect(versions[0]!.recordedAt <= versions[1]!.recordedAt).toBe(true);
    const recordings = await store.readStream('sales-process-standard');
    expect(recordings.map((event) => (event.data as { version: string }).version)).toEqual([a, b, a]);
    expect(versions[1]!.recordedAt).toBe(recordings[2]!.recordedAt);
    const lookup = registry.versionLookup('standard');
    expect(lookup(a)!.recordedOrder).toBeGreaterThan(lookup(b)!.recordedOrder);

    // Started again on the same file: nothing new recorded, the same list.
    expect((await started()).versions('standard')).toEqual(versions);
  });
});
