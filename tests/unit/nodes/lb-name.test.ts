import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isHostName, parseLoadBalancerArn, parseLoadBalancerDnsName } from '../../../shared/nodes/lb-name';

describe('Function: parseLoadBalancerDnsName', () => {
  it.each([
    [
      'test-738445577.us-east-1.elb.amazonaws.com',
      { name: 'test', region: 'us-east-1', internal: false, dualstack: false, shape: 'classic-or-application' },
    ],
    [
      'internal-api-1234.eu-west-1.elb.amazonaws.com',
      { name: 'api', region: 'eu-west-1', internal: true, dualstack: false },
    ],
    [
      'dualstack.web-prod-99.ap-southeast-2.elb.amazonaws.com.',
      { name: 'web-prod', region: 'ap-southeast-2', dualstack: true },
    ],
    [
      'DualStack.Internal-My-LB-42.us-west-2.elb.amazonaws.com',
      { name: 'my-lb', region: 'us-west-2', internal: true, dualstack: true },
    ],
    ['my-nlb-0123456789abcdef.elb.us-east-2.amazonaws.com', { name: 'my-nlb', region: 'us-east-2', shape: 'network' }],
    ['cn-lb-1.cn-north-1.elb.amazonaws.com.cn', { name: 'cn-lb', region: 'cn-north-1' }],
    [
      'ipv6.web-99.us-east-1.elb.amazonaws.com',
      { name: 'web', ipv6: true, dualstack: false, ownDnsName: 'web-99.us-east-1.elb.amazonaws.com' },
    ],
    [
      'dualstack.web-99.us-east-1.elb.amazonaws.com',
      { name: 'web', ipv6: false, dualstack: true, ownDnsName: 'web-99.us-east-1.elb.amazonaws.com' },
    ],
    ['ipv6.example.com', { name: null, ipv6: false, ownDnsName: 'ipv6.example.com' }],
  ])('parses %s', (dns, expected) => {
    expect(parseLoadBalancerDnsName(dns)).toMatchObject(expected);
  });

  it('keeps a valid non-AWS name with no load balancer name', () => {
    expect(parseLoadBalancerDnsName('lb.example.com')).toEqual({
      dnsName: 'lb.example.com',
      name: null,
      region: null,
      internal: false,
      dualstack: false,
      ipv6: false,
      ownDnsName: 'lb.example.com',
      shape: 'unknown',
    });
  });

  it.each(['', 'bad..name', '-lead.example.com', 'under_score.example.com', `${'a'.repeat(64)}.com`, 'http://x.com'])(
    'rejects malformed %j',
    (dns) => {
      expect(parseLoadBalancerDnsName(dns)).toBeNull();
    },
  );

  it('never throws, whatever the input (fuzz)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const parsed = parseLoadBalancerDnsName(s);
        expect(parsed === null || isHostName(parsed.dnsName)).toBe(true);
      }),
    );
  });
});

describe('Function: parseLoadBalancerArn', () => {
  it('reads region, type, name and id of an ALB ARN', () => {
    expect(
      parseLoadBalancerArn(
        'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188',
      ),
    ).toEqual({
      region: 'us-east-1',
      type: 'app',
      name: 'my-alb',
      id: '50dc6c495c0c9188',
    });
  });

  it('rejects a target group ARN', () => {
    expect(
      parseLoadBalancerArn('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/50dc6c495c0c9188'),
    ).toBeNull();
  });

  it('takes no dotted name part: all.<name> and other prefixed names are not a load balancer of their own', () => {
    expect(parseLoadBalancerDnsName('all.web-1.us-east-1.elb.amazonaws.com')?.name).toBeNull();
    expect(parseLoadBalancerDnsName('a.edge-0a1b2c3d.elb.us-east-1.amazonaws.com')?.name).toBeNull();
    expect(parseLoadBalancerDnsName('dualstack.web-1.us-east-1.elb.amazonaws.com')?.name).toBe('web');
  });
});
