import { clientAddressKey } from './client-address';

describe('clientAddressKey', () => {
  it('keeps IPv4 addresses, also when the socket reports them IPv4-mapped', () => {
    expect(clientAddressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddressKey('::FFFF:127.0.0.1')).toBe('127.0.0.1');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    const forms = ['2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0001', '2001:DB8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::1.2.3.4', 'fe80::1%eth0'.replace('fe80::1', '2001:db8:1:2::9')];
    expect(new Set(forms.map(clientAddressKey))).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientAddressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientAddressKey('::1')).toBe('0:0:0:0::/64');
    expect(clientAddressKey('2001:db8::')).toBe('2001:db8:0:0::/64');
  });

  it('names a missing address rather than failing', () => {
    expect(clientAddressKey(undefined)).toBe('unknown');
  });

  // The last answer is kept for the next request: asking in any order gives each address its own key.
  it('gives each address its own key whatever was asked before', () => {
    const addresses = ['10.0.0.1', '2001:db8:1:2:3:4:5:6', undefined, '::ffff:10.0.0.1', '10.0.0.2', '2001:db8:1:2::9', '10.0.0.1'];
    const keys = ['10.0.0.1', '2001:db8:1:2::/64', 'unknown', '10.0.0.1', '10.0.0.2', '2001:db8:1:2::/64', '10.0.0.1'];
    for (let round = 0; round < 2; round += 1) {
      addresses.forEach((address, index) => {
        expect(clientAddressKey(address)).toBe(keys[index]);
        expect(clientAddressKey(address)).toBe(keys[index]);
      });
    }
  });
});
