import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyZone, startDnsServer, type RunningDnsServer } from '../../lab/dns/server';
import { createDnsLookup, type DnsLookup } from '../../shared/nodes/dns';
import type { EniLookup, LoadBalancerEni } from '../../shared/nodes/eni';
import { observeNodes } from '../../shared/nodes/observe';

// PTR queries start with the DNS answers, beside the EC2 call: whichever of the two answers first, fails or hangs,
// each node gets its PTR judgement, no query is left unheard, a PTR the server never answers is bounded by the DNS
// timeout, and an NLB's Elastic IP with the owner's reverse DNS stays no finding.
const now = () => new Date('2026-11-25T10:02:00Z');
const ALB = 'my-alb-1234567890.us-east-1.elb.amazonaws.com';
const NLB = 'my-nlb-0123456789abcdef.elb.us-east-1.amazonaws.com';
const nodata = () => Object.assign(new Error('no data'), { code: 'ENODATA' });

/** A promise and the hands that settle it: the test decides which answer comes first. */
function gate<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function dnsWith(name: string, ips: string[], reverse: DnsLookup['reverse']): DnsLookup {
  return {
    resolve4: async (n) => (n === name ? ips : Promise.reject(nodata())),
    resolve6: async () => Promise.reject(nodata()),
    reverse,
    resolveCname: async () => Promise.reject(nodata()),
  };
}
const eni = (ip: string, description: string): LoadBalancerEni => ({
  eniId: `eni-${ip.replaceAll('.', '')}`,
  az: 'us-east-1a',
  description,
  privateIp: `10.0.0.${ip.split('.')[3]}`,
  publicIp: ip,
  ipv6: [],
});

describe('PTR queries started before the ENI answer', () => {
  it('a PTR answer after the ENI lookup failed still names the node', async () => {
    const ptr = gate<string[]>();
    const enis = gate<LoadBalancerEni[]>();
    const seen = observeNodes(
      { dnsName: ALB },
      { dns: dnsWith(ALB, ['52.94.2.1'], () => ptr.promise), enis: () => enis.promise, now },
      { queries: 1 },
    );
    await turns(5);
    enis.reject(Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' }));
    await turns(5);
    ptr.resolve(['ec2-52-94-2-1.compute-1.amazonaws.com']);
    const o = await seen;
    expect(o.nodes.map((n) => [n.ip, n.hostname, n.findings.filter((f) => f.startsWith('PTR'))])).toEqual([
      ['52.94.2.1', 'ec2-52-94-2-1.compute-1.amazonaws.com', []],
    ]);
    expect(o.errors.map((e) => e.source)).toEqual(['eni']);
  });

  it('a PTR failing after the ENI answer is named, the nodes placed', async () => {
    const ptr = gate<string[]>();
    const seen = observeNodes(
      { dnsName: ALB },
      {
        dns: dnsWith(ALB, ['52.94.2.1'], () => ptr.promise),
        enis: async () => [eni('52.94.2.1', 'ELB app/my-alb/1234567890')],
        now,
      },
      { queries: 1 },
    );
    await turns(10);
    ptr.reject(Object.assign(new Error('queryPtr ESERVFAIL'), { code: 'ESERVFAIL' }));
    const o = await seen;
    expect(o.nodes.map((n) => [n.ip, n.az])).toEqual([['52.94.2.1', 'us-east-1a']]);
    expect(o.errors.map((e) => e.source)).toEqual(['ptr']);
  });

  it("an NLB's Elastic IP with the owner's PTR is no odd PTR, whether the ENIs answer or fail", async () => {
    for (const enis of [
      async () => [eni('52.94.2.1', 'ELB net/my-nlb/0123456789abcdef')],
      async () => Promise.reject(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' })),
    ] satisfies EniLookup[]) {
      const o = await observeNodes(
        { dnsName: NLB },
        { dns: dnsWith(NLB, ['52.94.2.1'], async () => ['www.customer.example.']), enis, now },
        { queries: 1 },
      );
      expect(o.kind).toBe('network');
      expect(o.nodes[0]?.hostname).toBe('www.customer.example');
      expect(o.nodes[0]?.findings.filter((f) => f.startsWith('PTR'))).toEqual([]);
    }
    // The same PTR on an ALB's node is a finding.
    const alb = await observeNodes(
      { dnsName: ALB },
      {
        dns: dnsWith(ALB, ['52.94.2.1'], async () => ['www.customer.example.']),
        enis: async () => [eni('52.94.2.1', 'ELB app/my-alb/1234567890')],
        now,
      },
      { queries: 1 },
    );
    expect(alb.nodes[0]?.findings).toContain('PTR www.customer.example is not an EC2 host name');
  });

  describe('a DNS server that never answers PTR', () => {
    let server: RunningDnsServer;
    beforeAll(async () => {
      const zone = emptyZone();
      zone.hosts.set(ALB, { a: ['52.94.2.1'] });
      zone.ptrFail = new Map([['52.94.2.1', 'silent']]);
      server = await startDnsServer(zone);
    });
    afterAll(() => server.close());

    it('is bounded by the DNS timeout: the node is placed, the PTR named as failed', async () => {
      const dns = createDnsLookup({ servers: [server.address], timeoutMs: 200, tries: 1 });
      const o = await observeNodes(
        { dnsName: ALB },
        { dns, enis: async () => [eni('52.94.2.1', 'ELB app/my-alb/1234567890')], now },
        { queries: 1, allowLoopback: false },
      );
      expect(o.nodes.map((n) => [n.ip, n.az, n.hostname ?? null])).toEqual([['52.94.2.1', 'us-east-1a', null]]);
      expect(o.errors).toEqual([{ source: 'ptr', message: expect.stringMatching(/52\.94\.2\.1.*PTR/) }]);
    });
  });
});
