import pLimit from 'p-limit';
import type { BackendAuth, BackendAuthLookup } from '../backends/auth-policy';
import { parseTarget, probeTls, type TlsFinding } from '../backends/tls-probe';
import { configuredRegion, loadBalancerName } from '../config/identity';
import type { Config, LoadBalancerConfig } from '../config/schema';
import { parseLoadBalancerDnsName } from '../nodes/lb-name';
import { errorLine } from '../errors';
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
  /**
   * Why the load balancer's back-end authentication policies could not be read
   * (one line naming the call: throttled, refused, a broken answer, no answer in
   * time): an observation error of source `backend-auth`, the same on each of the
   * load balancer's results. Absent when they were read, or not asked.
   */
  authError?: string;
}

/** The TLS round's own observation source: the Classic back-end authentication lookup. */
const BACKEND_AUTH_SOURCE = 'backend-auth';

/** One observation error of a TLS round: the load balancer, its source, one line. */
export interface TlsRoundError {
  loadBalancer: string;
  source: typeof BACKEND_AUTH_SOURCE;
  message: string;
}

/**
 * A round's observation errors, one per load balancer and source (each backend's result repeats its load balancer's).
 */
export function tlsRoundErrors(results: BackendTls[]): TlsRoundError[] {
  const errors = new Map<string, TlsRoundError>();
  for (const r of results) {
    if (r.authError !== undefined)
      errors.set(r.loadBalancer, { loadBalancer: r.loadBalancer, source: BACKEND_AUTH_SOURCE, message: r.authError });
  }
  return [...errors.values()];
}

/** What failed in a round, counted: targets whose handshake failed, and load balancers whose policies were not read. */
export function tlsRoundFailures(results: BackendTls[]): number {
  return results.filter((r) => r.finding.error !== null).length + tlsRoundErrors(results).length;
}

/**
 * Probe the TLS target of every configured backend that has one; for a load
 * balancer that may be a Classic ELB, also read its back-end authentication
 * policies (once per load balancer and round) through `authFor`.
 */
export async function probeConfiguredTls(
  config: Config,
  now: () => Date,
  authFor?: ((region: string, roleArn?: string) => BackendAuthLookup) | null,
): Promise<BackendTls[]> {
  const limit = pLimit(config.backendProbe.concurrency);
  const { timeoutMs, certWarningDays } = config.backendProbe;
  const jobs = config.loadBalancers.flatMap((lb) => {
    const withTls = lb.backends.filter((b) => b.tls);
    if (withTls.length === 0) return [];
    const auth = authFor ? classicAuth(lb, config, authFor) : Promise.resolve(undefined);
    return withTls.map((b) => {
      const tls = b.tls as NonNullable<typeof b.tls>;
      return limit(async () => {
        const finding = await probeTls(tls.target, {
          servername: tls.servername,
          pinSha256: tls.pinSha256,
          timeoutMs,
          now,
        });
        if (finding.daysLeft !== null && finding.daysLeft >= 0 && finding.daysLeft <= certWarningDays) {
          finding.findings.push(`certificate expires in ${finding.daysLeft} days (${finding.validTo})`);
        }
        const result: BackendTls = { loadBalancer: lb.dnsName, backend: backendName(b), finding };
        const known = await auth;
        if (known instanceof Error) {
          const message = errorLine(known);
          finding.findings.push(`back-end authentication policy not read: ${message}`);
          result.authError = message;
        } else if (known === NOT_CLASSIC) {
          // Not an error (an ALB configured by a Classic-shaped name answers so every round), but never a silent skip.
          const named = loadBalancerName(lb);
          finding.findings.push(
            `back-end authentication not checked: DescribeLoadBalancers (Classic) knows no load balancer named "${named}" (an ALB has no such policies; a Classic ELB should be found)`,
          );
        } else if (known === UNNAMED) {
          finding.findings.push(
            `back-end authentication not checked: nothing names ${lb.dnsName} to the ELB API (a name of your own, read without DNS here); set "name" if it is a Classic ELB`,
          );
        } else if (known) {
          const port = parseTarget(tls.target)?.port;
          result.authKeys = port !== undefined && known.has(port) ? (known.get(port) as string[]) : null;
        }
        return result;
      });
    });
  });
  return Promise.all(jobs);
}

/** The Classic API knows no load balancer of that name. */
const NOT_CLASSIC = Symbol('not a Classic ELB');
/** Nothing says it is not a Classic ELB, and nothing names it to ask (a custom DNS name without "name"). */
const UNNAMED = Symbol('no name to ask by');

/**
 * A possibly-Classic load balancer's back-end authentication (its ARN or an NLB
 * name says it is not one, and then it is not asked): the map; NOT_CLASSIC when
 * the Classic API knows no such name (an answer only about the Classic API: the
 * load balancer may be an ALB, or the name wrong); UNNAMED when nothing names it to
 * ask by (said, never a silent skip); undefined when it is known not to be Classic;
 * or the lookup's error. Never throws.
 */
async function classicAuth(
  lb: LoadBalancerConfig,
  config: Config,
  authFor: (region: string, roleArn?: string) => BackendAuthLookup,
): Promise<BackendAuth | Error | typeof NOT_CLASSIC | typeof UNNAMED | undefined> {
  const region = configuredRegion(lb, config.region);
  if (!lb.arn && parseLoadBalancerDnsName(lb.dnsName)?.shape !== 'network' && !possiblyClassic(lb)) return UNNAMED;
  if (!possiblyClassic(lb) || !region) return undefined;
  try {
    return (await authFor(region, lb.roleArn)(loadBalancerName(lb))) ?? NOT_CLASSIC;
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
