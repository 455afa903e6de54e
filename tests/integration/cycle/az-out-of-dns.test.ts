import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { consoleSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle } from '../../../shared/cycle/record';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { localStore } from '../../../shared/store/local';
import { useLabElb } from '../../helpers/lab-elb';

// An AZ's nodes leave DNS while its ENIs stay (what an NLB does when the AZ has no
// healthy target; a Classic or ALB node draining), seen through the production
// path: the lab's DNS server and EC2 endpoint, the real SDK, the rules, the store.
describe('az-out-of-dns end to end', () => {
  const running = useLabElb({ name: 'azdns', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 2 } });
  const { lab } = running;

  it('fires once while every node of the AZ is out of DNS, and resolves once when one returns', async () => {
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: lab.dnsName }],
        dns: { servers: [running.dnsServer], timeoutMs: 1000, tries: 1, allowLoopbackNodes: true },
      },
      'test',
    );
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-azdns-')));
    const alerts: string[] = [];
    const deps = {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(running.ec2),
      now: () => new Date(),
    };
    const record = { store, sink: consoleSink((l) => alerts.push(l)), now: () => new Date(), claimant: 't' };
    const cycle = async (m: number) => {
      const at = new Date(Date.UTC(2026, 10, 27, 10, m)).toISOString();
      return (await recordCycle(config, await snapshotConfigured(config, deps), at, record)).map((e) => [
        e.kind,
        e.status,
        e.az,
        e.severity,
      ]);
    };
    const b = lab.nodes.filter((n) => n.az === 'us-east-1b');
    const seen: unknown[][] = [];
    seen.push(await cycle(0));
    for (const node of b) lab.advertise(node, false);
    for (const m of [1, 2, 3]) seen.push(await cycle(m));
    lab.advertise(b[0]!, true); // one node back: the AZ is served again
    for (const m of [4, 5, 6]) seen.push(await cycle(m));

    expect(seen.flat().filter((e) => (e as string[])[0] === 'az-out-of-dns')).toEqual([
      ['az-out-of-dns', 'firing', 'us-east-1b', 'warning'], // a Classic/ALB-shaped name: a warning
      ['az-out-of-dns', 'resolved', 'us-east-1b', 'info'],
    ]);
    expect(seen[2]).toContainEqual(['az-out-of-dns', 'firing', 'us-east-1b', 'warning']); // confirmed 2 of 3
    expect(alerts.filter((a) => a.includes('no node of this AZ is in DNS'))).toHaveLength(1);
  });
});
