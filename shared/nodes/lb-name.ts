/**
 * What an ELB DNS name says about the load balancer behind it.
 *
 * AWS names load balancers in two shapes:
 *  - Classic and ALB: `[internal-]<name>-<digits>.<region>.elb.amazonaws.com`
 *  - NLB:             `[internal-]<name>-<hex>.elb.<region>.amazonaws.com`
 * either may carry a `dualstack.` prefix (A and AAAA) or an `ipv6.` prefix (AAAA
 * only; the bare name answers A only), and China regions end in `.com.cn`.
 */
export interface LoadBalancerName {
  /** The DNS name as given, lower-cased, without a trailing dot. */
  dnsName: string;
  /** The load balancer's own name, or null when the DNS name is not AWS-shaped. */
  name: string | null;
  region: string | null;
  internal: boolean;
  dualstack: boolean;
  /** The `ipv6.` name: AAAA records only. */
  ipv6: boolean;
  /** The load balancer's own DNS name, without `dualstack.`/`ipv6.`: what `all.` is asked of. */
  ownDnsName: string;
  /** `network` when the NLB shape says so; `classic-or-application` cannot be told apart from the name. */
  shape: 'classic-or-application' | 'network' | 'unknown';
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Whether `name` is a syntactically valid DNS host name (labels of letters, digits, hyphens). */
export function isHostName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare
    .toLowerCase()
    .split('.')
    .every((label) => LABEL.test(label));
}

// The name part is one label: a load balancer name holds letters, digits and hyphens only, never a dot
// (`all.web-1.…` is the `all.` name of `web`, not a load balancer named `all.web`).
const CLASSIC_OR_ALB = /^([a-z0-9-]+)-(\d+)\.([a-z]{2}(?:-[a-z]+)+-\d)\.elb\.amazonaws\.com(?:\.cn)?$/;
const NLB = /^([a-z0-9-]+)-([0-9a-f]+)\.elb\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/;

/**
 * Parse an ELB DNS name. Returns null when `dnsName` is not a valid host name;
 * a valid name that is not AWS-shaped gives `name: null` (the caller must then
 * be told the load balancer's name or ARN to find its network interfaces).
 *
 * @example parseLoadBalancerDnsName('test-738445577.us-east-1.elb.amazonaws.com')
 *   // → { name: 'test', region: 'us-east-1', internal: false, ... }
 */
export function parseLoadBalancerDnsName(dnsName: string): LoadBalancerName | null {
  if (!isHostName(dnsName)) return null;
  let host = dnsName.toLowerCase().replace(/\.$/, '');
  const result: LoadBalancerName = {
    dnsName: host,
    name: null,
    region: null,
    internal: false,
    dualstack: false,
    ipv6: false,
    ownDnsName: host,
    shape: 'unknown',
  };
  for (const prefix of ['dualstack', 'ipv6'] as const) {
    if (!host.startsWith(`${prefix}.`)) continue;
    const rest = host.slice(prefix.length + 1);
    if (!NLB.test(rest) && !CLASSIC_OR_ALB.test(rest)) break; // `ipv6.example.com` is just a name
    result[prefix] = true;
    host = rest;
    break;
  }
  const nlb = NLB.exec(host);
  const classic = nlb ? null : CLASSIC_OR_ALB.exec(host);
  const match = nlb ?? classic;
  if (!match) return result;
  let name = match[1] as string;
  if (name.startsWith('internal-')) {
    result.internal = true;
    name = name.slice('internal-'.length);
  }
  result.name = name;
  result.ownDnsName = host;
  result.region = match[3] as string;
  result.shape = nlb ? 'network' : 'classic-or-application';
  return result;
}

/** The parts of an ALB/NLB ARN that name its network interfaces. */
export interface LoadBalancerArn {
  region: string;
  type: 'app' | 'net';
  name: string;
  id: string;
}

const ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer\/(app|net)\/([A-Za-z0-9-]{1,32})\/([0-9a-f]+)$/;

/** Parse an Elastic Load Balancing v2 ARN, or return null when it is not one. */
export function parseLoadBalancerArn(arn: string): LoadBalancerArn | null {
  const m = ARN.exec(arn);
  if (!m) return null;
  return { region: m[1] as string, type: m[2] as 'app' | 'net', name: m[3] as string, id: m[4] as string };
}

/** `us-east-1a` → `us-east-1`; Local Zones (`us-east-1-bos-1a`) keep their parent region; null for anything else. */
export function regionOfAz(az: string | null): string | null {
  return az ? (/^([a-z]{2}(?:-[a-z]+)+-\d+)/.exec(az)?.[1] ?? null) : null;
}
