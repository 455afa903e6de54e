import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeLoadBalancersCommand as DescribeClassicCommand,
  DescribeTagsCommand as DescribeClassicTagsCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { discover } from '../../../shared/discovery/discover';
import { withDiscovered } from '../../../shared/discovery/merge';
import { parseConfig } from '../../../shared/config/load';

const elb = mockClient(ElasticLoadBalancingClient);
const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ec2 = mockClient(EC2Client);
const clients = () => ({
  elb: new ElasticLoadBalancingClient({ region: 'us-east-1' }),
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
  ec2: new EC2Client({ region: 'us-east-1' }),
});
const ALB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';
const NLB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/edge/0123456789abcdef';
const OTHER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/1111111111111111';

beforeEach(() => {
  for (const m of [elb, elbv2, ec2]) m.reset();
  elb
    .on(DescribeClassicCommand)
    .resolvesOnce({
      LoadBalancerDescriptions: [
        {
          LoadBalancerName: 'test',
          DNSName: 'test-738445577.us-east-1.elb.amazonaws.com',
          Instances: [{ InstanceId: 'i-0abc' }, { InstanceId: 'i-0def' }],
        },
      ],
      NextMarker: 'm2',
    })
    .resolvesOnce({
      LoadBalancerDescriptions: [
        { LoadBalancerName: 'legacy', DNSName: 'legacy-1.us-east-1.elb.amazonaws.com', Instances: [] },
      ],
    });
  elb.on(DescribeClassicTagsCommand).resolves({
    TagDescriptions: [
      { LoadBalancerName: 'test', Tags: [{ Key: 'elbscope', Value: 'watch' }] },
      { LoadBalancerName: 'legacy', Tags: [{ Key: 'team', Value: 'x' }] },
    ],
  });
  elbv2.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [
      {
        LoadBalancerArn: ALB,
        LoadBalancerName: 'web',
        DNSName: 'web-123.us-east-1.elb.amazonaws.com',
        Type: 'application',
      },
      {
        LoadBalancerArn: NLB,
        LoadBalancerName: 'edge',
        DNSName: 'edge-0123456789abcdef.elb.us-east-1.amazonaws.com',
        Type: 'network',
      },
      {
        LoadBalancerArn: OTHER,
        LoadBalancerName: 'other',
        DNSName: 'other-1.us-east-1.elb.amazonaws.com',
        Type: 'application',
      },
    ],
  });
  elbv2.on(DescribeTagsCommand).resolves({
    TagDescriptions: [
      { ResourceArn: ALB, Tags: [{ Key: 'elbscope', Value: 'watch' }] },
      { ResourceArn: NLB, Tags: [{ Key: 'elbscope', Value: 'watch' }] },
      { ResourceArn: OTHER, Tags: [] },
    ],
  });
  elbv2
    .on(DescribeTargetGroupsCommand, { LoadBalancerArn: ALB })
    .resolves({ TargetGroups: [{ TargetGroupArn: 'tg-web', TargetType: 'instance' }] });
  elbv2
    .on(DescribeTargetGroupsCommand, { LoadBalancerArn: NLB })
    .resolves({ TargetGroups: [{ TargetGroupArn: 'tg-edge', TargetType: 'ip' }] });
  elbv2
    .on(DescribeTargetHealthCommand, { TargetGroupArn: 'tg-web' })
    .resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-0def', Port: 80 } }] });
  elbv2
    .on(DescribeTargetHealthCommand, { TargetGroupArn: 'tg-edge' })
    .resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.9.9', Port: 443 } }] });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          { InstanceId: 'i-0abc', PrivateIpAddress: '10.0.1.5' },
          { InstanceId: 'i-0def', PrivateIpAddress: '10.0.2.6' },
        ],
      },
    ],
  });
});

describe('Function: discover', () => {
  it('finds tagged Classic and v2 load balancers with their backends through the templates', async () => {
    const { loadBalancers, errors } = await discover(
      {
        regions: ['us-east-1'],
        tags: { elbscope: 'watch' },
        accounts: [],
        statusUrlTemplate: 'http://{ip}/server-status',
        tlsTargetTemplate: '{ip}:443',
        refreshMinutes: 15,
      },
      clients,
    );
    expect(errors).toEqual([]);
    expect(loadBalancers.map((l) => l.name)).toEqual(['edge', 'test', 'web']);
    expect(loadBalancers.find((l) => l.name === 'test')).toEqual({
      dnsName: 'test-738445577.us-east-1.elb.amazonaws.com',
      name: 'test',
      region: 'us-east-1',
      backends: [
        {
          name: 'i-0abc',
          statusUrl: 'http://10.0.1.5/server-status',
          tls: { target: '10.0.1.5:443' },
          acceptFilterNone: false,
          statusTlsVerify: true,
        },
        {
          name: 'i-0def',
          statusUrl: 'http://10.0.2.6/server-status',
          tls: { target: '10.0.2.6:443' },
          acceptFilterNone: false,
          statusTlsVerify: true,
        },
      ],
    });
    expect(loadBalancers.find((l) => l.name === 'web')).toMatchObject({
      arn: ALB,
      backends: [{ name: 'i-0def', statusUrl: 'http://10.0.2.6/server-status' }],
    });
    expect(loadBalancers.find((l) => l.name === 'edge')).toMatchObject({
      arn: NLB,
      backends: [{ name: '10.0.9.9', statusUrl: 'http://10.0.9.9/server-status' }],
    });
    expect(elb.commandCalls(DescribeClassicCommand)[1]?.args[0].input.Marker).toBe('m2');
    expect(ec2.commandCalls(DescribeInstancesCommand)).toHaveLength(1); // one batched call for all instances
  });

  it('reports a region that fails (AccessDenied) and keeps the others', async () => {
    elb
      .on(DescribeClassicCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    const { loadBalancers, errors } = await discover(
      { regions: ['us-east-1'], tags: { elbscope: '*' }, accounts: [], refreshMinutes: 15 },
      clients,
    );
    expect(loadBalancers).toEqual([]);
    expect(errors).toEqual(['discovery in us-east-1: AccessDenied: User is not authorized']);
  });
});

describe('Function: withDiscovered', () => {
  it('adds discovered load balancers after the listed ones, skipping the listed, keyed by name and region so same-named ones stay apart', () => {
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: 'test-738445577.us-east-1.elb.amazonaws.com' }],
        discovery: { regions: ['us-east-1'], tags: { a: 'b' } },
      },
      'test',
    );
    const { config: merged, errors } = withDiscovered(config, [
      { dnsName: 'test-738445577.us-east-1.elb.amazonaws.com', name: 'test', backends: [] },
      { dnsName: 'web-1.us-east-1.elb.amazonaws.com', name: 'web', backends: [] },
      { dnsName: 'web-2.eu-west-1.elb.amazonaws.com', name: 'web', backends: [] },
    ]);
    expect(merged.loadBalancers.map((l) => [l.dnsName, l.key])).toEqual([
      ['test-738445577.us-east-1.elb.amazonaws.com', 'test'],
      ['web-1.us-east-1.elb.amazonaws.com', 'web.us-east-1'],
      ['web-2.eu-west-1.elb.amazonaws.com', 'web.eu-west-1'],
    ]);
    expect(errors).toEqual([]);
  });

  it('skips, naming both, a discovered load balancer whose key a listed one has taken', () => {
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: 'test-738445577.us-east-1.elb.amazonaws.com', key: 'web.us-east-1' }],
        discovery: { regions: ['us-east-1'], tags: { a: 'b' } },
      },
      'test',
    );
    const { config: merged, errors } = withDiscovered(config, [
      { dnsName: 'web-1.us-east-1.elb.amazonaws.com', name: 'web', region: 'us-east-1', backends: [] },
    ]);
    expect(merged.loadBalancers).toHaveLength(1);
    expect(errors).toEqual([
      'discovered web-1.us-east-1.elb.amazonaws.com would be filed as "web.us-east-1" like test-738445577.us-east-1.elb.amazonaws.com: list one of them in the configuration with a distinct "key"',
    ]);
  });

  it("names an answer that is not the API's (no LoadBalancers list: a proxy page, an empty 200) instead of finding none", async () => {
    elbv2.on(DescribeLoadBalancersCommand).resolves({});
    const { loadBalancers, errors } = await discover(
      { regions: ['us-east-1'], tags: { elbscope: '*' }, accounts: [], refreshMinutes: 15 },
      clients,
    );
    expect(loadBalancers).toEqual([]);
    expect(errors).toEqual([
      "discovery in us-east-1: Error: DescribeLoadBalancers: the answer has no LoadBalancers: not that API's response",
    ]);
  });
});
