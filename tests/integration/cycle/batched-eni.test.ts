import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EC2Client } from '@aws-sdk/client-ec2';
import { emptyZone, startDnsServer, type RunningDnsServer } from '../../../lab/dns/server';
import { startEc2Endpoint, type Ec2State, type RunningEc2Endpoint } from '../../../lab/ec2/server';
import { parseConfig } from '../../../shared/config/load';
import { observeConfigured } from '../../../shared/cycle/observe-configured';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';

// 250 Classic load balancers and 3 ALBs in one region: one cycle must find every
// node's ENI with a handful of DescribeNetworkInterfaces calls (199 descriptions and
// requester-managed=true: EC2's 200 filter values a call), not one per load balancer,
// and give each load balancer only its own.
const zone = emptyZone();
const ec2State: Ec2State = { enis: [], failNext: [], requests: [], refused: [] };
let dns: RunningDnsServer;
let endpoint: RunningEc2Endpoint;
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const names = Array.from({ length: 250 }, (_, i) => `lb${i}`);

beforeAll(async () => {
  names.forEach((name, i) => {
    const ips = [1, 2].map((n) => `127.3.${i % 250}.${n}`);
    zone.hosts.set(`${name}-1.us-east-1.elb.amazonaws.com`, { a: ips });
    for (const [n, ip] of ips.entries())
      ec2State.enis.push({
        eniId: `eni-${name}-${n}`,
        az: AZS[(i + n) % 3] as string,
        description: `ELB ${name}`,
        privateIp: `10.${i % 250}.0.${n}`,
        publicIp: ip,
      });
  });
  // An ALB whose name is a prefix of another's must not take its neighbour's ENIs.
  for (const [j, name] of ['web', 'web-2', 'webapp'].entries()) {
    zone.hosts.set(`${name}-99.us-east-1.elb.amazonaws.com`, { a: [`127.4.${j}.1`] });
    ec2State.enis.push({
      eniId: `eni-alb-${name}`,
      az: 'us-east-1a',
      description: `ELB app/${name}/0123456789abcdef`,
      privateIp: `10.99.${j}.1`,
      publicIp: `127.4.${j}.1`,
    });
  }
  dns = await startDnsServer(zone);
  endpoint = await startEc2Endpoint(ec2State);
});
afterAll(async () => Promise.all([dns.close(), endpoint.close()]));

describe('Batched ENI lookups', () => {
  it("maps every node to its own load balancer and AZ with one call per 199 descriptions, within EC2's 200 filter values a call", async () => {
    const config = parseConfig(
      {
        loadBalancers: [
          ...names.map((n) => ({ dnsName: `${n}-1.us-east-1.elb.amazonaws.com` })),
          ...['web', 'web-2', 'webapp'].map((n) => ({ dnsName: `${n}-99.us-east-1.elb.amazonaws.com` })),
        ],
        dns: { servers: [dns.address], queries: 1, timeoutMs: 2000, allowLoopbackNodes: true },
        concurrency: 64,
      },
      'test',
    );
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: endpoint.url });
    const observations = await observeConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(ec2),
      now: () => new Date(),
    });
    ec2.destroy();

    // 253 Classic/ALB-shaped names × 2 patterns each (such a name cannot be an NLB's) = 506
    // descriptions → 3 calls of ≤ 199 (+1 requester-managed value).
    const calls = ec2State.requests.filter((r) => r.Action === 'DescribeNetworkInterfaces');
    expect(calls).toHaveLength(3);
    expect(ec2State.refused).toEqual([]);
    names.forEach((name, i) => {
      const o = observations[i];
      expect(o?.errors).toEqual([]);
      expect(o?.nodes.map((n) => [n.eniId, n.az, n.state])).toEqual(
        [0, 1]
          .map((n) => [`eni-${name}-${n}`, AZS[(i + n) % 3], 'in-service'])
          .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      );
    });
    for (const [j, name] of ['web', 'web-2', 'webapp'].entries()) {
      expect(observations[250 + j]?.nodes.map((n) => n.eniId)).toEqual([`eni-alb-${name}`]);
    }
  });
});
