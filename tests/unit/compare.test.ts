import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareNatural, compareText } from '../../shared/compare';

const sign = (n: number) => Math.sign(n);

describe('Function: compareNatural', () => {
  it('orders IP addresses by their numbers', () => {
    const ips = ['127.1.0.10', '127.1.0.9', '10.0.0.1', '127.1.0.100', '127.01.0.9', '2001:db8::1', '2001:db8::a'];
    expect([...ips].sort(compareNatural)).toEqual([
      '10.0.0.1',
      '127.1.0.9',
      '127.01.0.9',
      '127.1.0.10',
      '127.1.0.100',
      '2001:db8::1',
      '2001:db8::a',
    ]);
  });

  it("agrees with localeCompare(…, 'en', { numeric: true }) on IPv4 addresses", () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    fc.assert(
      fc.property(ip, ip, (a, b) => sign(compareNatural(a, b)) === sign(a.localeCompare(b, 'en', { numeric: true }))),
    );
  });

  it('is an order: antisymmetric, and 0 only for equal strings of one shape', () => {
    const s = fc.stringMatching(/^[0-9a-f.:-]{0,12}$/);
    fc.assert(fc.property(s, s, (a, b) => sign(compareNatural(a, b)) === -sign(compareNatural(b, a))));
  });
});

describe('Function: compareText', () => {
  it('agrees with localeCompare on AZ names', () => {
    const azs = ['us-east-1b', 'us-east-1a', 'us-east-1-bos-1a', 'eu-west-3c', ''];
    expect([...azs].sort(compareText)).toEqual([...azs].sort((a, b) => a.localeCompare(b)));
  });
});
