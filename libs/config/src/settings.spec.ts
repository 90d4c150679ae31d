import { readSettings, SettingsError } from '@stagecraft/config';

describe('EVENT_STORE_URL', () => {
  it('unset or empty keeps the embedded SQLite store', () => {
    expect(readSettings({}, '/srv').eventStoreUrl).toBeUndefined();
    expect(readSettings({ EVENT_STORE_URL: ' ' }, '/srv').eventStoreUrl).toBeUndefined();
    expect(readSettings({}, '/srv').eventStorePath).toBe('/srv/data/events.db');
  });

  it('takes kurrentdb:// and esdb:// connection strings, single node or cluster', () => {
    expect(readSettings({ EVENT_STORE_URL: 'kurrentdb://localhost:2113?tls=false' }).eventStoreUrl).toBe('kurrentdb://localhost:2113?tls=false');
    expect(readSettings({ EVENT_STORE_URL: 'esdb://node1:2113,node2:2113,node3:2113?tls=true' }).eventStoreUrl).toBe('kurrentdb://node1:2113,node2:2113,node3:2113?tls=true');
  });

  it.each(['http://localhost:2113', 'localhost:2113', 'kurrentdb://', 'kurrentdb://localhost:2113?nodePreference=nobody'])('stops start-up on %s, naming the variable', (url) => {
    let error: unknown;
    try {
      readSettings({ EVENT_STORE_URL: url });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ variable: 'EVENT_STORE_URL' });
    expect((error as Error).message).toMatch(/^Invalid setting EVENT_STORE_URL: /);
  });
});
