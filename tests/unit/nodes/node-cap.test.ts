import { describe, expect, it } from 'vitest';
import type { DnsLookup } from '../../../shared/nodes/dns';
import { MAX_NODES, observeNodes } from '../../../shared/nodes/observe';

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
    const o = await observeNodes({ dnsName: 'flood-1.us-east-1.elb.amazonaws.com' }, { dns, enis: null, now: () => new Date() }, { queries: 1 });
    expect(o.nodes).toHaveLength(MAX_NODES);
    expect(o.errors).toContainEqual({ source: 'dns', message: 'flood-1.us-east-1.elb.amazonaws.com: 2000 node addresses (DNS and ENIs) is more than a load balancer has; only the first 500 are kept' });
  });
});
