import { isIP } from 'node:net';
import pLimit from 'p-limit';
import { compareNatural, compareText } from '../compare';
import { describeError } from '../errors';
import { describeDnsFailure, isNoData, isNxDomain, validAddresses, type DnsLookup } from './dns';
import { parseEc2HostName } from './ec2-hostname';
import { kindOf } from './kind';
import type { OwnNameLookup } from './own-name';
import { eniDescriptions, type EniLookup, type LoadBalancerEni } from './eni';
import { parseLoadBalancerArn, parseLoadBalancerDnsName, type LoadBalancerName } from './lb-name';
import type {
  AzCount,
  NodeSource,
  Observation,
  ObservationError,
  ObservedNode,
} from './observation';

/** The load balancer to observe, as configured. */
export interface NodeTarget {
  dnsName: string;
  /** Classic name, when it cannot be derived from the DNS name. */
  name?: string | undefined;
  /** ALB/NLB ARN: pins the ENI description exactly. */
  arn?: string | undefined;
  region?: string | undefined;
}

/** What observing nodes needs from the outside world. */
export interface NodeObserverDeps {
  dns: DnsLookup;
  /** Null when ENI lookups are off (no AZ mapping). */
  enis: EniLookup | null;
  now: () => Date;
}

export interface NodeObserverOptions {
  /** How many times to query the name (answers hold at most 8 records and rotate). */
  queries: number;
  /** Concurrent PTR lookups per load balancer. */
  ptrConcurrency?: number;
}

/**
 * The most nodes one load balancer observation keeps. AWS scales an ALB or a Classic
 * ELB to tens of nodes (an NLB has one per AZ); 500 leaves room and bounds what a
 * hostile DNS answer can put in the state (500 addresses ≈ 10 KB a sample).
 */
export const MAX_NODES = 500;

/**
 * Observe a load balancer's nodes: union of several A/AAAA answers for the name
 * and `all.<name>`, PTR of every IP, and the ENIs that place each node in an AZ.
 * Never throws for a network failure: what failed is listed in `errors`.
 */
export async function observeNodes(
  target: NodeTarget,
  deps: NodeObserverDeps,
  options: NodeObserverOptions,
): Promise<Observation> {
  const observedAt = deps.now().toISOString();
  // The EC2 call runs alongside the DNS queries.
  const enis = findEnis(target, deps.enis);
  const resolved = await resolveNames(target, deps.dns, options);
  return placeNodes(target, { ...resolved, observedAt }, await enis, deps.dns, options);
}

/** What the DNS half of an observation saw: every advertised IP and how. */
export interface ResolvedNames {
  observedAt?: string;
  dnsName: string;
  parsed: LoadBalancerName | null;
  seen: SeenIps;
  errors: ObservationError[];
  /** The CNAMEs followed from the configured name to the load balancer's own (absent: none). */
  cnames?: string[];
  /** The load balancer's own DNS name from the ELB API, when the configured name is an alias of it. */
  aliasOf?: string;
}

/** The ENI half: the load balancer's interfaces (null when not looked up), and why not. */
export interface FoundEnis {
  enis: LoadBalancerEni[] | null;
  errors: ObservationError[];
}

/**
 * The DNS half of `observeNodes`: A/AAAA of the name and of `all.<name>`. A name
 * that is not a load balancer's own (`shop.example.com`) is followed through its
 * CNAMEs to one, and `all.` is asked of that; when none leads to one (a Route 53
 * alias shows no CNAME), that is said: only the name's own answers can be seen.
 */
export async function resolveNames(target: NodeTarget, dns: DnsLookup, options: NodeObserverOptions, ownName?: OwnNameLookup | null): Promise<ResolvedNames> {
  const parsed = parseLoadBalancerDnsName(target.dnsName);
  const dnsName = parsed?.dnsName ?? target.dnsName;
  const errors: ObservationError[] = [];
  let elb = parsed;
  let chain: string[] = [];
  let aliasOf: string | undefined;
  if (parsed && !parsed.name) {
    const followed = await followCnames(dnsName, dns);
    chain = followed.chain;
    if (followed.elb) elb = followed.elb;
    else {
      // No CNAME leads to it (a Route 53 alias shows none): the ELB API knows the load balancer's own name.
      const own = await ownDnsName(target, ownName);
      if (own.elb) {
        elb = own.elb;
        aliasOf = own.elb.dnsName;
      } else {
        const via = chain.length > 0 ? `its CNAMEs (${chain.join(' -> ')}) lead to none` : 'has no CNAME to one (a Route 53 alias?)';
        errors.push({ source: 'all', code: 'no-elb-name', message: `${dnsName} is not a load balancer's DNS name and ${via}${own.why ? `, and ${own.why}` : ''}: all.<name> cannot be asked, so only the name's own answers (8 addresses at most) are seen and nodes beyond them show as not-in-dns; set "name" or "arn" (found through the ELB API), or configure the load balancer's own DNS name` });
      }
    }
  }
  const seen = await resolveNodeIps(dnsName, familiesOf(parsed), dns, options.queries, errors, elb?.name ? allNamesOf(elb) : []);
  return { dnsName, parsed, seen, errors, ...(chain.length > 0 ? { cnames: chain } : {}), ...(aliasOf ? { aliasOf } : {}) };
}

/** The load balancer's own DNS name from the ELB API, or why there is none (undefined: nothing to ask with). */
async function ownDnsName(target: NodeTarget, ownName: OwnNameLookup | null | undefined): Promise<{ elb: LoadBalancerName | null; why?: string }> {
  if (!ownName || (!target.name && !target.arn)) return { elb: null };
  try {
    return { elb: parseLoadBalancerDnsName(await ownName({ name: target.name, arn: target.arn })) };
  } catch (err) {
    // The lookup's own errors are one line naming the call already.
    return { elb: null, why: `the ELB API gave no DNS name for it (${err instanceof Error ? err.message : describeError(err)})` };
  }
}

/**
 * The address families a name can answer: an AWS name A only, its `ipv6.` name
 * AAAA only, its `dualstack.` name both; a name of the customer's may have either.
 */
function familiesOf(parsed: LoadBalancerName | null): (4 | 6)[] {
  if (!parsed?.name) return [4, 6];
  if (parsed.dualstack) return [4, 6];
  return parsed.ipv6 ? [6] : [4];
}

/**
 * The `all.` queries for a load balancer name (an undocumented AWS behaviour, as
 * `all.` itself, kept from the field notes): A of `all.<own name>`, and for a
 * dualstack or IPv6 name AAAA of `all.ipv6.<own name>` (the bare name answers A only).
 */
function allNamesOf(elb: LoadBalancerName): { qname: string; family: 4 | 6 }[] {
  return familiesOf(elb).map((family) => ({ qname: family === 4 ? `all.${elb.ownDnsName}` : `all.ipv6.${elb.ownDnsName}`, family }));
}

/** CNAME hops followed at most (resolvers bound chains too). */
const MAX_CNAME_HOPS = 8;

/** Follow a name's CNAMEs until a load balancer's DNS name (or none). Failures end the walk: the finding says what was seen. */
async function followCnames(name: string, dns: DnsLookup): Promise<{ chain: string[]; elb: LoadBalancerName | null }> {
  const chain: string[] = [];
  let current = name;
  for (let hop = 0; hop < MAX_CNAME_HOPS && dns.resolveCname; hop++) {
    let next: string | undefined;
    try {
      next = (await dns.resolveCname(current))[0];
    } catch {
      break; // no CNAME (NODATA), or a failure the A queries will report themselves
    }
    const parsed = next ? parseLoadBalancerDnsName(next) : null;
    if (!parsed) break;
    chain.push(parsed.dnsName);
    if (parsed.name) return { chain, elb: parsed };
    current = parsed.dnsName;
  }
  return { chain, elb: null };
}

/** The ENI half of `observeNodes`: this load balancer's interfaces, never a throw. */
export async function findEnis(target: NodeTarget, lookup: EniLookup | null): Promise<FoundEnis> {
  const errors: ObservationError[] = [];
  const enis = await lookupEnis(target, lookup, errors);
  return { enis, errors };
}

/**
 * Join the two halves: nodes from the advertised IPs and the ENIs, each placed in
 * its AZ, then PTR names. The DNS lookup passed in bounds the PTR queries.
 */
export async function placeNodes(
  target: NodeTarget,
  resolved: ResolvedNames & { observedAt: string },
  found: FoundEnis,
  dns: DnsLookup,
  options: NodeObserverOptions,
): Promise<Observation> {
  const { dnsName, parsed, seen } = resolved;
  const errors = [...found.errors, ...resolved.errors];
  const enis = ownEnis(found.enis, seen, errors);
  let nodes = buildNodes(seen, enis);
  if (nodes.length > MAX_NODES) {
    // No load balancer has this many nodes: a hostile or broken answer. The state and
    // reports stay bounded (DynamoDB items end at 400 KB); the rest is named, not kept.
    errors.push({ source: 'dns', message: `${dnsName}: ${nodes.length} node addresses (DNS and ENIs) is more than a load balancer has; only the first ${MAX_NODES} are kept` });
    nodes = nodes.slice(0, MAX_NODES);
  }
  const regionHint = target.region ?? parseLoadBalancerArn(target.arn ?? '')?.region ?? parsed?.region ?? null;
  const kind = kindOf({ enis, arn: target.arn, dnsName: parsed });
  // An NLB's nodes may be Elastic IPs with the owner's own reverse DNS: not an odd PTR there.
  await addPtrNames(nodes, dns, regionHint, options.ptrConcurrency ?? 16, errors, kind === 'network');
  for (const node of nodes) node.region ??= regionHint;

  return { loadBalancer: dnsName, observedAt: resolved.observedAt, nodes, azs: countAzs(nodes, enis), errors, ...(resolved.cnames ? { cnames: resolved.cnames } : {}), ...(resolved.aliasOf ? { aliasOf: resolved.aliasOf } : {}), ...(kind ? { kind } : {}) };
}

/** Each advertised IP and the queries (name, `all.`) that gave it. */
export type SeenIps = Map<string, Set<NodeSource>>;

/** Route 53 answers hold at most 8 records: a full answer may be hiding more. */
const ANSWER_LIMIT = 8;

async function resolveNodeIps(
  name: string,
  /** The families the name itself is asked for. */
  families: (4 | 6)[],
  dns: DnsLookup,
  queries: number,
  errors: ObservationError[],
  /** The `all.` queries (of the load balancer's own name); none when there is no such name. */
  allNames: { qname: string; family: 4 | 6 }[],
): Promise<SeenIps> {
  const seen: SeenIps = new Map();
  const failures = new Map<string, { source: 'dns' | 'all'; count: number; asked: string }>();
  // Queries asked per source and record type, so "(2 of 4 queries)" counts like with like.
  const asked: Record<string, number> = {};
  const note = (source: 'dns' | 'all', ips: string[]) => {
    for (const ip of ips) {
      const sources = seen.get(ip) ?? new Set<NodeSource>();
      sources.add(source);
      seen.set(ip, sources);
    }
  };
  /** One query; resolves to whether asking again could show more (a full answer, or a failure worth retrying). */
  const ask = async (source: 'dns' | 'all', qname: string, family: 4 | 6): Promise<boolean> => {
    const rrtype = family === 4 ? 'A' : 'AAAA';
    const kind = `${source} ${rrtype}`;
    asked[kind] = (asked[kind] ?? 0) + 1;
    try {
      const answer = await (family === 4 ? dns.resolve4(qname) : dns.resolve6(qname));
      const { valid, invalid } = validAddresses(answer, family);
      note(source, valid);
      for (const bad of invalid) record(failures, source, kind, `${qname} ${rrtype}: ignored invalid address ${JSON.stringify(bad)}`);
      return valid.length >= ANSWER_LIMIT;
    } catch (err) {
      // "No AAAA" is normal for a non-dualstack name, and `all.` only exists on AWS.
      if (isNoData(err)) return false;
      if (source === 'all' && isNxDomain(err)) return false;
      record(failures, source, kind, describeDnsFailure(qname, rrtype, err));
      return !isNxDomain(err);
    }
  };
  // Ask once; only a full answer (8 records: there may be more, rotating) or a
  // failure is asked again, up to `queries` times in all.
  await Promise.all([
    ...families.map(async (family) => {
      if ((await ask('dns', name, family)) && queries > 1) {
        await Promise.all(Array.from({ length: queries - 1 }, () => ask('dns', name, family)));
      }
    }),
    ...allNames.map(({ qname, family }) => ask('all', qname, family)),
  ]);

  for (const [message, { source, count, asked: kind }] of failures) {
    // "2 of 8" tells a flaky server from a dead one; a failure of every query needs no count.
    const total = asked[kind] ?? count;
    const of = count < total && !message.includes('NXDOMAIN') ? ` (${count} of ${total} queries)` : '';
    errors.push({ source, message: message + of });
  }
  if (![...seen.values()].some((s) => s.has('dns')) && failures.size === 0) {
    errors.push({ source: 'dns', message: `${name}: the name exists but has no A or AAAA records` });
  }
  return seen;
}

function record(failures: Map<string, { source: 'dns' | 'all'; count: number; asked: string }>, source: 'dns' | 'all', kind: string, message: string) {
  const entry = failures.get(message);
  if (entry) entry.count++;
  else failures.set(message, { source, count: 1, asked: kind });
}

async function lookupEnis(
  target: NodeTarget,
  enis: EniLookup | null,
  errors: ObservationError[],
): Promise<LoadBalancerEni[] | null> {
  if (!enis) {
    errors.push({ source: 'eni', code: 'eni-off', message: 'ENI lookup is off: nodes are not placed in Availability Zones' });
    return null;
  }
  const descriptions = descriptionsFor(target);
  if (!descriptions) {
    errors.push({
      source: 'config',
      message: `${target.dnsName}: not an AWS ELB DNS name, so its network interfaces cannot be found; set "name" or "arn"`,
    });
    return null;
  }
  try {
    // Several load balancers may match (a Classic ELB and an ALB may share a name):
    // which ENIs are this one's is decided with the advertised IPs, in placeNodes.
    return await enis({ descriptions });
  } catch (err) {
    errors.push({ source: 'eni', message: `DescribeNetworkInterfaces (${descriptions[0]}): ${describeError(err)}` });
    return null;
  }
}

/**
 * This load balancer's ENIs among those that matched its patterns. One load
 * balancer's (one description) are its own. When several match — a Classic ELB
 * and an ALB of the same name, which AWS allows (separate namespaces) — the one
 * whose ENIs carry the advertised IPs (public or private) is this one; when none
 * or more than one does, the evidence is ambiguous and both are named.
 */
export function ownEnis(found: LoadBalancerEni[] | null, seen: SeenIps, errors: ObservationError[]): LoadBalancerEni[] | null {
  if (found === null) return null;
  const byDescription = new Map<string, LoadBalancerEni[]>();
  for (const eni of found) byDescription.set(eni.description, [...(byDescription.get(eni.description) ?? []), eni]);
  if (byDescription.size <= 1) return found;
  const carrying = [...byDescription].filter(([, list]) => list.some((e) => [e.publicIp, e.privateIp, ...e.ipv6].some((ip) => ip !== null && seen.has(ip))));
  if (carrying.length === 1) return (carrying[0] as [string, LoadBalancerEni[]])[1];
  const names = [...byDescription.keys()].sort(compareText).map((d) => `"${d}"`).join(', ');
  errors.push({
    source: 'eni',
    message: `ENIs of more than one load balancer match (${names}) and ${carrying.length === 0 ? 'none carries' : 'more than one carries'} an advertised IP, so which is this one is ambiguous; set "arn" (ALB/NLB) or check the DNS name`,
  });
  return null;
}

/** The ENI description patterns of a load balancer, or null when nothing names it. */
export function descriptionsFor(target: NodeTarget): string[] | null {
  const arn = target.arn ? parseLoadBalancerArn(target.arn) : null;
  if (arn) return eniDescriptions({ name: arn.name, type: arn.type, id: arn.id });
  if (target.name) return eniDescriptions({ name: target.name });
  const parsed = parseLoadBalancerDnsName(target.dnsName);
  if (!parsed?.name) return null;
  return eniDescriptions({ name: parsed.name, type: parsed.shape === 'network' ? 'net' : 'classic-or-app' });
}

function buildNodes(seen: SeenIps, enis: LoadBalancerEni[] | null): ObservedNode[] {
  const byAddress = new Map<string, LoadBalancerEni>();
  for (const eni of enis ?? []) {
    for (const ip of [eni.publicIp, eni.privateIp, ...eni.ipv6]) if (ip) byAddress.set(ip, eni);
  }
  const nodes: ObservedNode[] = [];
  const advertisedEnis = new Set<string>();
  for (const [ip, sources] of seen) {
    const eni = byAddress.get(ip);
    if (eni) advertisedEnis.add(eni.eniId);
    nodes.push(makeNode(ip, eni ?? null, [...sources], enis === null ? 'unmapped' : eni ? 'in-service' : 'no-eni'));
  }
  for (const eni of enis ?? []) {
    if (advertisedEnis.has(eni.eniId)) continue;
    const ip = eni.publicIp ?? eni.privateIp ?? eni.ipv6[0];
    if (ip) nodes.push(makeNode(ip, eni, [], 'not-in-dns'));
  }
  return nodes.sort(compareNodes);
}

function makeNode(ip: string, eni: LoadBalancerEni | null, sources: NodeSource[], state: ObservedNode['state']): ObservedNode {
  const order: NodeSource[] = ['dns', 'all', 'eni'];
  const all = eni ? [...sources, 'eni' as const] : sources;
  return {
    ip,
    family: isIP(ip) === 6 ? 6 : 4,
    hostname: null,
    region: eni ? regionOfAz(eni.az) : null,
    az: eni?.az ?? null,
    eniId: eni?.eniId ?? null,
    privateIp: eni?.privateIp ?? null,
    sources: order.filter((s) => all.includes(s)),
    state,
    findings: STATE_FINDINGS[state] ? [STATE_FINDINGS[state]] : [],
  };
}

const STATE_FINDINGS: Partial<Record<ObservedNode['state'], string>> = {
  'no-eni': 'in DNS but no ENI of this load balancer carries it (draining, or stale DNS)',
  'not-in-dns': 'ENI exists but DNS does not advertise it (warming up, or draining)',
};

function compareNodes(a: ObservedNode, b: ObservedNode): number {
  // Nodes with no AZ first, as they always sorted.
  return compareText(a.az ?? '', b.az ?? '') || a.family - b.family || compareNatural(a.ip, b.ip);
}

/** `us-east-1a` → `us-east-1`; Local Zones (`us-east-1-bos-1a`) keep their parent region. */
function regionOfAz(az: string): string | null {
  return /^([a-z]{2}(?:-[a-z]+)+-\d)/.exec(az)?.[1] ?? null;
}

async function addPtrNames(
  nodes: ObservedNode[],
  dns: DnsLookup,
  regionHint: string | null,
  concurrency: number,
  errors: ObservationError[],
  /** Elastic IPs may carry any PTR the owner set (NLBs): a non-EC2 name is then no finding. */
  ownReverseDns = false,
): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(
    nodes.map((node) =>
      limit(async () => {
        let names: string[];
        try {
          names = await dns.reverse(node.ip);
        } catch (err) {
          if (isNxDomain(err) || isNoData(err)) node.findings.push('no PTR record');
          else errors.push({ source: 'ptr', message: describeDnsFailure(node.ip, 'PTR', err) });
          return;
        }
        const hostname = names.find((n) => typeof n === 'string' && n.length > 0);
        if (!hostname) {
          node.findings.push('no PTR record');
          return;
        }
        node.hostname = hostname.replace(/\.$/, '');
        const ec2 = parseEc2HostName(hostname);
        if (!ec2) {
          if (!ownReverseDns) node.findings.push(`PTR ${node.hostname} is not an EC2 host name`);
          return;
        }
        if (ec2.ip !== node.ip && ec2.ip !== node.privateIp) {
          node.findings.push(`PTR ${node.hostname} embeds ${ec2.ip}, not the node IP ${node.ip}`);
        }
        node.region ??= ec2.region;
        if (regionHint && ec2.region !== regionHint) {
          node.findings.push(`PTR ${node.hostname} is in ${ec2.region}, the load balancer in ${regionHint}`);
        }
      }),
    ),
  );
}

function countAzs(nodes: ObservedNode[], enis: LoadBalancerEni[] | null): Record<string, AzCount> {
  const azs: Record<string, AzCount> = Object.create(null); // keys from EC2: no inherited names
  for (const eni of enis ?? []) {
    const count = (azs[eni.az] ??= { provisioned: 0, advertised: 0 });
    count.provisioned++;
  }
  const advertised = new Set<string>();
  for (const node of nodes) {
    if (!node.az || !node.eniId || !node.sources.some((s) => s === 'dns' || s === 'all')) continue;
    if (advertised.has(node.eniId)) continue; // dualstack: one ENI, two IPs, one node
    advertised.add(node.eniId);
    (azs[node.az] as AzCount).advertised++;
  }
  return Object.fromEntries(Object.entries(azs).sort(([a], [b]) => compareText(a, b)));
}
