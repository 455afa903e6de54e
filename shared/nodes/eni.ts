import { isIP } from 'node:net';
import pLimit from 'p-limit';
import { apiList, guardQueryAnswers, quoted } from '../answer';
import { type EC2Client, paginateDescribeNetworkInterfaces, type NetworkInterface } from '@aws-sdk/client-ec2';

/** One requester-managed network interface of a load balancer node. */
export interface LoadBalancerEni {
  eniId: string;
  az: string;
  /** The ENI description: `ELB <name>`, `ELB app/<name>/<id>` or `ELB net/<name>/<id>`. */
  description: string;
  privateIp: string | null;
  publicIp: string | null;
  ipv6: string[];
}

/** Which load balancer's interfaces to find. */
interface EniQuery {
  /** `ELB ...` description patterns; `*` is EC2's filter wildcard. */
  descriptions: string[];
}

/** Looks up the ENIs of a load balancer; a port so tests can swap the EC2 client. */
export type EniLookup = (query: EniQuery) => Promise<LoadBalancerEni[]>;

/**
 * The description patterns of a load balancer's ENIs. An explicit ARN pins the
 * type and id; `classic-or-app` is what a Classic/ALB-shaped DNS name says (an
 * NLB's DNS name has its own shape); a bare name matches Classic, ALB and NLB alike.
 */
export function eniDescriptions(target: {
  name: string;
  type?: 'app' | 'net' | 'classic' | 'classic-or-app';
  id?: string;
}): string[] {
  if (target.type === 'classic') return [`ELB ${target.name}`];
  if (target.type === 'classic-or-app') return [`ELB ${target.name}`, `ELB app/${target.name}/*`];
  if (target.type !== undefined) return [`ELB ${target.type}/${target.name}/${target.id ?? '*'}`];
  return [`ELB ${target.name}`, `ELB app/${target.name}/*`, `ELB net/${target.name}/*`];
}

/**
 * The load balancer name an ENI description (or a description pattern) is about:
 * `ELB web` → `web`, `ELB app/web/50dc…` and `ELB app/web/*` → `web`. Null for
 * anything else. Load balancer names cannot hold `/`, so the split is exact.
 */
export function loadBalancerNameOf(description: string): string | null {
  if (!description.startsWith('ELB ')) return null;
  const rest = description.slice(4);
  const parts = rest.split('/');
  if (parts.length === 1) return rest;
  return parts.length === 3 && (parts[0] === 'app' || parts[0] === 'net') ? (parts[1] as string) : null;
}

/**
 * ENIs through EC2 DescribeNetworkInterfaces, every page, filtered on the
 * description and on requester-managed interfaces (load balancer nodes are
 * managed by the `amazon-elb` requester).
 */
export function createEniLookup(ec2: EC2Client, pageSize = 1000): EniLookup {
  // Whoever built the client (the CLI's lab, a test): its 2xx answers must be DescribeNetworkInterfacesResponse
  // documents.
  guardQueryAnswers(ec2, 'ec2');
  return async ({ descriptions }) => {
    const found: LoadBalancerEni[] = [];
    const pages = paginateDescribeNetworkInterfaces(
      { client: ec2, pageSize },
      {
        Filters: [
          { Name: 'description', Values: descriptions },
          { Name: 'requester-managed', Values: ['true'] },
        ],
      },
    );
    const tokens = new Set<string>();
    let pageNo = 0;
    for await (const page of pages) {
      pageNo++;
      // An endpoint that hands back a token it gave before, or never stops giving new ones, would page for ever.
      if (page.NextToken !== undefined && tokens.has(page.NextToken))
        throw new Error(
          `DescribeNetworkInterfaces (${descriptions[0]}…): NextToken repeated after ${tokens.size} pages; stopped`,
        );
      if (page.NextToken !== undefined) tokens.add(page.NextToken);
      if (tokens.size >= MAX_ENI_PAGES)
        throw new Error(
          `DescribeNetworkInterfaces (${descriptions[0]}…): still paging after ${MAX_ENI_PAGES} pages of ${pageSize}; stopped`,
        );
      // EC2 always sends <networkInterfaceSet/>: without it the answer is not EC2's, never "zero ENIs".
      const interfaces = apiList(
        page.NetworkInterfaces,
        `DescribeNetworkInterfaces (${descriptions[0]}…)`,
        'networkInterfaceSet',
      );
      // MaxResults: "The maximum number of items to return for this request" (5-1000): a page of more is not EC2's.
      if (interfaces.length > pageSize)
        throw new Error(
          `DescribeNetworkInterfaces (${descriptions[0]}…): page ${pageNo} holds ${interfaces.length} interfaces, more than the ${pageSize} asked (MaxResults); stopped`,
        );
      for (const [i, ni] of interfaces.entries()) found.push(toEni(ni, `#${i + 1} on page ${pageNo}`));
    }
    return found;
  };
}

/** Pages one lookup may take: 50 × 1,000 interfaces for 199 descriptions is far beyond any real account. */
const MAX_ENI_PAGES = 50;

/**
 * An Availability Zone name as EC2 writes one (`us-east-1a`, a Local Zone's
 * `us-east-1-bos-1a`, a Wavelength Zone's `us-east-1-wl1-bos-wlz-1`): lower-case
 * letters, digits and hyphens. Anything else (`__proto__`, markup) is not an AZ.
 */
const AZ_NAME = /^[a-z]{2}(-[a-z0-9]+){2,5}$/;

/** An ENI id as EC2 writes one (`eni-` and 17 hex digits; the lab's are readable names): nothing else is an id. */
const ENI_ID = /^eni-[A-Za-z0-9-]{1,60}$/;

/**
 * One interface as elbscope keeps it. Values EC2 would never send (no id, no AZ,
 * an AZ that is not an AZ name, an address that is not an IP) make the whole
 * answer an error naming the interface: a broken or hostile endpoint is a failed
 * lookup, never a node, and never an interface dropped (one dropped ENI would read
 * as its AZ losing a node, or being removed).
 */
function toEni(ni: NetworkInterface, where: string): LoadBalancerEni {
  const fail = (what: string) => new Error(`DescribeNetworkInterfaces: interface ${what}`);
  // EC2 API Reference, NetworkInterface: every interface EC2 describes has its networkInterfaceId and availabilityZone.
  if (typeof ni.NetworkInterfaceId !== 'string' || !ENI_ID.test(ni.NetworkInterfaceId)) {
    const missing = ni.NetworkInterfaceId === undefined || ni.NetworkInterfaceId === '';
    throw fail(
      `${where} (private IP ${quoted(ni.PrivateIpAddress)}) has ${missing ? 'no networkInterfaceId' : `a networkInterfaceId that is not one: ${quoted(ni.NetworkInterfaceId)}`}`,
    );
  }
  const id = ni.NetworkInterfaceId;
  const az: unknown = ni.AvailabilityZone;
  // "" is also what the SDK makes of an entity it does not know (`<availabilityZone>&az;</availabilityZone>`).
  if (az === undefined || az === '') throw fail(`${id} has no availability zone; EC2 always sends one`);
  if (typeof az !== 'string' || !AZ_NAME.test(az))
    throw fail(`${id} has an availability zone that is not one: ${quoted(az)}`);
  // The lookup filters on the description: an interface without one is not an answer to it.
  if (typeof ni.Description !== 'string') {
    throw fail(
      `${id} has ${ni.Description === undefined ? 'no description' : 'a description that is not text'}; the lookup asked by description`,
    );
  }
  const ip = (value: unknown, family: 4 | 6, what: string): string | null => {
    if (value === undefined) return null;
    if (typeof value !== 'string' || isIP(value) !== family)
      throw fail(`${id} has a ${what} that is not an IPv${family} address: ${quoted(value)}`);
    return value;
  };
  return {
    eniId: id,
    az,
    description: ni.Description,
    privateIp: ip(ni.PrivateIpAddress, 4, 'private IP'),
    publicIp: ip(ni.Association?.PublicIp, 4, 'public IP'),
    ipv6: (ni.Ipv6Addresses ?? []).flatMap((a) =>
      a.Ipv6Address !== undefined ? [ip(a.Ipv6Address, 6, 'IPv6 address') as string] : [],
    ),
  };
}

const patternCache = new Map<string, RegExp>();

/** Whether an ENI description matches a filter pattern (`*` and `?` wildcards, as EC2 filters). */
export function matchesDescription(pattern: string, description: string): boolean {
  // elbscope's own patterns are exact or end in one `*`: no regular expression needed.
  const star = pattern.indexOf('*');
  if (star < 0 && !pattern.includes('?')) return pattern === description;
  if (star === pattern.length - 1 && !pattern.includes('?')) return description.startsWith(pattern.slice(0, -1));
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('*', '.*')
        .replaceAll('?', '.')}$`,
    );
    if (patternCache.size > 10_000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(description);
}

/**
 * Description patterns per DescribeNetworkInterfaces call. EC2 refuses more than
 * 200 filter values on a single call ("FilterLimitExceeded: The maximum number of
 * filter values specified on a single call is 200"), counted across filters, and
 * each call also carries `requester-managed=true`: 199 descriptions.
 */
const MAX_FILTER_VALUES = 199;

/** DescribeNetworkInterfaces calls one region's batch makes at once; the SDK retries throttling. */
const ENI_CALLS_AT_ONCE = 4;

/**
 * Look up the ENIs of many load balancers of one region with as few
 * DescribeNetworkInterfaces calls as possible (one paginated call per 199
 * description patterns, a few at once), and hand each load balancer its own.
 * A failure is returned to every load balancer of the batch, never thrown.
 */
export async function prefetchEnis(lookup: EniLookup, descriptions: string[]): Promise<LoadBalancerEni[] | Error> {
  const unique = [...new Set(descriptions)];
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += MAX_FILTER_VALUES) batches.push(unique.slice(i, i + MAX_FILTER_VALUES));
  const limit = pLimit(ENI_CALLS_AT_ONCE);
  try {
    const found = (await Promise.all(batches.map((batch) => limit(() => lookup({ descriptions: batch }))))).flat();
    const seen = new Set<string>();
    return found.filter((e) => !seen.has(e.eniId) && Boolean(seen.add(e.eniId)));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * An EniLookup that answers from prefetched ENIs (or replays the batch's failure).
 * ENIs are indexed by the load balancer name in their description, so each load
 * balancer's patterns are matched against its own name's few ENIs: the work per
 * load balancer stays the same however many the region has.
 */
export function prefetchedEniLookup(prefetched: LoadBalancerEni[] | Error): EniLookup {
  if (prefetched instanceof Error) {
    return async () => {
      throw prefetched;
    };
  }
  const byName = new Map<string, LoadBalancerEni[]>();
  for (const eni of prefetched) {
    const name = loadBalancerNameOf(eni.description);
    if (name === null) continue; // not a load balancer's description: no pattern of ours matches it
    const list = byName.get(name);
    if (list) list.push(eni);
    else byName.set(name, [eni]);
  }
  return async ({ descriptions }) => {
    const found = new Set<LoadBalancerEni>();
    for (const pattern of descriptions) {
      const name = loadBalancerNameOf(pattern);
      // A pattern with a wildcard in the name part (never ours) is matched the slow way, still correctly.
      const candidates = name !== null && !/[*?]/.test(name) ? (byName.get(name) ?? []) : prefetched;
      for (const eni of candidates) if (matchesDescription(pattern, eni.description)) found.add(eni);
    }
    return [...found];
  };
}
