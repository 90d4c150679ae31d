import { getKurrentDBEventStore } from './kurrentdb-event-store';
import { connectionStringUser, normaliseKurrentDBConnectionString, redactCredentials } from './kurrentdb-connection-string';

describe('redactCredentials', () => {
  it.each([
    ['kurrentdb://admin:changeit@localhost:2113?tls=false', 'kurrentdb://***@localhost:2113?tls=false'],
    ['esdb+discover://ops:pa/ss:w@rd@cluster.example.com:2113', 'esdb+discover://***@cluster.example.com:2113'],
    ['failed to reach kurrentdb://u:p@node1:2113,node2:2113 (timeout)', 'failed to reach kurrentdb://***@node1:2113,node2:2113 (timeout)'],
  ])('hides the credentials of %s', (text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
  });

  it('leaves a string without credentials as it is', () => {
    expect(redactCredentials('kurrentdb://localhost:2113?tls=false')).toBe('kurrentdb://localhost:2113?tls=false');
  });
});

describe('normaliseKurrentDBConnectionString', () => {
  it.each([
    ['kurrentdb://h:0x10?tls=false', /port "0x10"/],
    ['kurrentdb://h:99999?tls=false', /port "99999"/],
    ['kurrentdb://a:2113,b:2e3?tls=false', /port "2e3"/],
    ['kurrentdb://h:2113?defaultDeadline=1e3', /defaultDeadline=1e3: it must be a whole number/],
    ['kurrentdb://h:2113?keepAliveInterval=0x10', /keepAliveInterval=0x10/],
    ['kurrentdb://h:2113?tls=false&tls=true', /gives the option "tls" twice/],
    ['kurrentdb://h:2113?TLS=false&tls=true', /twice/],
  ])('refuses %s: numbers are decimal digits, an option comes once', (text, reason) => {
    expect(() => normaliseKurrentDBConnectionString(text)).toThrow(reason);
  });

  // Under it the client resolves an append the server refused (a stale expectation) with
  // success: false, which an append's caller reads as stored: a command answered as recorded, lost.
  it.each(['kurrentdb://h:2113?tls=false&throwOnAppendFailure=false', 'esdb://h:2113?ThrowOnAppendFailure=false'])('refuses %s, naming the option: a refused append would be answered as stored', (text) => {
    expect(() => normaliseKurrentDBConnectionString(text)).toThrow(/throwOnAppendFailure=false/i);
  });

  it.each(['kurrentdb://', 'esdb:///', 'kurrentdb+discover://?tls=false'])('refuses %s, saying it names no host (not "Unexpected k at position 0")', (text) => {
    expect(() => normaliseKurrentDBConnectionString(text)).toThrow('names no host: give host:port after the scheme');
  });

  it.each(['keepAliveInterval', 'keepAliveTimeout'])('takes %s=-1, which the client reads as keepalive off, and refuses other negative numbers', (option) => {
    expect(normaliseKurrentDBConnectionString(`kurrentdb://h:2113?tls=false&${option}=-1`)).toBe(`kurrentdb://h:2113?tls=false&${option}=-1`);
    expect(() => normaliseKurrentDBConnectionString(`kurrentdb://h:2113?tls=false&${option}=-2`)).toThrow(`${option}=-2`);
  });

  // defaultDeadline=1 (1 ms) was taken, and every append then failed with an unknown outcome while
  // /health said ok: a deadline or timeout no call can meet is a slip (seconds meant, or a unit).
  it.each([
    ['defaultDeadline', '1'],
    ['defaultDeadline', '0'],
    ['defaultDeadline', '99'],
    ['gossipTimeout', '5'],
    ['keepAliveTimeout', '10'],
  ])('refuses %s=%s, naming the option and the least it takes: no call is answered that fast', (option, value) => {
    expect(() => normaliseKurrentDBConnectionString(`kurrentdb://h:2113?tls=false&${option}=${value}`)).toThrow(new RegExp(`gives ${option}=${value}: .*at least 100 ms`));
  });

  it.each(['defaultDeadline=100', 'gossipTimeout=100', 'keepAliveTimeout=100', 'DefaultDeadline=2500'])('takes %s', (option) => {
    expect(normaliseKurrentDBConnectionString(`kurrentdb://h:2113?tls=false&${option}`)).toBe(`kurrentdb://h:2113?tls=false&${option}`);
  });

  it('takes the usual forms', () => {
    for (const text of ['kurrentdb://localhost:2113?tls=false', 'kurrentdb://admin:changeit@n1:2113,n2:2113,n3:2113?tls=true&defaultDeadline=10000', 'esdb+discover://cluster.example.com:2113']) {
      expect(() => normaliseKurrentDBConnectionString(text)).not.toThrow();
    }
  });
});

describe('readsMayLag: whether a read not asking for the leader may come from a follower behind it', () => {
  it.each([
    ['kurrentdb://localhost:2113?tls=false', false],
    ['kurrentdb://localhost:2113?tls=false&nodePreference=leader', false],
    ['kurrentdb://localhost:2113?tls=false&NodePreference=Leader', false],
    ['kurrentdb://localhost:2113?tls=false&nodePreference=follower', true],
    ['esdb://localhost:2113?tls=false&nodePreference=random', true],
    ['kurrentdb://localhost:2113?tls=false&nodePreference=readOnlyReplica', true],
  ])('%s: %s', async (connectionString, lags) => {
    const store = getKurrentDBEventStore({ connectionString });
    try {
      expect(store.readsMayLag?.()).toBe(lags);
    } finally {
      await store.close();
    }
  });
});

describe('connectionStringUser', () => {
  it.each([
    ['kurrentdb://auditor:s3cret@localhost:2113?tls=false', 'auditor'],
    ['kurrentdb://ops%40acme:p%3Aw@node1:2113,node2:2113', 'ops@acme'],
    ['kurrentdb://auditor:p@ss@localhost:2113', 'auditor'],
    ['esdb+discover://reader@cluster.local:2113', 'reader'],
    ['kurrentdb://localhost:2113?tls=false', undefined],
  ])('names the user of %s and never its password', (text, user) => {
    expect(connectionStringUser(text)).toBe(user);
  });
});
