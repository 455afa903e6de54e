import pLimit from 'p-limit';
import type { BackendAuth, BackendAuthLookup } from '../backends/auth-policy';
import { parseTarget, probeTls, type TlsFinding } from '../backends/tls-probe';
import { configuredRegion, loadBalancerName } from '../config/identity';
import type { Config, LoadBalancerConfig } from '../config/schema';
import { parseLoadBalancerDnsName } from '../nodes/lb-name';
import { backendName } from './backend-name';

// Kept apart from the node cycle so the tls-probe function does not load the EC2 client.

/** One TLS finding, with the load balancer and backend it belongs to. */
export interface BackendTls {
  loadBalancer: string;
  backend: string;
  finding: TlsFinding;
  /**
   * A Classic ELB's back-end authentication for this backend's port: the public
   * keys its policy accepts, null when the port has none (the ELB checks nothing);
   * absent when not known (not a Classic ELB, or the lookup failed: said in `findings`).
   */
  authKeys?: string[] | null;
}

/**
 * Probe the TLS target of every configured backend that has one; for a load
 * balancer that may be a Classic ELB, also read its back-end authentication
 * policies (once per load balancer and round) through `authFor`.
 */
export async function probeConfiguredTls(config: Config, now: () => Date, authFor?: ((region: string, roleArn?: string) => BackendAuthLookup) | null): Promise<BackendTls[]> {
  const limit = pLimit(config.backendProbe.concurrency);
  const { timeoutMs, certWarningDays } = config.backendProbe;
  const jobs = config.loadBalancers.flatMap((lb) => {
    const withTls = lb.backends.filter((b) => b.tls);
    if (withTls.length === 0) return [];
    const auth = authFor ? classicAuth(lb, config, authFor) : Promise.resolve(undefined);
    return withTls.map((b) => {
      const tls = b.tls as NonNullable<typeof b.tls>;
      return limit(async () => {
        const finding = await probeTls(tls.target, { servername: tls.servername, pinSha256: tls.pinSha256, timeoutMs, now });
        if (finding.daysLeft !== null && finding.daysLeft >= 0 && finding.daysLeft <= certWarningDays) {
          finding.findings.push(`certificate expires in ${finding.daysLeft} days (${finding.validTo})`);
        }
        const result: BackendTls = { loadBalancer: lb.dnsName, backend: backendName(b), finding };
        const known = await auth;
        if (known instanceof Error) finding.findings.push(`back-end authentication policy not read: ${known.message}`);
        else if (known) {
          const port = parseTarget(tls.target)?.port;
          result.authKeys = port !== undefined && known.has(port) ? (known.get(port) as string[]) : null;
        }
        return result;
      });
    });
  });
  return Promise.all(jobs);
}

/**
 * A possibly-Classic load balancer's back-end authentication (its ARN or an NLB
 * name says it is not one): the map, undefined when it is no Classic ELB or
 * nothing names it, or the lookup's error. Never throws.
 */
async function classicAuth(lb: LoadBalancerConfig, config: Config, authFor: (region: string, roleArn?: string) => BackendAuthLookup): Promise<BackendAuth | Error | undefined> {
  const region = configuredRegion(lb, config.region);
  if (!possiblyClassic(lb) || !region) return undefined;
  try {
    return (await authFor(region, lb.roleArn)(loadBalancerName(lb))) ?? undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * Whether any load balancer may be a Classic ELB with TLS backends: then its
 * back-end authentication policies are read each TLS round, and the functions need
 * `elasticloadbalancing:DescribeLoadBalancers` and `DescribeLoadBalancerPolicies`.
 */
export function needsBackendAuth(config: Pick<Config, 'loadBalancers' | 'region'>): boolean {
  return config.loadBalancers.some((lb) => lb.backends.some((b) => b.tls) && possiblyClassic(lb));
}

/** Whether a load balancer may be a Classic ELB with a name to ask by: no ARN (ALB/NLB), no NLB-shaped DNS name. */
function possiblyClassic(lb: Pick<LoadBalancerConfig, 'dnsName' | 'name' | 'arn'>): boolean {
  const parsed = parseLoadBalancerDnsName(lb.dnsName);
  return !lb.arn && parsed?.shape !== 'network' && (lb.name !== undefined || Boolean(parsed?.name));
}
