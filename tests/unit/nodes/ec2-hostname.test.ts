import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseEc2HostName } from '../../../shared/nodes/ec2-hostname';

describe('Function: parseEc2HostName', () => {
  it.each([
    ['ec2-50-19-115-50.compute-1.amazonaws.com', { ip: '50.19.115.50', region: 'us-east-1', kind: 'public' }],
    ['ec2-50-19-115-50.compute-1.amazonaws.com.', { ip: '50.19.115.50', region: 'us-east-1', kind: 'public' }],
    ['EC2-54-204-235-46.US-WEST-2.compute.amazonaws.com', { ip: '54.204.235.46', region: 'us-west-2', kind: 'public' }],
    ['ec2-52-80-1-2.cn-north-1.compute.amazonaws.com.cn', { ip: '52.80.1.2', region: 'cn-north-1', kind: 'public' }],
    ['ip-10-0-1-5.ec2.internal', { ip: '10.0.1.5', region: 'us-east-1', kind: 'private' }],
    ['ip-172-31-3-4.eu-central-1.compute.internal', { ip: '172.31.3.4', region: 'eu-central-1', kind: 'private' }],
  ])('parses %s', (host, expected) => {
    expect(parseEc2HostName(host)).toEqual(expected);
  });

  it.each([
    'ec2-300-1-1-1.compute-1.amazonaws.com', // octet out of range
    'ec2-01-1-1-1.compute-1.amazonaws.com', // leading zero
    'ec2-1-1-1.compute-1.amazonaws.com', // three octets
    'server-1-2-3-4.example.com',
    'ec2-1-2-3-4.compute-1.amazonaws.com.evil.example',
    '',
  ])('rejects %j', (host) => {
    expect(parseEc2HostName(host)).toBeNull();
  });

  it('round-trips every IPv4 address through the us-east-1 form (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(parseEc2HostName(`ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`)?.ip).toBe(ip);
      }),
    );
  });

  it('never throws on arbitrary input (fuzz)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => void parseEc2HostName(s)));
  });
});
