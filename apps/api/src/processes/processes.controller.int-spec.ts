import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRegistry } from '@stagecraft/commands';
import { getSQLiteEventStore, type SQLiteEventStore } from '@stagecraft/event-store';
import { ProcessesController } from './processes.controller';

const SHIPPED = join(__dirname, '..', '..', '..', '..', 'config', 'processes', 'standard.yaml');

// Two instances on one store: the newer one (a rolling deploy) records a version and opens deals
// on it; a board on the older one asks that version's moves for those deals' cards.
describe('GET /processes/:id?version= of a version another instance recorded after this one started', () => {
  let dir: string;
  let store: SQLiteEventStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'processes-controller-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const instance = async (name: string, yaml: string) => {
    const processesDir = join(dir, name);
    mkdirSync(processesDir);
    writeFileSync(join(processesDir, 'standard.yaml'), yaml);
    const registry = new ProcessRegistry(store, { processesDir });
    await registry.load();
    return registry;
  };

  it('answers that version (read from the process stream), as commands and reads of its deals do', async () => {
    const shipped = readFileSync(SHIPPED, 'utf8');
    const older = await instance('older', shipped);
    const newer = await instance('newer', shipped.replace(/^name: .*$/m, 'name: Standard, as deployed later'));
    const version = newer.current('standard').version;
    expect(version).not.toBe(older.current('standard').version);

    const controller = new ProcessesController(older);
    const detail = await controller.get('standard', version);
    expect([detail.version, detail.name]).toEqual([version, 'Standard, as deployed later']);
    expect(detail.versions.map((info) => info.version)).toContain(version);
    expect(detail.moves.length).toBeGreaterThan(0);
    expect(await controller.machine('standard', version)).toMatchObject({ id: expect.any(String) });
    // A version no instance recorded is still not found.
    await expect(controller.get('standard', 'deadbeefdeadbeef')).rejects.toMatchObject({ name: 'ProcessVersionNotFoundError' });
  });
});
