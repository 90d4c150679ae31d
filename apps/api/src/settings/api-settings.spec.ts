import { readApiSettings, SettingsError } from './api-settings';

describe('EVENT_STORE_URL', () => {
  it('unset or empty keeps the embedded SQLite store', () => {
    expect(readApiSettings({}, '/srv').eventStoreUrl).toBeUndefined();
    expect(readApiSettings({ EVENT_STORE_URL: ' ' }, '/srv').eventStoreUrl).toBeUndefined();
    expect(readApiSettings({}, '/srv').eventStorePath).toBe('/srv/data/events.db');
  });

  it('takes kurrentdb:// and esdb:// connection strings, single node or cluster', () => {
    expect(readApiSettings({ EVENT_STORE_URL: 'kurrentdb://localhost:2113?tls=false' }).eventStoreUrl).toBe('kurrentdb://localhost:2113?tls=false');
    expect(readApiSettings({ EVENT_STORE_URL: 'esdb://node1:2113,node2:2113,node3:2113?tls=true' }).eventStoreUrl).toBe('kurrentdb://node1:2113,node2:2113,node3:2113?tls=true');
  });

  it.each(['http://localhost:2113', 'localhost:2113', 'kurrentdb://', 'kurrentdb://localhost:2113?nodePreference=nobody'])('stops start-up on %s, naming the variable', (url) => {
    let error: unknown;
    try {
      readApiSettings({ EVENT_STORE_URL: url });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ variable: 'EVENT_STORE_URL' });
    expect((error as Error).message).toMatch(/^Invalid setting EVENT_STORE_URL: /);
  });
});

describe('TRUST_PROXY', () => {
  it('trusts no proxy by default', () => {
    expect(readApiSettings({}).trustProxy).toBe(false);
    expect(readApiSettings({ TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(readApiSettings({ TRUST_PROXY: 'none' }).trustProxy).toBe(false);
  });

  it('takes proxy addresses and CIDR ranges, or a hop count', () => {
    expect(readApiSettings({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,fd00::/8, loopback' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', 'fd00::/8', 'loopback']);
    expect(readApiSettings({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it.each(['true', '*', '10.0.0.300', '10.0.0.0/33', 'fd00::/0', 'proxy.internal', '10.0.0.1/8/1', '11'])('stops start-up on %s, naming the variable', (value) => {
    expect(() => readApiSettings({ TRUST_PROXY: value })).toThrow(/^Invalid setting TRUST_PROXY: /);
  });
});

describe('AUTH_FAILURES_PER_MINUTE', () => {
  it('is 20 by default; 0 turns the limit off; anything else stops start-up', () => {
    expect(readApiSettings({}).authFailuresPerMinute).toBe(20);
    expect(readApiSettings({ AUTH_FAILURES_PER_MINUTE: '0' }).authFailuresPerMinute).toBe(0);
    expect(() => readApiSettings({ AUTH_FAILURES_PER_MINUTE: '-1' })).toThrow(/AUTH_FAILURES_PER_MINUTE/);
  });
});
