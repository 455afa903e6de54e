import pLimit from 'p-limit';
import { isPast } from '../deadline';
import type { Config, LoadBalancerConfig } from '../config/schema';
import { configuredRegion } from '../config/identity';
import { parseLoadBalancerDnsName } from '../nodes/lb-name';
import { limitDns, type DnsLookup } from '../nodes/dns';
import { prefetchEnis, prefetchedEniLookup, type EniLookup } from '../nodes/eni';
import { skippedObservation, type Observation } from '../nodes/observation';
import { descriptionsFor, findEnis, placeNodes, resolveNames, type ResolvedNames } from '../nodes/observe';
import type { OwnNameLookup } from '../nodes/own-name';
import type { BackendAuthLookup } from '../backends/auth-policy';
import type { CapacityDeps } from '../capacity/observe';

/** The clients one cycle needs; built by a handler or the CLI, passed in here. */
export interface CycleDeps {
  dns: DnsLookup;
  /** ENI lookup for a region (and the role to assume, for another account); null when ENI lookups are off. */
  enisFor: ((region: string, roleArn?: string) => EniLookup) | null;
  /** The ELB API's answer to "what is this load balancer's own DNS name" (for alias names); absent: not asked. */
  ownNameFor?: ((region: string, roleArn?: string) => OwnNameLookup) | null;
  /** CloudWatch metrics and LCU reservations, read after the nodes; absent: not read. */
  capacity?: CapacityDeps;
  /** A Classic ELB's back-end authentication policies, for the TLS rounds; absent: not read. */
  backendAuthFor?: ((region: string, roleArn?: string) => BackendAuthLookup) | null;
  now: () => Date;
  /** Region to fall back on when neither config nor the DNS name gives one (AWS_REGION). */
  defaultRegion?: string | undefined;
  /**
   * The cycle's deadline for starting work (epoch ms, on `now`'s clock): a load
   * balancer or backend not started by then is skipped, said so, and left to the
   * next cycle, so a cycle that will not finish still commits what it has.
   */
  startBy?: number | undefined;
}

/** The region a load balancer's EC2 calls go to, or null when nothing says. */
function regionOf(lb: LoadBalancerConfig, config: Pick<Config, 'region'>, fallback?: string): string | null {
  // The configuration's answer first (what store keys use), then AWS_REGION.
  return configuredRegion(lb, config.region) ?? fallback ?? null;
}

/**
 * Observe every configured load balancer's nodes. ENIs are fetched once per
 * region for all its load balancers (batched DescribeNetworkInterfaces), DNS
 * queries share one concurrency bound, and a bounded number of load balancers
 * resolve their names at once. A load balancer known only by a name of the
 * customer's (no "name" or "arn") is named by where its CNAMEs end: its ENIs are
 * asked in a second batch per region, once every such name was followed.
 */
export async function observeConfigured(config: Config, deps: CycleDeps): Promise<Observation[]> {
  const regions = config.loadBalancers.map((lb) => regionOf(lb, config, deps.defaultRegion));
  const enisOn = deps.enisFor !== null && config.eni.enabled;

  // One batch per region and account (role): ENIs of another account are only visible with its role.
  const batchKey = (i: number) => `${regions[i]}|${config.loadBalancers[i]?.roleArn ?? ''}`;
  const byRegion = new Map<string, { region: string; roleArn?: string; descriptions: string[] }>();
  if (enisOn) {
    config.loadBalancers.forEach((lb, i) => {
      const region = regions[i];
      const descriptions = descriptionsFor(lb);
      if (!region || !descriptions) return;
      const entry = byRegion.get(batchKey(i)) ?? { region, roleArn: lb.roleArn, descriptions: [] };
      entry.descriptions.push(...descriptions);
      byRegion.set(batchKey(i), entry);
    });
  }
  // Started now, awaited by each load balancer's lookup: the EC2 call runs alongside the DNS queries.
  const enisFor = deps.enisFor as (region: string, roleArn?: string) => EniLookup;
  const prefetched = new Map<string, EniLookup>(
    [...byRegion].map(([key, { region, roleArn, descriptions }]) => {
      const batch = prefetchEnis(enisFor(region, roleArn), descriptions).then(prefetchedEniLookup);
      return [key, async (query) => (await batch)(query)];
    }),
  );

  // Those nothing names before their CNAMEs are followed: one batch per region after the last of them resolved.
  const late = lateBatches(
    enisOn ? config.loadBalancers.filter((lb) => !descriptionsFor(lb)).length : 0,
    (region, roleArn, descriptions) => prefetchEnis(enisFor(region, roleArn), descriptions).then(prefetchedEniLookup),
  );

  const dns = limitDns(deps.dns, config.dns.concurrency);
  const limit = pLimit(config.concurrency);
  const options = { queries: config.dns.queries, allowLoopback: config.dns.allowLoopbackNodes };
  return Promise.all(
    config.loadBalancers.map(async (lb, i) => {
      // A slot is held for the DNS queries only: waiting for the region's ENI batch
      // holds none, so every load balancer's DNS runs while EC2 answers.
      const isLate = enisOn && !descriptionsFor(lb);
      let resolved: (ResolvedNames & { observedAt: string }) | null | undefined;
      try {
        resolved = await limit(async () => {
          if (isPast(deps.startBy, deps.now)) return null;
          const observedAt = deps.now().toISOString();
          const region = regions[i];
          const ownName = deps.ownNameFor && region ? deps.ownNameFor(region, lb.roleArn) : null;
          return { ...(await resolveNames(lb, dns, options, ownName)), observedAt };
        });
      } finally {
        // Arrive even when skipped or thrown: the batch waits for every late name, never for ever.
        if (isLate && !resolved) late.arrive(null);
      }
      if (resolved === null) return skippedObservation(lb.dnsName, deps.now(), deps.startBy as number);
      // A late one's ENIs are asked in the region its CNAMEs' end names, when the configuration names none.
      const region = isLate
        ? (configuredRegion(lb) ?? parseLoadBalancerDnsName(resolved.ownDnsName ?? '')?.region ?? regions[i])
        : regions[i];
      let enis: EniLookup | null = null;
      if (isLate) {
        const descriptions = descriptionsFor(lb, resolved.ownDnsName);
        // No batch for a load balancer nothing names (a CNAME to no load balancer): findEnis reports that itself.
        enis =
          late.arrive(region && descriptions ? { region, roleArn: lb.roleArn, descriptions } : null) ??
          (region ? prefetchedEniLookup([]) : null);
      } else if (enisOn && region) enis = prefetched.get(batchKey(i)) ?? prefetchedEniLookup([]);
      const observation = await placeNodes(lb, resolved, await findEnis(lb, enis, resolved.ownDnsName), dns, options);
      if (enisOn && !region) {
        // Replace the generic "ENI lookup is off" with the real reason.
        observation.errors = observation.errors.filter((e) => e.source !== 'eni');
        observation.errors.push({
          source: 'config',
          message: `${lb.dnsName}: no region (set "region" or AWS_REGION), so ENIs were not looked up`,
        });
      }
      return observation;
    }),
  );
}

/**
 * ENI batches of the load balancers that are named only once their CNAMEs were
 * followed: each arrives with its region and description patterns (or null, when
 * nothing names it); when the last one arrived, one batch per region and role is
 * asked, and each gets a lookup that waits for its region's.
 */
function lateBatches(
  expected: number,
  fetch: (region: string, roleArn: string | undefined, descriptions: string[]) => Promise<EniLookup>,
) {
  const groups = new Map<
    string,
    { region: string; roleArn?: string; descriptions: string[]; lookup?: Promise<EniLookup> }
  >();
  let waiting = expected;
  let release: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => (release = resolve));
  if (waiting <= 0) release();
  return {
    arrive(entry: { region: string; roleArn?: string | undefined; descriptions: string[] } | null): EniLookup | null {
      let group: { lookup?: Promise<EniLookup> } | null = null;
      if (entry) {
        const key = `${entry.region}|${entry.roleArn ?? ''}`;
        const found = groups.get(key) ?? {
          region: entry.region,
          ...(entry.roleArn ? { roleArn: entry.roleArn } : {}),
          descriptions: [],
        };
        found.descriptions.push(...entry.descriptions);
        groups.set(key, found);
        group = found;
      }
      if (--waiting === 0) {
        for (const g of groups.values()) g.lookup = fetch(g.region, g.roleArn, g.descriptions);
        release();
      }
      if (!group) return null;
      const chosen = group;
      return async (query) => {
        await allArrived;
        return (await (chosen.lookup as Promise<EniLookup>))(query);
      };
    },
  };
}
