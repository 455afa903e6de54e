import { describe, expect, it } from 'vitest';
import type { DnsLookup } from '../../../shared/nodes/dns';
import type { EniLookup, LoadBalancerEni } from '../../../shared/nodes/eni';
import { observeNodes, resolveNames } from '../../../shared/nodes/observe';

// The PTR queries of the advertised addresses start as soon as DNS gave them, not
// after the EC2 answer (a one-shot observe waited for both in turn); what the PTR
// names mean is still judged with the ENIs: the node's private IP, and an NLB's
// Elastic IPs, whose reverse DNS is the owner's.
const NAME = 'web-1.us-east-1.elb.amazonaws.com';
const NLB_NAME = 'edge-0123456789abcdef.elb.us-east-1.amazonaws.com';
const IPS = ['54.10.0.10', '54.10.0.11'];

function fakeDns(ptr: (ip: string) => string[]): DnsLookup & { reversed: string[] } {
  const reversed: string[] = [];
  return {
    reversed,
    resolve4: async () => IPS,
    resolve6: async () => [],
    resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
    reverse: async (ip) => {
      reversed.push(ip);
      return ptr(ip);
    },
  };
}

const eni = (ip: string, i: number, description: string): LoadBalancerEni => ({
  eniId: `eni-${i}`,
  az: i === 0 ? 'us-east-1a' : 'us-east-1b',
  description,
  privateIp: `10.0.0.${i + 1}`,
  publicIp: ip,
  ipv6: [],
});

describe('PTR queries beside the EC2 call', () => {
  it('are asked for every advertised address once DNS answered, before any ENI is known', async () => {
    const dns = fakeDns((ip) => [`ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`]);
    const resolved = await resolveNames({ dnsName: NAME }, dns, { queries: 1 });
    expect([...dns.reversed].sort()).toEqual(IPS);
    expect([...(resolved.ptr?.answers.keys() ?? [])].sort()).toEqual(IPS);
  });

  it('judges each name with the ENIs that arrive after the answers: private IP and Classic kind', async () => {
    // The first node's PTR embeds its private IP (accepted only once the ENI says it is the node's), the second's is
    // not an EC2 name (a finding for a Classic ELB).
    const dns = fakeDns((ip) => (ip === IPS[0] ? ['ec2-10-0-0-1.compute-1.amazonaws.com'] : ['shop.example.']));
    const enis: EniLookup = async () => IPS.map((ip, i) => eni(ip, i, 'ELB web'));
    const o = await observeNodes({ dnsName: NAME }, { dns, enis, now: () => new Date() }, { queries: 1 });
    expect(dns.reversed).toHaveLength(2); // each address asked once
    expect(o.kind).toBe('classic');
    expect(o.nodes.map((n) => [n.ip, n.az, n.hostname, n.findings])).toEqual([
      [IPS[0], 'us-east-1a', 'ec2-10-0-0-1.compute-1.amazonaws.com', []],
      [IPS[1], 'us-east-1b', 'shop.example', ['PTR shop.example is not an EC2 host name']],
    ]);
  });

  it("takes a name of the owner's on an NLB's nodes as no finding (its kind comes from the ENIs)", async () => {
    const dns = fakeDns((ip) => (ip === IPS[0] ? ['ec2-10-0-0-1.compute-1.amazonaws.com'] : ['edge.example.']));
    const enis: EniLookup = async () => IPS.map((ip, i) => eni(ip, i, 'ELB net/edge/0123456789abcdef'));
    const o = await observeNodes({ dnsName: NLB_NAME }, { dns, enis, now: () => new Date() }, { queries: 1 });
    expect(o.kind).toBe('network');
    expect(o.nodes.map((n) => [n.ip, n.hostname, n.findings])).toEqual([
      [IPS[0], 'ec2-10-0-0-1.compute-1.amazonaws.com', []],
      [IPS[1], 'edge.example', []],
    ]);
  });
});
