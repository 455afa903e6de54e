import { describe, expect, it } from 'vitest';
import { observationJson } from '../../../cli/commands/observe';
import { loadBalancerKey } from '../../../shared/config/identity';
import { parseConfig } from '../../../shared/config/load';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import type { DnsLookup } from '../../../shared/nodes/dns';

// `observe --json` names each result's load balancer by the result's own identity: results that arrive in another
// order than the configuration lists them (here reversed) still each carry their own key, region and ARN.
describe('observe --json: each result with its own identity', () => {
  it('pairs results with their load balancers by identity, not by position', async () => {
    const config = parseConfig(
      {
        loadBalancers: [
          { dnsName: 'web-1.us-east-1.elb.amazonaws.com' },
          {
            dnsName: 'api.example.com',
            arn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/api/0123456789abcdef',
          },
        ],
        dns: { queries: 1 },
        eni: { enabled: false },
      },
      'test',
    );
    const dns: DnsLookup = {
      resolve4: async () => ['52.94.2.1'],
      resolve6: async () => [],
      reverse: async (ip) => [`ec2-${ip.replaceAll('.', '-')}.compute-1.amazonaws.com`],
      resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
    };
    const snapshots = await snapshotConfigured(config, { dns, enisFor: null, now: () => new Date() });
    const printed = [...snapshots].reverse().map((s) => observationJson(s, false));
    expect(printed.map((o) => [o.loadBalancer, o.identity.key, o.identity.region, o.identity.arn])).toEqual([
      ['api.example.com', 'api', 'eu-west-1', config.loadBalancers[1]?.arn],
      ['web-1.us-east-1.elb.amazonaws.com', 'web', 'us-east-1', null],
    ]);
    for (const o of printed) {
      const configured = config.loadBalancers.find((lb) => lb.dnsName === o.loadBalancer);
      expect(o.identity.key).toBe(loadBalancerKey(configured!));
    }
  });
});
