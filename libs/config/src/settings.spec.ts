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

describe('READ_MODELS_URL and READ_MODELS_SCHEMA', () => {
  const refusal = (env: Record<string, string>) => {
    try {
      readSettings(env);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it('unset keeps the read models in memory; set, names the database and the schema (default stagecraft)', () => {
    expect(readSettings({}).readModelsPostgres).toBeUndefined();
    expect(readSettings({ READ_MODELS_URL: '' }).readModelsPostgres).toBeUndefined();
    expect(readSettings({ READ_MODELS_URL: 'postgres://root@127.0.0.1:5432/stagecraft' }).readModelsPostgres).toEqual({ url: 'postgres://root@127.0.0.1:5432/stagecraft', schema: 'stagecraft' });
    expect(readSettings({ READ_MODELS_URL: 'postgresql://u:p@db/x', READ_MODELS_SCHEMA: 'sales_reporting' }).readModelsPostgres).toEqual({ url: 'postgresql://u:p@db/x', schema: 'sales_reporting' });
  });

  it.each(['http://db/x', 'db:5432/x', 'postgres://', 'postgres://db', 'not a url'])('stops start-up on %s, naming the variable', (url) => {
    const error = refusal({ READ_MODELS_URL: url });
    expect(error).toBeInstanceOf(SettingsError);
    expect(error).toMatchObject({ variable: 'READ_MODELS_URL' });
  });

  it('never repeats a password in the message', () => {
    expect((refusal({ READ_MODELS_URL: 'mysql://u:secret@db/x' }) as Error).message).not.toContain('secret');
    expect((refusal({ READ_MODELS_URL: 'postgres://u:se cret@db:99999/x' }) as Error).message).not.toContain('se cret');
  });

  it.each(['Stagecraft', 'sales-reporting', '1st', 'a;drop', ''])('refuses the schema name %p', (schema) => {
    expect(refusal({ READ_MODELS_URL: 'postgres://db/x', READ_MODELS_SCHEMA: schema })).toMatchObject({ variable: 'READ_MODELS_SCHEMA' });
  });
});
