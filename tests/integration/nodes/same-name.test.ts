import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load';
import { observeConfigured } from '../../../shared/cycle/observe-configured';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import type { LabEni } from '../../../lab/ec2/server';
import { useLabElb } from '../../helpers/lab-elb';

/** ENIs of another load balancer of the account, on addresses DNS does not advertise. */
const decoys = (description: string, net: number): LabEni[] =>
  ['us-east-1a', 'us-east-1b'].map((az, i) => ({
    eniId: `eni-0decoy${net}${i}`,
    az,
    description,
    privateIp: `127.${net}.9.${i + 1}`,
    publicIp: `127.${net}.8.${i + 1}`,
  }));

// A Classic ELB and an ALB may share a name (separate namespaces), and an NLB may
// too in another account's view of things; the real EC2 filter matches them all.
describe('Same-named load balancers of other kinds (decoy ENIs)', () => {
  const running = useLabElb({ name: 'web', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 1 } });
  const { lab } = running;
  lab.addOtherEnis(...decoys('ELB app/web/0123456789abcdef', 5), ...decoys('ELB net/web/fedcba9876543210', 6));

  const observe = async (lb: { dnsName: string; arn?: string }) => {
    const config = parseConfig(
      {
        loadBalancers: [{ ...lb, region: 'us-east-1' }],
        dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, queries: 2, allowLoopbackNodes: true },
      },
      'test',
    );
    const [o] = await observeConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(running.ec2),
      now: () => new Date(),
    });
    return o!;
  };

  it('places every node of the Classic ELB in its AZ: the ALB decoy carries no advertised IP, the NLB decoy is never asked for', async () => {
    const o = await observe({ dnsName: lab.dnsName });
    expect(o.errors).toEqual([]);
    expect(o.kind).toBe('classic');
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 2, advertised: 2 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    expect(o.nodes.map((n) => [n.ip, n.az, n.state])).toEqual(lab.nodes.map((n) => [n.publicIp, n.az, 'in-service']));
    // A Classic/ALB-shaped name cannot be an NLB's: only `ELB web` and `ELB app/web/*` were asked for.
    const asked = running.lab.ec2.requests.at(-1)!;
    expect(
      Object.entries(asked)
        .filter(([k]) => /^Filter\.\d+\.Value\./.test(k))
        .map(([, v]) => v)
        .sort(),
    ).toEqual(['ELB app/web/*', 'ELB web', 'true']);
  });

  it('keeps a Classic node that is not yet advertised as its own (not-in-dns), the decoys out', async () => {
    const warming = lab.addNode('us-east-1b', false);
    try {
      const o = await observe({ dnsName: lab.dnsName });
      expect(o.errors).toEqual([]);
      expect(o.azs['us-east-1b']).toEqual({ provisioned: 2, advertised: 1 });
      expect(o.nodes.filter((n) => n.state === 'not-in-dns').map((n) => n.ip)).toEqual([warming.publicIp]);
    } finally {
      lab.removeNode(warming);
    }
  });

  it('refuses, naming both, when the advertised IPs do not tell them apart', async () => {
    // The ALB decoy now carries one of the advertised addresses too.
    const shared = lab.nodes[0]!;
    const remove = lab.addOtherEnis({
      eniId: 'eni-0decoyshared',
      az: shared.az,
      description: 'ELB app/web/0123456789abcdef',
      privateIp: '127.5.9.99',
      publicIp: shared.publicIp,
    });
    try {
      const o = await observe({ dnsName: lab.dnsName });
      expect(o.errors).toEqual([
        {
          source: 'eni',
          message:
            'ENIs of more than one load balancer match ("ELB app/web/0123456789abcdef", "ELB web") and more than one carries an advertised IP, so which is this one is ambiguous; set "arn" (ALB/NLB) or check the DNS name',
        },
      ]);
      expect(o.azs).toEqual({});
      expect(o.nodes.every((n) => n.state === 'unmapped')).toBe(true);
    } finally {
      remove();
    }
  });

  it('an ARN pins the ALB: its ENIs only, all of them not advertised under this name, which is said (no node placed)', async () => {
    const o = await observe({
      dnsName: lab.dnsName,
      arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef',
    });
    expect(o.kind).toBe('application');
    // The name's nodes are the Classic ELB's: the ALB's ENIs carry none of them, so they cannot place a node.
    expect(o.errors).toEqual([
      {
        source: 'eni',
        message: expect.stringMatching(
          /^DescribeNetworkInterfaces: none of the \d+ advertised addresses is on one of the 2 ENIs found/,
        ),
      },
    ]);
    expect(Object.keys(o.azs)).toEqual(['us-east-1a', 'us-east-1b']);
    expect(o.nodes.filter((n) => n.state === 'not-in-dns').map((n) => n.ip)).toEqual(['127.5.8.1', '127.5.8.2']);
  });
});
