import type { Config, LoadBalancerConfig } from '../config/schema';
import { loadBalancerKey, qualifiedKey } from '../config/identity';
import { discover, sortDiscovered, type DiscoveryClients, type DiscoveryScope } from './discover';

/**
 * The configuration with discovered load balancers added after the listed ones.
 * A discovered one already listed (same DNS name) is skipped. Discovered ones are
 * always keyed `name.region` (and the account of the role, and `app`/`net`), so a
 * same-named load balancer appearing in another region or account later never
 * moves an existing one's state; a key that is still taken is skipped and reported.
 */
export function withDiscovered(config: Config, discovered: LoadBalancerConfig[]): { config: Config; errors: string[] } {
  const errors: string[] = [];
  const dnsNames = new Set(config.loadBalancers.map((lb) => lb.dnsName.toLowerCase()));
  const keys = new Map(config.loadBalancers.map((lb) => [loadBalancerKey(lb), lb]));
  const added: LoadBalancerConfig[] = [];
  for (const found of discovered) {
    if (dnsNames.has(found.dnsName.toLowerCase())) continue;
    const lb = { ...found, key: found.key ?? qualifiedKey(found, config.region) };
    const other = keys.get(lb.key);
    if (other) {
      errors.push(
        `discovered ${lb.dnsName} would be filed as "${lb.key}" like ${other.dnsName}: list one of them in the configuration with a distinct "key"`,
      );
      continue;
    }
    keys.set(lb.key, lb);
    added.push(lb);
  }
  return { config: { ...config, loadBalancers: [...config.loadBalancers, ...added] }, errors };
}

/**
 * A configuration source that re-runs discovery at most every `refreshMinutes`
 * and otherwise reuses the last result. Each region (and account) keeps its own
 * last good list: when one region's calls fail (throttling, a revoked role) while
 * the others answer, that region's load balancers stay watched from its last good
 * answer, and the failure is said (once per refresh, naming the region and since
 * when its list dates). Without `discovery` it is the configuration as it is.
 */
export function discoveringConfig(
  config: Config,
  clientsFor: (region: string, roleArn?: string) => DiscoveryClients,
  now: () => Date,
  warn: (message: string) => void,
  /** Told each refresh's outcome per scope, and how many load balancers each keeps (for discovery-failed events). */
  onRefresh?: (scopes: DiscoveryScope[], at: string, kept: ReadonlyMap<string, number>) => Promise<void>,
): () => Promise<Config> {
  const discovery = config.discovery;
  if (!discovery) return async () => config;
  const refreshMs = discovery.refreshMinutes * 60_000;
  const lastGood = new Map<string, { at: string; loadBalancers: LoadBalancerConfig[] }>();
  let last: { at: number; config: Config } | null = null;
  return async () => {
    if (last && now().getTime() - last.at < refreshMs) return last.config;
    const found = await discover(discovery, clientsFor);
    for (const scope of found.scopes) {
      if (scope.loadBalancers) {
        lastGood.set(scope.key, { at: now().toISOString(), loadBalancers: scope.loadBalancers });
        continue;
      }
      const kept = lastGood.get(scope.key);
      warn(
        kept
          ? `${scope.error}; its ${kept.loadBalancers.length} load balancer(s) found at ${kept.at} stay watched`
          : `${scope.error}; nothing found there yet, so nothing of it is watched`,
      );
    }
    if (onRefresh) {
      const kept = new Map([...lastGood].map(([key, g]) => [key, g.loadBalancers.length]));
      // Its events are worth having, never worth a cycle: a failure to record them is said and the cycle goes on.
      await onRefresh(found.scopes, now().toISOString(), kept).catch((err: unknown) =>
        warn(`discovery events not recorded: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    const merged = withDiscovered(config, sortDiscovered([...lastGood.values()].flatMap((g) => g.loadBalancers)));
    for (const e of merged.errors) warn(e);
    last = { at: now().getTime(), config: merged.config };
    return merged.config;
  };
}
