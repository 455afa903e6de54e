import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { emptyElbApi, startElbApi, type RunningElbApi } from '../../../lab/elb-api/server';
import { createOwnNameLookup, rememberingOwnNames, type OwnNameLookup } from '../../../shared/nodes/own-name';
import { parseConfig } from '../../../shared/config/load';
import { observeConfigured } from '../../../shared/cycle/observe-configured';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { observeNodes } from '../../../shared/nodes/observe';
import { observeCapacity } from '../../../shared/capacity/observe';
import type { MetricPoints, MetricTarget } from '../../../shared/capacity/cloudwatch';
import { useLabElb } from '../../helpers/lab-elb';

// A load balancer behind a name of the customer's (a CNAME, or a Route 53 alias),
// 12 nodes: more than one DNS answer holds (8), so only `all.` of the load
// balancer's own name shows them all. The lab's DNS server answers CNAME chains and
// aliases; for an alias (no CNAME shows) the own name comes from the ELB API, here
// the lab's stand-in held to DescribeLoadBalancers' documented contract.
describe('A load balancer behind a CNAME or an alias', () => {
  const running = useLabElb({
    name: 'shop',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 4, 'us-east-1b': 4, 'us-east-1c': 4 },
  });
  const { lab } = running;
  lab.zone.hosts.set('www.shop.example', { cname: 'edge.shop.example' });
  lab.zone.hosts.set('edge.shop.example', { cname: lab.dnsName });
  lab.zone.hosts.set('alias.shop.example', { alias: lab.dnsName });
  const elbApi = emptyElbApi();
  elbApi.classic.push({ name: 'shop', dnsName: lab.dnsName });
  let api: RunningElbApi;
  let ownNames: OwnNameLookup;
  beforeAll(async () => {
    api = await startElbApi(elbApi);
    const client = {
      region: 'us-east-1',
      endpoint: api.url,
      credentials: { accessKeyId: 'lab', secretAccessKey: 'lab' },
      maxAttempts: 1,
    };
    ownNames = rememberingOwnNames(
      createOwnNameLookup({
        elb: new ElasticLoadBalancingClient(client),
        elbv2: new ElasticLoadBalancingV2Client(client),
      }),
    );
  });
  afterAll(async () => api.close());
  const observe = async (dnsName: string, withApi = false, name = 'shop') => {
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName, name, region: 'us-east-1' }],
        dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, queries: 1, allowLoopbackNodes: true },
      },
      'test',
    );
    const [o] = await observeConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(running.ec2),
      ownNameFor: withApi ? () => ownNames : null,
      now: () => new Date(),
    });
    return o!;
  };
  const allPlaced = {
    'us-east-1a': { provisioned: 4, advertised: 4 },
    'us-east-1b': { provisioned: 4, advertised: 4 },
    'us-east-1c': { provisioned: 4, advertised: 4 },
  };

  // Only the name of the customer's is configured (no "name", "arn" or region): where its CNAMEs end names the load
  // balancer, for its ENIs (asked after the CNAMEs were followed, batched per region), its metrics and its region.
  it('places every node of a name that only CNAMEs to the load balancer in its AZ from the ENIs, asked in one batch', async () => {
    lab.zone.hosts.set('api.shop.example', { cname: lab.dnsName });
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: 'www.shop.example' }, { dnsName: 'api.shop.example' }, { dnsName: lab.dnsName }],
        dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, queries: 1, allowLoopbackNodes: true },
      },
      'test',
    );
    const before = lab.ec2.requests.length;
    const regions: string[] = [];
    const observations = await observeConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: (region) => (regions.push(region), createEniLookup(running.ec2)),
      now: () => new Date(),
    });
    for (const o of observations) {
      expect(o.errors).toEqual([]);
      expect(o.kind).toBe('classic');
      expect(o.azs).toEqual(allPlaced);
      expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(12);
    }
    expect(observations[0]?.cnames).toEqual(['edge.shop.example', lab.dnsName]);
    // One call for the load balancer named by its own DNS name, one for the two custom names (after their CNAMEs).
    expect(lab.ec2.requests.length - before).toBe(2);
    expect(regions).toEqual(['us-east-1', 'us-east-1']);

    // CloudWatch is asked by the name the CNAMEs ended at, in its region: never by "www.shop.example".
    const asked: { region: string; targets: MetricTarget[] }[] = [];
    const metricsFor = (region: string) => async (targets: MetricTarget[]) => (
      asked.push({ region, targets }), new Map<string, MetricPoints | Error>()
    );
    await observeCapacity(config, observations, new Date('2026-11-25T10:00:00Z'), {
      metricsFor,
      reservationsFor: null,
    });
    expect(asked.map((a) => [a.region, a.targets.map((t) => [t.name, t.kind])])).toEqual([
      [
        'us-east-1',
        [
          ['shop', 'classic'],
          ['shop', 'classic'],
          ['shop', 'classic'],
        ],
      ],
    ]);

    // Its identity names that load balancer too; its key (state, store) stays the configured name.
    const [snapshot] = await snapshotConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(running.ec2),
      now: () => new Date(),
    });
    expect(snapshot?.identity).toEqual({
      key: 'www.shop.example',
      account: null,
      region: 'us-east-1',
      name: 'shop',
      arn: null,
      kind: 'classic',
    });
  });

  it('does the same through observeNodes (one load balancer): its ENIs once its CNAMEs were followed', async () => {
    const o = await observeNodes(
      { dnsName: 'www.shop.example' },
      {
        dns: createDnsLookup({ servers: [running.dnsServer], timeoutMs: 1000, tries: 1 }),
        enis: createEniLookup(running.ec2),
        now: () => new Date(),
      },
      { queries: 1, allowLoopback: true },
    );
    expect(o.errors).toEqual([]);
    expect(o.azs).toEqual(allPlaced);
  });

  it("follows the CNAMEs to the load balancer's own name, asks all. of it, and shows the chain: all 12 nodes advertised", async () => {
    const o = await observe('www.shop.example');
    expect(o.cnames).toEqual(['edge.shop.example', lab.dnsName]);
    expect(o.errors).toEqual([]);
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 4, advertised: 4 },
      'us-east-1b': { provisioned: 4, advertised: 4 },
      'us-east-1c': { provisioned: 4, advertised: 4 },
    });
    expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(12);
  });

  it("finds an alias's load balancer through the ELB API (asked once), asks all. of its own name: all 12 nodes advertised", async () => {
    const before = elbApi.requests.length;
    const o = await observe('alias.shop.example', true);
    expect(o.errors).toEqual([]);
    expect(o.aliasOf).toBe(lab.dnsName);
    expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(12);
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 4, advertised: 4 },
      'us-east-1b': { provisioned: 4, advertised: 4 },
      'us-east-1c': { provisioned: 4, advertised: 4 },
    });
    // Classic by name, v2 by name: one call each, and none on the next cycle (a DNS name never changes).
    expect(
      elbApi.requests.slice(before).map((r) => [r.Version, r['LoadBalancerNames.member.1'] ?? r['Names.member.1']]),
    ).toEqual(
      expect.arrayContaining([
        ['2012-06-01', 'shop'],
        ['2015-12-01', 'shop'],
      ]),
    );
    expect(elbApi.requests.length - before).toBe(2);
    await observe('alias.shop.example', true);
    expect(elbApi.requests.length - before).toBe(2);
    expect(elbApi.refused).toEqual([]);
  });

  it("names the ELB API's answer when it knows no such load balancer, and still shows what DNS gave", async () => {
    const o = await observe('alias.shop.example', true, 'nosuch');
    expect(o.errors.find((e) => e.code === 'no-elb-name')?.message).toContain(
      'and the ELB API gave no DNS name for it (no Classic, application or network load balancer is named "nosuch" in this region and account)',
    );
    expect(o.nodes.filter((n) => n.sources.includes('dns'))).toHaveLength(8);
  });

  it('says so when no CNAME leads to a load balancer (an alias) and the ELB API is not asked: the rest are not-in-dns, never silently', async () => {
    const o = await observe('alias.shop.example');
    expect(o.cnames).toBeUndefined();
    expect(o.errors).toEqual([
      {
        source: 'all',
        code: 'no-elb-name',
        message: expect.stringMatching(
          /^alias\.shop\.example is not a load balancer's DNS name and has no CNAME to one \(a Route 53 alias\?\): all\.<name> cannot be asked/,
        ),
      },
    ]);
    expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(8); // one answer's worth
    expect(o.nodes.filter((n) => n.state === 'not-in-dns')).toHaveLength(4);
  });
});
