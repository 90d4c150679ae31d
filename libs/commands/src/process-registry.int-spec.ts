import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainNewEvents, headHashOf } from '@stagecraft/audit';
import { getSQLiteEventStore, type SQLiteEventStore } from '@stagecraft/event-store';
import { processVersionOf, type ProcessDefinition } from '@stagecraft/sales-process';
import { StreamChainBrokenError } from './command.errors';
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

// A recording rewritten in the store with its version and chain recomputed still matches its hash;
// when what it holds is no definition at all, it is set aside like any rewritten one, and start-up
// (which reads every recording) goes on: the service of every other version does not stop on it.
describe('ProcessRegistry: a recorded definition that is no definition', () => {
  let dir: string;
  let store: SQLiteEventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'process-registry-'));
    mkdirSync(join(dir, 'processes'));
    writeFileSync(join(dir, 'processes', 'standard.yaml'), readFileSync(SHIPPED, 'utf8'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['without stages', { id: 'standard', name: 'Rewritten' }],
    ['with no stage', { id: 'standard', name: 'Rewritten', stages: [], rules: { allowSkipping: false, allowBackward: true, winFrom: [] }, lostReasons: ['price'], teams: [] }],
    ['with a stage that is no mapping', { id: 'standard', name: 'Rewritten', stages: [null], rules: { allowSkipping: false, allowBackward: true, winFrom: [] }, lostReasons: ['price'], teams: [] }],
  ])('starts, and refuses commands on that version as rewritten: a definition %s', async (_, definition) => {
    const stream = 'sales-process-standard';
    await new ProcessRegistry(store, { processesDir: join(dir, 'processes') }).load();
    const recorded = await store.readStream(stream);
    const version = processVersionOf(definition as unknown as ProcessDefinition);
    const { events } = chainNewEvents(stream, recorded.length, headHashOf(recorded), [
      { id: crypto.randomUUID(), type: 'ProcessVersionRecorded', data: { processId: 'standard', version, definition, source: 'rewritten' }, metadata: { actor: 'system:start-up' } },
    ]);
    await store.appendToStream(stream, events, { expectedRevision: recorded[recorded.length - 1]!.revision });

    const registry = new ProcessRegistry(store, { processesDir: join(dir, 'processes') });
    await registry.load();
    expect(registry.current('standard').definition.name).toBe('Standard B2B sales');
    expect(() => registry.version('standard', version)).toThrow(StreamChainBrokenError);
    expect(() => registry.version('standard', version)).toThrow(/cannot be compiled/);
    expect(registry.findVersion('standard', version)).toBeUndefined();
  });
});
