import { redactCredentials } from './kurrentdb-connection-string';

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
