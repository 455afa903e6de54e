import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeLoadBalancersCommand as DescribeClassic,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeLoadBalancersCommand as DescribeV2,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { emptyElbApi, startElbApi, type RunningElbApi } from '../../../lab/elb-api/server';
import { createOwnNameLookup } from '../../../shared/nodes/own-name';

// The lab's ELB API stand-in, driven by the real SDK clients: the documented
// contract refuses what AWS refuses, and the own-name lookup reads its answers.
const ALB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188';
const state = emptyElbApi();
state.classic.push(
  { name: 'web', dnsName: 'web-1.us-east-1.elb.amazonaws.com' },
  { name: 'legacy', dnsName: 'legacy-2.us-east-1.elb.amazonaws.com' },
  { name: 'odd', dnsName: 'not an elb' },
);
state.v2.push({ arn: ALB_ARN, name: 'web', dnsName: 'web-3.us-east-1.elb.amazonaws.com', type: 'application' });
let api: RunningElbApi;
let elb: ElasticLoadBalancingClient;
let elbv2: ElasticLoadBalancingV2Client;

beforeAll(async () => {
  api = await startElbApi(state);
  const options = {
    region: 'us-east-1',
    endpoint: api.url,
    credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
    maxAttempts: 1,
  };
  elb = new ElasticLoadBalancingClient(options);
  elbv2 = new ElasticLoadBalancingV2Client(options);
});
afterAll(async () => api.close());

describe('The lab ELB API: DescribeLoadBalancers held to its documented contract', () => {
  it.each([
    [
      'names and ARNs together',
      () => elbv2.send(new DescribeV2({ Names: ['web'], LoadBalancerArns: [ALB_ARN] })),
      /cannot be specified at the same time/,
    ],
    [
      '21 ARNs',
      () => elbv2.send(new DescribeV2({ LoadBalancerArns: Array.from({ length: 21 }, () => ALB_ARN) })),
      /up to 20 load balancer ARNs/,
    ],
    ['a PageSize of 401', () => elbv2.send(new DescribeV2({ PageSize: 401 })), /between 1 and 400/],
    ['a PageSize of 0 (Classic)', () => elb.send(new DescribeClassic({ PageSize: 0 })), /between 1 and 400/],
    [
      'a Classic name with a trailing hyphen',
      () => elb.send(new DescribeClassic({ LoadBalancerNames: ['web-'] })),
      /1-32 letters, digits or hyphens/,
    ],
    [
      'an ARN that is not one',
      () => elbv2.send(new DescribeV2({ LoadBalancerArns: ['arn:aws:s3:::bucket'] })),
      /not a valid load balancer ARN/,
    ],
  ])('refuses %s with ValidationError (400)', async (_label, call, message) => {
    const err = await call().then(
      () => null,
      (e: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => e,
    );
    expect(err).toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 400 } });
    expect(err?.message).toMatch(message);
  });

  it('answers LoadBalancerNotFound (400) when one named load balancer does not exist', async () => {
    const classic = await elb.send(new DescribeClassic({ LoadBalancerNames: ['web', 'gone'] })).catch((e) => e);
    expect(classic).toMatchObject({ name: 'AccessPointNotFoundException', $metadata: { httpStatusCode: 400 } });
    const v2 = await elbv2.send(new DescribeV2({ Names: ['gone'] })).catch((e) => e);
    expect(v2).toMatchObject({ name: 'LoadBalancerNotFoundException', $metadata: { httpStatusCode: 400 } });
  });
});

describe('Function: createOwnNameLookup', () => {
  const lookup = () => createOwnNameLookup({ elb, elbv2 });

  it("gives a Classic ELB's own DNS name by name, an ALB's by ARN", async () => {
    expect(await lookup()({ name: 'legacy' })).toBe('legacy-2.us-east-1.elb.amazonaws.com');
    expect(await lookup()({ arn: ALB_ARN, name: 'web' })).toBe('web-3.us-east-1.elb.amazonaws.com');
  });

  it.each([
    [{ name: 'web' }, 'both a Classic ELB and an ALB/NLB are named "web"; set "arn" to pick the ALB/NLB'],
    [{ name: 'gone' }, 'no Classic, application or network load balancer is named "gone" in this region and account'],
    [
      { name: 'odd' },
      'DescribeLoadBalancers (odd): the answer\'s DNSName "not an elb" is not a load balancer DNS name',
    ],
  ])('refuses with one line for %j', async (query, message) => {
    await expect(lookup()(query)).rejects.toThrow(message);
  });

  it('names a failed call (throttled) rather than reading it as "none"', async () => {
    state.failNext.push(
      { code: 'Throttling', status: 400, message: 'Rate exceeded' },
      { code: 'Throttling', status: 400, message: 'Rate exceeded' },
    );
    await expect(lookup()({ name: 'legacy' })).rejects.toThrow(
      /DescribeLoadBalancers \((Classic, )?legacy\): Throttling: Rate exceeded/,
    );
  });
});
