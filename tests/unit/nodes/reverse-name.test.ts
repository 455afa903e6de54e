import { describe, expect, it } from 'vitest';
import { reverseName } from '../../../shared/nodes/dns';

describe('reverseName: the PTR name asked for an address', () => {
  it('IPv4 and every IPv6 spelling', () => {
    expect(reverseName('50.19.115.50')).toBe('50.115.19.50.in-addr.arpa');
    const full = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa';
    expect(reverseName('2001:db8::1')).toBe(full);
    expect(reverseName('2001:0DB8:0:0:0:0:0:1')).toBe(full);
    expect(reverseName('::1')).toBe(`1${'.0'.repeat(31)}.ip6.arpa`);
    expect(reverseName('::ffff:192.0.2.1')).toBe(`1.0.2.0.0.0.0.c.f.f.f.f${'.0'.repeat(20)}.ip6.arpa`);
    expect(() => reverseName('not-an-ip')).toThrow('not-an-ip: not an IP address');
  });
});
