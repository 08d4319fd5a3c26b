import { classifyAddress, InvalidAllowlistEntryError, normalizeHost, OutboundAddressPolicy } from './outbound-address.js';

describe('classifyAddress', () => {
  it.each([
    // IPv4 special ranges
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    // IPv6 special ranges
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['febf:ffff::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['::7f00:1', 'reserved'], // IPv4-compatible (deprecated), outside 2000::/3
    ['100::1', 'discard'],
    ['2002:7f00:1::1', '6to4'],
    ['2001::1', 'teredo'],
    ['64:ff9b:1::1', 'rfc6052'], // local-use NAT64 prefix
  ])('refuses %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ public: false, range });
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
  ])('looks inside IPv4-mapped IPv6: %s is %s', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ public: false, range, via: 'ipv4Mapped' });
  });

  it.each([
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal'],
    ['64:ff9b::c0a8:101', 'private'],
  ])('looks inside NAT64 (64:ff9b::/96): %s is %s', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ public: false, range, via: 'nat64' });
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '169.253.255.255', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'admits the public address %s',
    (address) => {
      expect(classifyAddress(address)).toMatchObject({ public: true });
    },
  );

  it('reads brackets, and calls anything that is not a plain IP address invalid (URL parsing turns other spellings into plain ones first)', () => {
    expect(classifyAddress('[::1]')).toMatchObject({ public: false, range: 'loopback' });
    for (const text of ['localhost', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '', 'example.com']) {
      expect(classifyAddress(text)).toMatchObject({ public: false, range: 'invalid' });
    }
  });
});

describe('normalizeHost', () => {
  it('lower-cases, drops brackets and trailing dots', () => {
    expect(normalizeHost('[::1]')).toBe('::1');
    expect(normalizeHost('LocalHost.')).toBe('localhost');
    expect(normalizeHost(' Billing.Internal.. ')).toBe('billing.internal');
  });
});

describe('OutboundAddressPolicy', () => {
  const none = new OutboundAddressPolicy();

  it('refuses non-public IP literals before any lookup, naming the host but never a port', () => {
    expect(none.checkHost('127.0.0.1')).toEqual({
      host: '127.0.0.1',
      range: 'loopback',
      message: 'refused to call 127.0.0.1: it is a loopback address; only public addresses are called unless the outbound allowlist (HTTP_ALLOWED_HOSTS) admits the host',
    });
    expect(none.checkHost('[::ffff:7f00:1]')?.message).toMatch(/^refused to call \[::ffff:7f00:1\]: it is a loopback address \(IPv4-mapped IPv6\);/);
    expect(none.checkHost('169.254.169.254')?.message).toMatch(/it is a link-local address/);
    expect(none.checkHost('[64:ff9b::7f00:1]')?.message).toMatch(/loopback address \(NAT64\)/);
    expect(none.checkHost('192.0.2.1')?.message).toMatch(/a reserved or special-purpose address \(reserved\)/);
    expect(none.checkHost('8.8.8.8')).toBeUndefined();
    expect(none.checkHost('[2606:4700:4700::1111]')).toBeUndefined();
  });

  it('refuses localhost and *.localhost by name, in any case, with trailing dots; other names wait for their addresses', () => {
    for (const host of ['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'a.b.LocalHost.']) expect(none.checkHost(host)).toMatchObject({ range: 'loopback' });
    for (const host of ['example.com', 'localhost.example.com', 'notlocalhost']) expect(none.checkHost(host)).toBeUndefined();
  });

  it('refuses a name when ANY of its addresses is not public', () => {
    expect(none.checkResolved('svc.example', ['93.184.215.14'])).toBeUndefined();
    expect(none.checkResolved('svc.example', ['93.184.215.14', '127.0.0.1'])).toMatchObject({ range: 'loopback', message: expect.stringMatching(/^refused to call svc\.example: it resolves to a loopback address;/) as unknown });
    expect(none.checkResolved('svc.example', ['2606:4700:4700::1111', 'fd00::1'])).toMatchObject({ range: 'uniqueLocal' });
    expect(none.checkResolved('svc.example', ['::ffff:10.1.2.3'])).toMatchObject({ range: 'private' });
  });

  it('admits exactly what the allowlist names: an address, a CIDR, a host name', () => {
    const policy = new OutboundAddressPolicy(['127.0.0.1', '10.0.0.0/8', 'billing.internal', '[fd00::5]', 'Svc.Example.']);
    expect(policy.checkHost('127.0.0.1')).toBeUndefined();
    expect(policy.checkHost('[::ffff:127.0.0.1]')).toBeUndefined(); // the same address, IPv4-mapped
    expect(policy.checkHost('127.0.0.2')).toMatchObject({ range: 'loopback' });
    expect(policy.checkHost('[::1]')).toMatchObject({ range: 'loopback' });
    expect(policy.checkHost('localhost')).toMatchObject({ range: 'loopback' }); // a name the list does not hold
    expect(policy.checkHost('10.200.3.4')).toBeUndefined();
    expect(policy.checkHost('11.0.0.1')).toBeUndefined(); // public anyway
    expect(policy.checkHost('172.16.0.1')).toMatchObject({ range: 'private' });
    expect(policy.checkHost('[fd00::5]')).toBeUndefined();
    expect(policy.checkHost('[fd00::6]')).toMatchObject({ range: 'uniqueLocal' });
    expect(policy.checkHost('169.254.169.254')).toMatchObject({ range: 'linkLocal' });

    // A listed name admits whatever it resolves to; its subdomains and other names do not.
    expect(policy.checkResolved('billing.internal', ['192.168.7.7'])).toBeUndefined();
    expect(policy.checkResolved('BILLING.internal.', ['192.168.7.7'])).toBeUndefined();
    expect(policy.checkResolved('svc.example', ['127.0.0.1'])).toBeUndefined();
    expect(policy.checkResolved('x.billing.internal', ['192.168.7.7'])).toMatchObject({ range: 'private' });
    expect(policy.checkResolved('other.internal', ['192.168.7.7'])).toMatchObject({ range: 'private' });
    // A CIDR admits the addresses inside it, whichever name resolved to them.
    expect(policy.checkResolved('other.internal', ['10.9.9.9'])).toBeUndefined();
    expect(policy.checkResolved('other.internal', ['10.9.9.9', '172.16.0.1'])).toMatchObject({ range: 'private' });
  });

  it('a listed localhost name is admitted', () => {
    expect(new OutboundAddressPolicy(['localhost']).checkHost('localhost.')).toBeUndefined();
    expect(new OutboundAddressPolicy(['localhost']).checkHost('api.localhost')).toMatchObject({ range: 'loopback' });
  });

  it.each(['*.internal', '10.0.0.0/33', '0x7f.1/8', '127.1', '0x7f.1', 'http://x', 'a b', 'host:80'])('refuses the malformed allowlist entry %j', (entry) => {
    expect(() => new OutboundAddressPolicy([entry])).toThrow(InvalidAllowlistEntryError);
  });
});
