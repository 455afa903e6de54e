import { identityOf, loadBalancerName } from '../../shared/config/identity';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';

/**
 * A cycle's snapshot of one load balancer whose nodes (`ips`) all sit in
 * us-east-1a, each in DNS and on its own ENI, with no backends: what the
 * recording tests feed recordCycle without a lab.
 */
export function nodeSnapshot(dnsName: string, ips: string[]): LoadBalancerSnapshot {
  return {
    name: loadBalancerName({ dnsName }),
    identity: identityOf({ dnsName }, 'classic'),
    observation: {
      loadBalancer: dnsName,
      observedAt: '',
      nodes: ips.map((ip, i) => ({
        ip,
        family: 4,
        hostname: null,
        region: 'us-east-1',
        az: 'us-east-1a',
        eniId: `eni-${i}`,
        privateIp: null,
        sources: ['dns', 'eni'],
        state: 'in-service',
        findings: [],
      })),
      azs: { 'us-east-1a': { provisioned: ips.length, advertised: ips.length } },
      errors: [],
    },
    backends: [],
  };
}
