import pLimit from 'p-limit';
import type { Config, LoadBalancerConfig } from '../config/schema';
import type { DnsLookup } from '../nodes/dns';
import type { EniLookup } from '../nodes/eni';
import { parseLoadBalancerArn, parseLoadBalancerDnsName } from '../nodes/lb-name';
import type { Observation } from '../nodes/observation';
import { observeNodes } from '../nodes/observe';

/** The clients one cycle needs; built by a handler or the CLI, passed in here. */
export interface CycleDeps {
  dns: DnsLookup;
  /** ENI lookup for a region; null when ENI lookups are off. */
  enisFor: ((region: string) => EniLookup) | null;
  now: () => Date;
  /** Region to fall back on when neither config nor the DNS name gives one (AWS_REGION). */
  defaultRegion?: string | undefined;
}

/** The region a load balancer's EC2 calls go to, or null when nothing says. */
export function regionOf(lb: LoadBalancerConfig, config: Pick<Config, 'region'>, fallback?: string): string | null {
  return (
    lb.region ??
    (lb.arn ? parseLoadBalancerArn(lb.arn)?.region : undefined) ??
    parseLoadBalancerDnsName(lb.dnsName)?.region ??
    config.region ??
    fallback ??
    null
  );
}

/** Observe every configured load balancer's nodes, a bounded number at a time. */
export async function observeConfigured(config: Config, deps: CycleDeps): Promise<Observation[]> {
  const limit = pLimit(config.concurrency);
  return Promise.all(
    config.loadBalancers.map((lb) =>
      limit(async () => {
        const region = regionOf(lb, config, deps.defaultRegion);
        const enis = deps.enisFor && config.eni.enabled && region ? deps.enisFor(region) : null;
        const observation = await observeNodes(lb, { dns: deps.dns, enis, now: deps.now }, { queries: config.dns.queries });
        if (deps.enisFor && config.eni.enabled && !region) {
          // Replace the generic "ENI lookup is off" with the real reason.
          observation.errors = observation.errors.filter((e) => e.source !== 'eni');
          observation.errors.push({ source: 'config', message: `${lb.dnsName}: no region (set "region" or AWS_REGION), so ENIs were not looked up` });
        }
        return observation;
      }),
    ),
  );
}
