import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings, SettingsError } from '@stagecraft/config';
import { generateApiKey, type StoredApiKey } from './api-key.credentials';
import { ApiKeyStore } from './api-key.store';
import { writeApiKeysFile } from './api-keys.file';

// The store's own look at the file (check(), which the poll runs every 500 ms), without the
// folder watch: what a file system without change events gets.
describe('ApiKeyStore', () => {
  let dir: string;
  let file: string;
  const key = (name: string): StoredApiKey => generateApiKey({ name, roles: ['writer'] }, new Date('2026-01-01T00:00:00Z')).stored;
  const names = (store: ApiKeyStore) => [...store.keys.values()].map((entry) => entry.name).sort();
  const storeFor = (env: Record<string, string> = {}) => new ApiKeyStore(readSettings({ API_KEYS_FILE: file, ...env }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-store-'));
    file = join(dir, 'api-keys.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sees keys added and removed, and keeps the API_KEYS ones throughout', () => {
    const inline = key('inline');
    writeApiKeysFile(file, [key('a')]);
    const store = storeFor({ API_KEYS: JSON.stringify({ keys: [inline] }) });
    expect(names(store)).toEqual(['a', 'inline']);
    writeApiKeysFile(file, [key('a'), key('b')]);
    store.check();
    expect(names(store)).toEqual(['a', 'b', 'inline']);
    writeApiKeysFile(file, []);
    store.check();
    expect(names(store)).toEqual(['inline']);
  });

  it('notices a change that keeps inode, size and mtime (an in-place write within one coarse mtime tick)', () => {
    const first = key('aaaa');
    // Whole seconds, as a coarse file system keeps them: both versions get the very same stat.
    const tick = Math.floor(Date.now() / 1000);
    writeFileSync(file, JSON.stringify({ keys: [first] }));
    utimesSync(file, tick, tick);
    const before = statSync(file, { bigint: true });
    const store = storeFor();
    expect(names(store)).toEqual(['aaaa']);
    writeFileSync(file, JSON.stringify({ keys: [{ ...first, name: 'bbbb' }] }));
    utimesSync(file, tick, tick);
    const after = statSync(file, { bigint: true });
    expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
    store.check();
    expect(names(store)).toEqual(['bbbb']);
  });

  it('keeps the last good keys through a broken or missing file, then takes the next good one', () => {
    writeApiKeysFile(file, [key('a')]);
    const store = storeFor();
    for (const damage of ['', '{"keys": [', '{"keys": {}}', JSON.stringify({ keys: [{ id: 'x' }] }), JSON.stringify({ keys: [{ ...key('p'), key: 'sck_plain' }] })]) {
      writeFileSync(file, damage);
      store.check();
      expect(names(store)).toEqual(['a']);
    }
    rmSync(file);
    store.check();
    expect(names(store)).toEqual(['a']);
    writeApiKeysFile(file, [key('c')]);
    store.check();
    expect(names(store)).toEqual(['c']);
  });

  it.each([
    ['not JSON', '{"keys": [', 'is not valid JSON'],
    ['a name twice', '{"keys": [], "keys": []}', 'gives "keys" twice in one object'],
    ['no list of keys', '{"key": []}', 'must hold { "keys": [ … ] }'],
    ['a key of the wrong shape', '{"keys": [{"id": 3}]}', 'keys[0]: '],
  ])('stops start-up on a broken file (%s), naming the variable, the file and the reason', (_case, text, reason) => {
    writeFileSync(file, text);
    let refused: unknown;
    try {
      storeFor();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(SettingsError);
    expect((refused as SettingsError).variable).toBe('API_KEYS_FILE');
    expect((refused as SettingsError).message.startsWith(`Invalid setting API_KEYS_FILE: ${file} ${reason}`)).toBe(true);
  });

  it('stops start-up on broken inline keys naming API_KEYS', () => {
    expect(() => new ApiKeyStore(readSettings({ API_KEYS_FILE: file, API_KEYS: '{"keys": [' }))).toThrow(/^Invalid setting API_KEYS: is not valid JSON/);
  });

  it('stops start-up on a keys file it cannot read, naming the variable and the file, with no stack', () => {
    rmSync(file, { force: true });
    // Settings refuse a folder already; here it becomes one after they were read.
    const settings = readSettings({ API_KEYS_FILE: file });
    mkdirSync(file);
    expect(() => new ApiKeyStore(settings)).toThrow(new SettingsError('API_KEYS_FILE', `${file} cannot be read: it is a folder, not a file`));
    rmSync(file, { recursive: true });
  });

  it('reads a keys file saved with a byte order mark', () => {
    writeFileSync(file, `\uFEFF${JSON.stringify({ keys: [key('bom')] })}`);
    expect(names(storeFor())).toEqual(['bom']);
  });
});
