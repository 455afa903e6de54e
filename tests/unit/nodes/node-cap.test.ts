import { describe, expect, it } from 'vitest';
import type { DnsLookup } from '../../../shared/nodes/dns';
import { MAX_NODES, observeNodes, ownEnis } from '../../../shared/nodes/observe';
import type { ObservationError } from '../../../shared/nodes/observation';
import { toCycleSample } from '../../../shared/cycle/sample';
import { identityOf } from '../../../shared/config/identity';

// A DNS server that answers 2,000 addresses for all.<name> (no load balancer has
// that many nodes): the observation keeps MAX_NODES and says so, so the state
// and reports stay bounded.
describe('An answer no load balancer would give', () => {
  it(`keeps at most ${MAX_NODES} nodes and names the rest`, async () => {
    const flood = Array.from({ length: 2000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
    const dns: DnsLookup = {
      resolve4: async (name) => (name.startsWith('all.') ? flood : flood.slice(0, 8)),
      resolve6: async () => [],
      reverse: async () => Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' })),
      resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
    };
    const o = await observeNodes(
      { dnsName: 'flood-1.us-east-1.elb.amazonaws.com' },
      { dns, enis: null, now: () => new Date() },
      { queries: 1 },
    );
    expect(o.nodes).toHaveLength(MAX_NODES);
    expect(o.errors).toContainEqual({
      source: 'dns',
      code: 'too-many-nodes',
      message:
        'flood-1.us-east-1.elb.amazonaws.com: 2000 node addresses (DNS and ENIs) is more than a load balancer has; only the first 500 are kept, and none is counted',
    });
    // A cut is no count: the rules see the nodes as unknown (a dns failure), never as a scale-down to 500.
    const sample = toCycleSample(
      { name: 'flood', identity: identityOf({ dnsName: o.loadBalancer }, 'classic'), observation: o, backends: [] },
      o.observedAt,
    );
    expect(sample.perAz).toBeNull();
    expect(sample.failures.dns).toMatch(/only the first 500 are kept/);
  });

  it('pairs a flood of 50,000 ENIs (two descriptions) with the advertised addresses', async () => {
    const enis = Array.from({ length: 50_000 }, (_, i) => ({
      eniId: `eni-${i}`,
      az: 'us-east-1a',
      description: i % 2 ? 'ELB web' : 'ELB app/web/1',
      privateIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      publicIp: null,
      ipv6: [],
    }));
    const errors: ObservationError[] = [];
    // Two descriptions (a Classic and an ALB of one name), one of them carrying the advertised address.
    expect(ownEnis(enis, new Map([['10.0.0.1', new Set(['dns' as const])]]), errors)).toHaveLength(25_000);
  });
});
