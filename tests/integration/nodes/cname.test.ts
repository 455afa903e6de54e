import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load';
import { observeConfigured } from '../../../shared/cycle/observe-configured';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { useLabElb } from '../../helpers/lab-elb';

// A load balancer behind a name of the customer's (a CNAME, or a Route 53 alias),
// 12 nodes: more than one DNS answer holds (8), so only `all.` of the load
// balancer's own name shows them all. The lab's DNS server answers CNAME chains.
describe('A load balancer behind a CNAME or an alias', () => {
  const running = useLabElb({ name: 'shop', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 4, 'us-east-1b': 4, 'us-east-1c': 4 } });
  const { lab } = running;
  lab.zone.hosts.set('www.shop.example', { cname: 'edge.shop.example' });
  lab.zone.hosts.set('edge.shop.example', { cname: lab.dnsName });
  lab.zone.hosts.set('alias.shop.example', { alias: lab.dnsName });
  const observe = async (dnsName: string) => {
    const config = parseConfig({ loadBalancers: [{ dnsName, name: 'shop', region: 'us-east-1' }], dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, queries: 1 } }, 'test');
    const [o] = await observeConfigured(config, { dns: createDnsLookup(config.dns), enisFor: () => createEniLookup(running.ec2), now: () => new Date() });
    return o!;
  };

  it('follows the CNAMEs to the load balancer\'s own name, asks all. of it, and shows the chain: all 12 nodes advertised', async () => {
    const o = await observe('www.shop.example');
    expect(o.cnames).toEqual(['edge.shop.example', lab.dnsName]);
    expect(o.errors).toEqual([]);
    expect(o.azs).toEqual({ 'us-east-1a': { provisioned: 4, advertised: 4 }, 'us-east-1b': { provisioned: 4, advertised: 4 }, 'us-east-1c': { provisioned: 4, advertised: 4 } });
    expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(12);
  });

  it('says so when no CNAME leads to a load balancer (an alias): the rest are not-in-dns, never silently', async () => {
    const o = await observe('alias.shop.example');
    expect(o.cnames).toBeUndefined();
    expect(o.errors).toEqual([{ source: 'all', code: 'no-elb-name', message: expect.stringMatching(/^alias\.shop\.example is not a load balancer's DNS name and has no CNAME to one \(a Route 53 alias\?\): all\.<name> cannot be asked/) }]);
    expect(o.nodes.filter((n) => n.state === 'in-service')).toHaveLength(8); // one answer's worth
    expect(o.nodes.filter((n) => n.state === 'not-in-dns')).toHaveLength(4);
  });
});
