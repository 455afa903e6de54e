import { parseLoadBalancerArn, parseLoadBalancerDnsName } from '../nodes/lb-name';
import type { LoadBalancerKind } from '../nodes/kind';

/** What a configured (or discovered) load balancer says about itself. */
export interface IdentitySource {
  dnsName: string;
  name?: string | undefined;
  arn?: string | undefined;
  region?: string | undefined;
  roleArn?: string | undefined;
  key?: string | undefined;
}

/**
 * Who a load balancer is: the account and region it lives in, its name, its ARN
 * where known (ALB/NLB), its kind once observed, and the key elbscope files its
 * state, events and reports under.
 */
export interface LoadBalancerIdentity {
  key: string;
  /** The account of the role assumed for it, or of its ARN; null: the monitor's own account. */
  account: string | null;
  region: string | null;
  name: string;
  arn: string | null;
  kind: LoadBalancerKind | null;
}

/** The load balancer's own name: `name`, else the one in its ARN or DNS name, else the DNS name itself. */
export function loadBalancerName(lb: IdentitySource): string {
  return (
    lb.name ??
    (lb.arn ? parseLoadBalancerArn(lb.arn)?.name : undefined) ??
    parseLoadBalancerDnsName(lb.dnsName)?.name ??
    lb.dnsName.toLowerCase().replace(/\.$/, '')
  );
}

/** The key its state, events and reports are filed under: `key` as set, else its name (see `withKeys`). */
export function loadBalancerKey(lb: IdentitySource): string {
  return lb.key ?? loadBalancerName(lb);
}

/**
 * The region its calls go to as the configuration alone says (no AWS_REGION: keys must not depend on where they run).
 */
export function configuredRegion(lb: IdentitySource, defaultRegion?: string): string | null {
  return (
    lb.region ??
    (lb.arn ? parseLoadBalancerArn(lb.arn)?.region : undefined) ??
    parseLoadBalancerDnsName(lb.dnsName)?.region ??
    defaultRegion ??
    null
  );
}

/** The account named by its role (another account) or its ARN; null for the monitor's own. */
function accountOf(lb: IdentitySource): string | null {
  const fromRole = lb.roleArn ? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(lb.roleArn)?.[1] : undefined;
  return (
    fromRole ??
    (lb.arn ? /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:(\d{12}):/.exec(lb.arn)?.[1] : undefined) ??
    null
  );
}

/**
 * A key that tells same-named load balancers apart: `name.region`, then the
 * account when it is another's (a role), then `app`/`net` when an ARN says (a
 * Classic ELB and an ALB may share a name in one region). Load balancer names
 * hold no dots, so the parts never run together; the key is a safe file name.
 */
export function qualifiedKey(lb: IdentitySource, defaultRegion?: string): string {
  const arn = lb.arn ? parseLoadBalancerArn(lb.arn) : null;
  const account = lb.roleArn ? accountOf(lb) : null;
  return [loadBalancerName(lb), configuredRegion(lb, defaultRegion), account, arn?.type]
    .filter((p) => p !== null && p !== undefined)
    .join('.');
}

/**
 * Give every load balancer its key. One whose name no other listed one shares
 * keeps its name (what the store has always used); same-named ones (two regions,
 * two accounts) are each keyed by `qualifiedKey`. A `key` set by hand stays.
 */
export function withKeys<T extends IdentitySource>(loadBalancers: T[], defaultRegion?: string): T[] {
  const count = new Map<string, number>();
  for (const lb of loadBalancers)
    if (lb.key === undefined) count.set(loadBalancerName(lb), (count.get(loadBalancerName(lb)) ?? 0) + 1);
  return loadBalancers.map((lb) =>
    lb.key !== undefined
      ? lb
      : {
          ...lb,
          key: (count.get(loadBalancerName(lb)) ?? 0) > 1 ? qualifiedKey(lb, defaultRegion) : loadBalancerName(lb),
        },
  );
}

/** Its identity, with the kind the observation found (null until one did). */
export function identityOf(
  lb: IdentitySource,
  kind: LoadBalancerKind | null | undefined,
  defaultRegion?: string,
): LoadBalancerIdentity {
  return {
    key: loadBalancerKey(lb),
    account: accountOf(lb),
    region: configuredRegion(lb, defaultRegion),
    name: loadBalancerName(lb),
    arn: lb.arn ?? null,
    kind: kind ?? null,
  };
}

/**
 * Whether any load balancer is configured by a name that is not its own DNS name
 * but says which one it is (`name` or `arn`): then the ELB API is asked for its own
 * name (an alias shows no CNAME to follow), and the functions need
 * `elasticloadbalancing:DescribeLoadBalancers`.
 */
export function needsOwnNames(loadBalancers: IdentitySource[]): boolean {
  return loadBalancers.some(
    (lb) => !parseLoadBalancerDnsName(lb.dnsName)?.name && (lb.name !== undefined || lb.arn !== undefined),
  );
}
