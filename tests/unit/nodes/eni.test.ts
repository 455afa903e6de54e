import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DescribeNetworkInterfacesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  createEniLookup,
  eniDescriptions,
  loadBalancerNameOf,
  matchesDescription,
  prefetchedEniLookup,
  type LoadBalancerEni,
} from '../../../shared/nodes/eni';
import { observeNodes } from '../../../shared/nodes/observe';
import type { DnsLookup } from '../../../shared/nodes/dns';
import { albPage, classicPage1, classicPage2, internalNlbPage } from '../../fixtures/ec2/network-interfaces';

const ec2Mock = mockClient(EC2Client);
const client = new EC2Client({ region: 'us-east-1', maxAttempts: 1 });

/** A DnsLookup with fixed answers (the DNS side has its own tests against a real server). */
function fixedDns(a: Record<string, string[]>, aaaa: Record<string, string[]> = {}): DnsLookup {
  const nodata = () => Object.assign(new Error('no data'), { code: 'ENODATA' });
  return {
    resolve4: async (n) => a[n] ?? Promise.reject(nodata()),
    resolve6: async (n) => aaaa[n] ?? Promise.reject(nodata()),
    reverse: async () => Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' })),
    resolveCname: async () => Promise.reject(nodata()),
  };
}
const now = () => new Date('2026-11-25T10:02:00Z');

describe('Function: createEniLookup', () => {
  beforeEach(() => ec2Mock.reset());

  it('reads every page of a Classic ELB and filters on description and requester-managed', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolvesOnce(classicPage1).resolvesOnce(classicPage2);

    const enis = await createEniLookup(client)({ descriptions: ['ELB test'] });

    expect(enis.map((e) => [e.eniId, e.az, e.publicIp, e.privateIp])).toEqual([
      ['eni-0aaa000000000001', 'us-east-1a', '50.19.115.50', '172.31.16.10'],
      ['eni-0aaa000000000002', 'us-east-1b', '54.204.235.46', '172.31.32.11'],
      ['eni-0aaa000000000003', 'us-east-1b', '54.204.235.47', '172.31.32.12'],
    ]);
    const calls = ec2Mock.commandCalls(DescribeNetworkInterfacesCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0].input.Filters).toEqual([
      { Name: 'description', Values: ['ELB test'] },
      { Name: 'requester-managed', Values: ['true'] },
    ]);
    expect(calls[1]?.args[0].input.NextToken).toBe('page-2');
  });

  it('keeps the IPv6 addresses of a dualstack ALB', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves(albPage);
    const enis = await createEniLookup(client)({
      descriptions: eniDescriptions({ name: 'my-alb', type: 'app', id: '50dc6c495c0c9188' }),
    });
    expect(enis[0]?.ipv6).toEqual(['2600:1f18:1::10']);
  });
});

describe('Function: eniDescriptions', () => {
  it('matches all three kinds for a bare name, one for an ARN', () => {
    expect(eniDescriptions({ name: 'web' })).toEqual(['ELB web', 'ELB app/web/*', 'ELB net/web/*']);
    expect(eniDescriptions({ name: 'web', type: 'net', id: 'abc' })).toEqual(['ELB net/web/abc']);
  });
  it('leaves out the NLB pattern when the DNS name has the Classic/ALB shape', () => {
    expect(eniDescriptions({ name: 'web', type: 'classic-or-app' })).toEqual(['ELB web', 'ELB app/web/*']);
  });
});

describe('Function: matchesDescription', () => {
  it.each([
    ['ELB web', 'ELB web', true],
    ['ELB web', 'ELB web-2', false],
    ['ELB app/web/*', 'ELB app/web/0123', true],
    ['ELB app/web/*', 'ELB app/web-2/0123', false],
    ['ELB app/web/*', 'ELB app/web/', true],
    ['ELB app/w?b/*', 'ELB app/web/1', true],
    ['ELB *web', 'ELB my-web', true],
    ['ELB a.b', 'ELB aXb', false],
  ])('%j against %j: %s (EC2 wildcard semantics)', (pattern, description, expected) => {
    expect(matchesDescription(pattern, description)).toBe(expected);
  });
});

describe('Function: loadBalancerNameOf', () => {
  it.each([
    ['ELB web', 'web'],
    ['ELB app/web/50dc6c495c0c9188', 'web'],
    ['ELB net/web-2/*', 'web-2'],
    ['ELB app/web', null],
    ['ELB gwy/web/abc', null],
    ['Primary network interface', null],
    ['', null],
  ])('%j → %j', (description, name) => {
    expect(loadBalancerNameOf(description)).toBe(name);
  });
});

describe('Function: prefetchedEniLookup', () => {
  const eni = (eniId: string, description: string): LoadBalancerEni => ({
    eniId,
    az: 'us-east-1a',
    description,
    privateIp: '10.0.0.1',
    publicIp: null,
    ipv6: [],
  });
  const region = [
    eni('eni-1', 'ELB web'),
    eni('eni-2', 'ELB app/web/0123456789abcdef'),
    eni('eni-3', 'ELB web-2'),
    eni('eni-4', 'ELB app/web-2/0123456789abcdef'),
    eni('eni-5', 'ELB net/web/fedcba9876543210'),
    eni('eni-6', 'Primary network interface'),
  ];

  it("hands each load balancer exactly its own ENIs, never a longer name's", async () => {
    const lookup = prefetchedEniLookup(region);
    expect((await lookup({ descriptions: ['ELB web', 'ELB app/web/*'] })).map((e) => e.eniId)).toEqual([
      'eni-1',
      'eni-2',
    ]);
    expect((await lookup({ descriptions: ['ELB net/web/fedcba9876543210'] })).map((e) => e.eniId)).toEqual(['eni-5']);
    expect((await lookup({ descriptions: ['ELB net/web/0000000000000000'] })).map((e) => e.eniId)).toEqual([]);
    expect(
      (await lookup({ descriptions: ['ELB web-2', 'ELB app/web-2/*', 'ELB net/web-2/*'] })).map((e) => e.eniId),
    ).toEqual(['eni-3', 'eni-4']);
  });

  it('still answers a pattern with a wildcard in the name (not one elbscope makes) by matching every ENI', async () => {
    expect((await prefetchedEniLookup(region)({ descriptions: ['ELB app/web*/*'] })).map((e) => e.eniId)).toEqual([
      'eni-2',
      'eni-4',
    ]);
  });

  it("replays the batch's failure to every load balancer", async () => {
    await expect(prefetchedEniLookup(new Error('throttled'))({ descriptions: ['ELB web'] })).rejects.toThrow(
      'throttled',
    );
  });
});

describe('Function: observeNodes with EC2', () => {
  beforeEach(() => ec2Mock.reset());

  it('places Classic nodes in AZs and counts provisioned vs advertised', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolvesOnce(classicPage1).resolvesOnce(classicPage2);
    const dns = fixedDns({
      'test-738445577.us-east-1.elb.amazonaws.com': ['50.19.115.50', '54.204.235.46', '52.94.0.9'],
    });

    const o = await observeNodes(
      { dnsName: 'test-738445577.us-east-1.elb.amazonaws.com' },
      { dns, enis: createEniLookup(client), now },
      { queries: 2 },
    );

    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1b': { provisioned: 2, advertised: 1 },
    });
    const byIp = Object.fromEntries(o.nodes.map((n) => [n.ip, n]));
    expect(byIp['50.19.115.50']).toMatchObject({
      az: 'us-east-1a',
      eniId: 'eni-0aaa000000000001',
      privateIp: '172.31.16.10',
      state: 'in-service',
      sources: ['dns', 'eni'],
      region: 'us-east-1',
    });
    expect(byIp['54.204.235.47']).toMatchObject({ state: 'not-in-dns', sources: ['eni'] });
    expect(byIp['52.94.0.9']).toMatchObject({ state: 'no-eni', az: null, sources: ['dns'] });
    expect(o.kind).toBe('classic');
  });

  it('matches an internal NLB by private IP', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves(internalNlbPage);
    const name = 'internal-my-nlb-0123456789abcdef.elb.eu-west-1.amazonaws.com';
    const dns = fixedDns({ [name]: ['10.1.1.5', '10.1.2.5'] });

    const o = await observeNodes({ dnsName: name }, { dns, enis: createEniLookup(client), now }, { queries: 1 });

    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)[0]?.args[0].input.Filters?.[0]?.Values).toEqual([
      'ELB net/my-nlb/*',
    ]);
    expect(o.azs).toEqual({
      'eu-west-1a': { provisioned: 1, advertised: 1 },
      'eu-west-1b': { provisioned: 1, advertised: 1 },
    });
    expect(o.kind).toBe('network');
  });

  it('counts a dualstack node once per AZ although DNS gives it an A and an AAAA', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves(albPage);
    const name = 'dualstack.my-alb-1234567890.us-east-1.elb.amazonaws.com';
    const dns = fixedDns({ [name]: ['3.210.1.1', '3.210.1.2'] }, { [name]: ['2600:1f18:1::10', '2600:1f18:3::10'] });

    const o = await observeNodes({ dnsName: name }, { dns, enis: createEniLookup(client), now }, { queries: 1 });

    expect(o.nodes).toHaveLength(4);
    expect(o.nodes.filter((n) => n.family === 6).map((n) => n.az)).toEqual(['us-east-1a', 'us-east-1c']);
    expect(o.kind).toBe('application'); // the ENIs say ELB app/…, though the DNS name could be a Classic's
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1c': { provisioned: 1, advertised: 1 },
    });
  });

  it.each([
    [
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
      /DescribeNetworkInterfaces \(ELB test\): UnauthorizedOperation: You are not authorized/,
    ],
    ['RequestLimitExceeded', 'Request limit exceeded.', /RequestLimitExceeded: Request limit exceeded\./],
  ])('reports %s as a one-line eni error and keeps the DNS nodes (state unmapped)', async (code, message, expected) => {
    ec2Mock
      .on(DescribeNetworkInterfacesCommand)
      .rejects(new EC2ServiceException({ name: code, $fault: 'client', $metadata: {}, message }));
    const dns = fixedDns({ 'test-738445577.us-east-1.elb.amazonaws.com': ['50.19.115.50'] });

    const o = await observeNodes(
      { dnsName: 'test-738445577.us-east-1.elb.amazonaws.com' },
      { dns, enis: createEniLookup(client), now },
      { queries: 1 },
    );

    expect(o.errors).toEqual([{ source: 'eni', message: expect.stringMatching(expected) }]);
    expect(o.errors[0]?.message).not.toContain('\n');
    expect(o.nodes).toMatchObject([{ ip: '50.19.115.50', state: 'unmapped', az: null }]);
    expect(o.azs).toEqual({});
  });

  it('takes the Classic ENIs when a Classic and an ALB share the name and only the Classic ones carry the advertised IP', async () => {
    ec2Mock.on(DescribeNetworkInterfacesCommand).resolves({
      NetworkInterfaces: [
        ...(classicPage2.NetworkInterfaces ?? []),
        ...(albPage.NetworkInterfaces ?? []).map((n) => ({ ...n, Description: 'ELB app/test/50dc6c495c0c9188' })),
      ],
    });
    const dns = fixedDns({ 'test-738445577.us-east-1.elb.amazonaws.com': ['54.204.235.47'] });

    const o = await observeNodes(
      { dnsName: 'test-738445577.us-east-1.elb.amazonaws.com' },
      { dns, enis: createEniLookup(client), now },
      { queries: 1 },
    );

    expect(o.errors).toEqual([]);
    expect(o.kind).toBe('classic');
    expect(o.nodes.find((n) => n.ip === '54.204.235.47')).toMatchObject({ state: 'in-service', az: 'us-east-1b' });
    expect(o.nodes.every((n) => n.eniId?.startsWith('eni-0aaa'))).toBe(true);
  });

  it('asks for a name when the DNS name is not AWS-shaped', async () => {
    const o = await observeNodes(
      { dnsName: 'lb.example.com' },
      { dns: fixedDns({ 'lb.example.com': ['52.94.2.1'] }), enis: createEniLookup(client), now },
      { queries: 1 },
    );
    expect(ec2Mock.commandCalls(DescribeNetworkInterfacesCommand)).toHaveLength(0);
    expect(o.errors).toEqual([
      { source: 'config', message: expect.stringContaining('set "name" or "arn"') },
      // No CNAME leads to a load balancer's name: all. cannot be asked, and that is said.
      {
        source: 'all',
        code: 'no-elb-name',
        message: expect.stringContaining("lb.example.com is not a load balancer's DNS name and has no CNAME to one"),
      },
    ]);
  });
});
