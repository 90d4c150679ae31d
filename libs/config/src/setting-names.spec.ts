import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ignoredSettingWarnings, likelyMisspeltSettings, SETTING_NAMES } from './setting-names';

describe('setting names', () => {
  it('point out a name a letter or two away from a setting, with the one meant', () => {
    const env = { RELAY_SINK: 'x', READ_MODEL_PATH: 'x', EVENT_STORE_DURABLITY: 'x', PROJECTION: 'x', JWT_SECRETS: 'x', RELAY_SINKS_: 'x', port: '3000', STREAM_SNAPSHOT_PATH: 'x' };
    expect(likelyMisspeltSettings(env)).toEqual([
      { name: 'EVENT_STORE_DURABLITY', meant: 'EVENT_STORE_DURABILITY' },
      { name: 'JWT_SECRETS', meant: 'JWT_SECRET' },
      { name: 'PROJECTION', meant: 'PROJECTIONS' },
      { name: 'READ_MODEL_PATH', meant: 'READ_MODELS_PATH' },
      { name: 'RELAY_SINK', meant: 'RELAY_SINKS' },
      { name: 'RELAY_SINKS_', meant: 'RELAY_SINKS' },
      { name: 'STREAM_SNAPSHOT_PATH', meant: 'STREAM_SNAPSHOTS_PATH' },
      { name: 'port', meant: 'PORT' },
    ]);
  });

  it("leave the settings themselves alone, and the variables of the shell, of other programs and of the tests", () => {
    const env = Object.fromEntries([...SETTING_NAMES, 'HOME', 'HOSTNAME', 'PATH', 'PWD', 'USER', 'TERM', 'LANG', 'SHELL', 'CI', 'NODE_ENV', 'TZ', 'READ_MODELS_TEST_URL', 'READ_MODELS_BENCH_URL', 'KURRENTDB_TEST_URL', 'FC_SEED'].map((name) => [name, 'x']));
    expect(likelyMisspeltSettings(env)).toEqual([]);
  });

  it('say which setting is ignored because another one decides, and only then', () => {
    expect(ignoredSettingWarnings({ READ_MODELS_PATH: '/data/rm.db', READ_MODELS_URL: 'postgres://db/stagecraft' })).toEqual([expect.stringMatching(/^READ_MODELS_PATH is ignored: READ_MODELS_URL/)]);
    expect(ignoredSettingWarnings({ EVENT_STORE_DURABILITY: 'normal', EVENT_STORE_URL: 'kurrentdb+discover://cluster:2113' })).toEqual([expect.stringMatching(/^EVENT_STORE_DURABILITY is ignored/)]);
    expect(ignoredSettingWarnings({ EVENT_STORE_DURABILITY: 'normal', EVENT_STORE_URL: 'esdb://node:2113' })).toHaveLength(1);
    // Each alone, or the other one blank (read as unset), decides nothing away.
    expect(ignoredSettingWarnings({ READ_MODELS_PATH: '/data/rm.db', EVENT_STORE_DURABILITY: 'normal' })).toEqual([]);
    expect(ignoredSettingWarnings({ READ_MODELS_PATH: '/data/rm.db', READ_MODELS_URL: ' ' })).toEqual([]);
    expect(ignoredSettingWarnings({ READ_MODELS_URL: 'postgres://db/stagecraft', EVENT_STORE_URL: 'kurrentdb://node:2113' })).toEqual([]);
  });

  it("are the names the README's settings table lists, no more, no fewer", () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| `PORT`, `HOST`'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n');
    const listed = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!));
    expect([...listed].sort()).toEqual([...SETTING_NAMES].sort());
  });
});
