import { isIP } from 'node:net';
import pLimit, { type LimitFunction } from 'p-limit';
import { compareNatural, compareText } from '../compare';
import { describeError } from '../errors';
import { describeDnsFailure, isNoData, isNxDomain, validAddresses, type DnsLookup } from './dns';
import { parseEc2HostName } from './ec2-hostname';
import { kindOf } from './kind';
import type { OwnNameLookup } from './own-name';
import { eniDescriptions, type EniLookup, type LoadBalancerEni } from './eni';
import {
  isHostName,
  parseLoadBalancerArn,
  parseLoadBalancerDnsName,
  regionOfAz,
  type LoadBalancerName,
} from './lb-name';
import { notANodeAddress } from './address';
import type { AzCount, NodeSource, Observation, ObservationError, ObservedNode } from './observation';

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
  /** Take loopback addresses (127.0.0.0/8, ::1) as nodes: the lab's are (`dns.allowLoopbackNodes`); no real node is. */
  allowLoopback?: boolean;
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
  // The EC2 call runs alongside the DNS queries, unless only the name's CNAMEs say which load balancer it is.
  const early = descriptionsFor(target) ? findEnis(target, deps.enis) : null;
  const resolved = await resolveNames(target, deps.dns, options);
  const enis = await (early ?? findEnis(target, deps.enis, resolved.ownDnsName));
  return placeNodes(target, { ...resolved, observedAt }, enis, deps.dns, options);
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
  /**
   * The load balancer DNS name a configured name that is not one leads to (where its
   * CNAMEs end, or `aliasOf`): what its ENIs, metrics and ELB API calls are asked by.
   */
  ownDnsName?: string;
  /**
   * The PTR queries of the advertised addresses, started as soon as DNS gave them, so they run while EC2
   * answers (placeNodes judges the answers once the ENIs are in). Absent: asked in placeNodes.
   */
  ptr?: PtrQueries;
}

/** PTR answers being fetched, by address, and the bound they share. */
interface PtrQueries {
  limit: LimitFunction;
  answers: Map<string, Promise<PtrAnswer>>;
}

/** A PTR query's outcome: its names, or the error it failed with (never a rejected promise left unheard). */
type PtrAnswer = { names: string[] } | { error: unknown };

/** The ENI half: the load balancer's interfaces (null when not looked up), and why not. */
export interface FoundEnis {
  enis: LoadBalancerEni[] | null;
  errors: ObservationError[];
}

/**
 * The DNS half of `observeNodes`. The configured name's CNAMEs are followed (node:dns
 * would follow them inside an A answer without saying so), and A/AAAA are taken from
 * the name they end at: nodes come only from that name's answers. A load balancer's
 * own name (which has no CNAME on AWS) is asked at once beside its CNAME query, so
 * the check costs no round trip. A name of the customer's (`shop.example.com`) whose
 * CNAMEs end at a load balancer's gets `all.` of that one; when none leads to one (a
 * Route 53 alias shows no CNAME), the ELB API is asked, and failing that it is said:
 * only the name's own answers are seen.
 */
export async function resolveNames(
  target: NodeTarget,
  dns: DnsLookup,
  options: NodeObserverOptions,
  ownName?: OwnNameLookup | null,
): Promise<ResolvedNames> {
  const parsed = parseLoadBalancerDnsName(target.dnsName);
  const dnsName = parsed?.dnsName ?? target.dnsName;
  const errors: ObservationError[] = [];
  const askName = (name: string, families: (4 | 6)[]) => resolveNodeIps(name, families, dns, options, []);
  const askAll = (elb: LoadBalancerName | null) =>
    resolveNodeIps(null, [], dns, options, elb?.name ? allNamesOf(elb) : []);
  // Started now for a load balancer's own name; used only if its CNAME query says it has none.
  const early = parsed?.name ? { name: askName(dnsName, familiesOf(parsed)), all: askAll(parsed) } : null;
  const walk = await followCnames(dnsName, dns, options.queries);
  const chain = walk.chain;
  const end = parseLoadBalancerDnsName(walk.end);
  let elb = end?.name ? end : null;
  let aliasOf: string | undefined;
  if (parsed && !parsed.name && !elb && !walk.failure) {
    // No CNAME leads to it (a Route 53 alias shows none): the ELB API knows the load balancer's own name.
    const own = await ownDnsName(target, ownName);
    if (own.elb) {
      elb = own.elb;
      aliasOf = own.elb.dnsName;
    } else {
      const via =
        chain.length > 0
          ? `its CNAMEs (${chain.join(' -> ')}) lead to none`
          : 'has no CNAME to one (a Route 53 alias?)';
      errors.push({
        source: 'all',
        code: 'no-elb-name',
        message: clip(
          `${dnsName} is not a load balancer's DNS name and ${via}${own.why ? `, and ${own.why}` : ''}: all.<name> cannot be asked, so only the name's own answers (8 addresses at most) are seen and nodes beyond them show as not-in-dns; set "name" or "arn" (found through the ELB API), or configure the load balancer's own DNS name`,
        ),
      });
    }
  }
  // The early answers stand only for a name with no CNAME; one with CNAMEs (never an AWS name) is asked where they end.
  const fromAll = early && chain.length === 0 ? early.all : askAll(elb);
  let fromName: Promise<Asked> | null = null;
  if (!walk.failure || walk.unanswered)
    fromName = early && chain.length === 0 ? early.name : askName(walk.end, familiesOf(end));
  const [name, all] = await Promise.all([fromName, fromAll]);
  if (!walk.failure) errors.push(...(name as Asked).errors);
  else if (!name || name.seen.size === 0) {
    // Whose addresses an answer holds is unknown: none is taken, and that is the name's failure (never zero nodes).
    // When the name's own queries failed as well, theirs is the line a person reads (SERVFAIL, timeout, NXDOMAIN).
    errors.push(
      ...(name && name.errors.length > 0 ? name.errors : [{ source: 'dns' as const, message: clip(walk.failure) }]),
    );
  } else
    errors.push({
      source: 'dns',
      message: clip(`${walk.failure} (${name.seen.size} address${name.seen.size === 1 ? '' : 'es'} not taken)`),
    });
  errors.push(...all.errors);
  const seen: SeenIps = new Map(walk.failure ? [] : (name as Asked).seen);
  for (const [ip, sources] of all.seen) seen.set(ip, new Set([...(seen.get(ip) ?? []), ...sources]));
  const own = elb && !parsed?.name ? { ownDnsName: elb.dnsName } : {};
  return {
    dnsName,
    parsed,
    seen,
    errors,
    ...(chain.length > 0 ? { cnames: chain } : {}),
    ...(aliasOf ? { aliasOf } : {}),
    ...own,
    ...startPtrQueries(seen, dns, options.ptrConcurrency ?? 16),
  };
}

/**
 * Start the PTR query of every advertised address now: which node it is (and the
 * judgement of its name) waits for the ENIs, the query need not. Not for more
 * addresses than a load balancer keeps (MAX_NODES): which of those are kept is
 * decided with the ENIs, so their PTRs are asked then.
 */
function startPtrQueries(seen: SeenIps, dns: DnsLookup, concurrency: number): { ptr?: PtrQueries } {
  if (seen.size === 0 || seen.size > MAX_NODES) return {};
  const limit = pLimit(concurrency);
  const answers = new Map<string, Promise<PtrAnswer>>();
  for (const ip of seen.keys()) answers.set(ip, askPtr(ip, dns, limit));
  return { ptr: { limit, answers } };
}

function askPtr(ip: string, dns: DnsLookup, limit: LimitFunction): Promise<PtrAnswer> {
  return limit(() => dns.reverse(ip)).then(
    (names) => ({ names }),
    (error: unknown) => ({ error }),
  );
}

/** What a set of queries saw, and what failed. */
interface Asked {
  seen: SeenIps;
  errors: ObservationError[];
}

/**
 * The load balancer an observed name of the customer's (no "name" or "arn") led to:
 * where its CNAMEs end, or what the ELB API said it is an alias of. Null for a load
 * balancer's own DNS name, and when nothing led to one.
 */
export function observedOwnName(
  observation: Pick<Observation, 'loadBalancer' | 'cnames' | 'aliasOf'>,
): LoadBalancerName | null {
  if (parseLoadBalancerDnsName(observation.loadBalancer)?.name) return null;
  const parsed = parseLoadBalancerDnsName(observation.aliasOf ?? observation.cnames?.at(-1) ?? '');
  return parsed?.name ? parsed : null;
}

/** The load balancer's own DNS name from the ELB API, or why there is none (undefined: nothing to ask with). */
async function ownDnsName(
  target: NodeTarget,
  ownName: OwnNameLookup | null | undefined,
): Promise<{ elb: LoadBalancerName | null; why?: string }> {
  if (!ownName || (!target.name && !target.arn)) return { elb: null };
  try {
    return { elb: parseLoadBalancerDnsName(await ownName({ name: target.name, arn: target.arn })) };
  } catch (err) {
    // The lookup's own errors are one line naming the call already.
    return {
      elb: null,
      why: `the ELB API gave no DNS name for it (${err instanceof Error ? err.message : describeError(err)})`,
    };
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
  return familiesOf(elb).map((family) => ({
    qname: family === 4 ? `all.${elb.ownDnsName}` : `all.ipv6.${elb.ownDnsName}`,
    family,
  }));
}

/** CNAME hops followed at most (resolvers bound chains too). */
const MAX_CNAME_HOPS = 8;

/** The longest error line a DNS answer can make (a name is up to 253 characters). */
const MAX_MESSAGE = 500;

const clip = (message: string): string =>
  message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message;

/** What a CNAME query said: no CNAME (NODATA), no such name, one target, or nothing usable. */
type CnameAnswer =
  | { kind: 'none' }
  | { kind: 'nxdomain' }
  | { kind: 'target'; target: string }
  | { kind: 'failed'; why: string };

/**
 * Ask a name's CNAME; a failure is asked again (`tries` in all, the rest at once),
 * as the A queries are. A name has at most one CNAME and nothing else (RFC 1034
 * §3.6.2, RFC 2181 §10.1): several, none in a NOERROR answer, or a target that is
 * not a host name make a broken answer, never a CNAME.
 */
async function askCname(name: string, dns: DnsLookup, tries: number): Promise<CnameAnswer> {
  const once = async (): Promise<CnameAnswer> => {
    let targets: unknown;
    try {
      targets = await dns.resolveCname(name);
    } catch (err) {
      if (isNoData(err)) return { kind: 'none' };
      if (isNxDomain(err)) return { kind: 'nxdomain' };
      return { kind: 'failed', why: describeDnsFailure(name, 'CNAME', err) };
    }
    const list = Array.isArray(targets) ? targets : [];
    if (list.length !== 1)
      return {
        kind: 'failed',
        why: `${name} CNAME: malformed answer (${list.length} targets; a name has one CNAME at most)`,
      };
    const target = list[0];
    if (typeof target !== 'string' || !isHostName(target))
      return {
        kind: 'failed',
        why: `${name} CNAME: the target ${JSON.stringify(String(target).slice(0, 80))} is not a host name`,
      };
    return { kind: 'target', target: target.toLowerCase().replace(/\.$/, '') };
  };
  const first = await once();
  if (first.kind !== 'failed' || tries <= 1) return first;
  const again = await Promise.all(Array.from({ length: tries - 1 }, once));
  return again.find((a) => a.kind !== 'failed') ?? first;
}

/**
 * Follow a name's CNAMEs to the name that has none: its A/AAAA answers are the ones
 * taken. A CNAME query that failed (`unanswered`), a loop or a chain longer than
 * MAX_CNAME_HOPS is a `failure` (whose addresses an answer holds is then unknown).
 * NXDOMAIN ends the walk: the A queries say it themselves.
 */
async function followCnames(
  name: string,
  dns: DnsLookup,
  tries: number,
): Promise<{ chain: string[]; end: string; failure?: string; unanswered?: true }> {
  const chain: string[] = [];
  let current = name;
  for (;;) {
    const answer = await askCname(current, dns, tries);
    if (answer.kind === 'none' || answer.kind === 'nxdomain') return { chain, end: current };
    if (answer.kind === 'failed')
      return {
        chain,
        end: current,
        unanswered: true,
        failure: `${answer.why}: whether ${current} is an alias of another name is unknown, so no answer of it is taken as nodes`,
      };
    if (answer.target === name || chain.includes(answer.target)) {
      return {
        chain,
        end: current,
        failure: `${name}: its CNAMEs loop (${[name, ...chain, answer.target].join(' -> ')}): no address is taken as a node`,
      };
    }
    chain.push(answer.target);
    if (chain.length > MAX_CNAME_HOPS)
      return {
        chain,
        end: current,
        failure: `${name}: more than ${MAX_CNAME_HOPS} CNAMEs (${chain.slice(0, 3).join(' -> ')} …): no address is taken as a node`,
      };
    current = answer.target;
  }
}

/**
 * The ENI half of `observeNodes`: this load balancer's interfaces, never a throw.
 * `ownDnsName`: the load balancer name the configured one leads to (ResolvedNames).
 */
export async function findEnis(target: NodeTarget, lookup: EniLookup | null, ownDnsName?: string): Promise<FoundEnis> {
  const errors: ObservationError[] = [];
  const enis = await lookupEnis(target, lookup, errors, ownDnsName);
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
  // DNS advertises nodes and no ENI read carries any of them: the ENI answer contradicts DNS (an empty or
  // wrong set), so it cannot place nodes. Counting from it would read every AZ as emptied.
  const advertised = nodes.filter((n) => n.state !== 'not-in-dns');
  if (enis !== null && advertised.length > 0 && advertised.every((n) => n.state === 'no-eni')) {
    errors.push({
      source: 'eni',
      message: `DescribeNetworkInterfaces: none of the ${advertised.length} advertised addresses is on one of the ${enis.length} ENIs found: the answer contradicts DNS (or "name"/"arn" names another load balancer), so no node is placed in an AZ`,
    });
  }
  if (nodes.length > MAX_NODES) {
    // No load balancer has this many nodes: a hostile or broken answer. The state and
    // reports stay bounded (DynamoDB items end at 400 KB); the rest is named, not kept.
    errors.push({
      source: 'dns',
      code: 'too-many-nodes',
      message: `${dnsName}: ${nodes.length} node addresses (DNS and ENIs) is more than a load balancer has; only the first ${MAX_NODES} are kept, and none is counted`,
    });
    nodes = nodes.slice(0, MAX_NODES);
  }
  // A name of the customer's speaks through the load balancer name it led to.
  const named = parsed?.name ? parsed : (parseLoadBalancerDnsName(resolved.ownDnsName ?? '') ?? parsed);
  const regionHint = target.region ?? parseLoadBalancerArn(target.arn ?? '')?.region ?? named?.region ?? null;
  const kind = kindOf({ enis, arn: target.arn, dnsName: named });
  // An NLB's nodes may be Elastic IPs with the owner's own reverse DNS: not an odd PTR there.
  await addPtrNames(
    nodes,
    dns,
    regionHint,
    resolved.ptr ?? null,
    options.ptrConcurrency ?? 16,
    errors,
    kind === 'network',
  );
  for (const node of nodes) node.region ??= regionHint;

  return {
    loadBalancer: dnsName,
    observedAt: resolved.observedAt,
    nodes,
    azs: countAzs(nodes, enis),
    errors,
    ...(resolved.cnames ? { cnames: resolved.cnames } : {}),
    ...(resolved.aliasOf ? { aliasOf: resolved.aliasOf } : {}),
    ...(kind ? { kind } : {}),
  };
}

/** Each advertised IP and the queries (name, `all.`) that gave it. */
export type SeenIps = Map<string, Set<NodeSource>>;

/** Route 53 answers hold at most 8 records: a full answer may be hiding more. */
const ANSWER_LIMIT = 8;

/**
 * A/AAAA of a name (asked again while its answers are full or failing) and of the
 * `all.` names (each beside its CNAME check): the addresses a node may have, and
 * what failed or was refused, as errors of their source.
 */
async function resolveNodeIps(
  /** The name whose own A/AAAA answers are taken (where its CNAMEs end); null: none is. */
  name: string | null,
  /** The families the name itself is asked for. */
  families: (4 | 6)[],
  dns: DnsLookup,
  options: NodeObserverOptions,
  /** The `all.` queries (of the load balancer's own name); none when there is no such name. */
  allNames: { qname: string; family: 4 | 6 }[],
): Promise<Asked> {
  const { queries } = options;
  const errors: ObservationError[] = [];
  const seen: SeenIps = new Map();
  const failures = new Map<string, { source: 'dns' | 'all'; count: number; asked: string }>();
  // Addresses no node can have, per query and reason: one line each, however many answers repeat them.
  const refused = new Map<string, { source: 'dns' | 'all'; where: string; problem: string; ips: Set<string> }>();
  // Queries asked per source and record type, so "(2 of 4 queries)" counts like with like.
  const asked: Record<string, number> = {};
  type Answer = { ips: unknown } | { err: unknown };
  const query = async (source: 'dns' | 'all', qname: string, family: 4 | 6): Promise<Answer> => {
    const kind = `${source} ${family === 4 ? 'A' : 'AAAA'}`;
    asked[kind] = (asked[kind] ?? 0) + 1;
    try {
      return { ips: await (family === 4 ? dns.resolve4(qname) : dns.resolve6(qname)) };
    } catch (err) {
      return { err };
    }
  };
  /** Take one answer; resolves to whether asking again could show more (a full answer, or a failure worth retrying). */
  const take = (source: 'dns' | 'all', qname: string, family: 4 | 6, answer: Answer): boolean => {
    const rrtype = family === 4 ? 'A' : 'AAAA';
    const kind = `${source} ${rrtype}`;
    if ('err' in answer) {
      const { err } = answer;
      // "No AAAA" is normal for a non-dualstack name, and `all.` only exists on AWS.
      if (isNoData(err)) return false;
      if (source === 'all' && isNxDomain(err)) return false;
      record(failures, source, kind, describeDnsFailure(qname, rrtype, err));
      return !isNxDomain(err);
    }
    const { valid, invalid } = validAddresses(answer.ips, family);
    for (const ip of valid) {
      const problem = notANodeAddress(ip, options.allowLoopback === true);
      if (problem === null) {
        const sources = seen.get(ip) ?? new Set<NodeSource>();
        sources.add(source);
        seen.set(ip, sources);
        continue;
      }
      const key = `${source} ${qname} ${rrtype} ${problem}`;
      const entry = refused.get(key) ?? { source, where: `${qname} ${rrtype}`, problem, ips: new Set<string>() };
      entry.ips.add(ip);
      refused.set(key, entry);
    }
    for (const bad of invalid)
      record(failures, source, kind, `${qname} ${rrtype}: ignored invalid address ${JSON.stringify(bad.slice(0, 64))}`);
    return valid.length >= ANSWER_LIMIT;
  };
  /**
   * `all.<name>` is asked beside its CNAME: its answers are taken only when the name
   * has no CNAME of its own. One to another name holds that name's addresses (another
   * load balancer's), which node:dns would hand over as if they were this one's.
   */
  const askAll = async (qname: string, family: 4 | 6): Promise<void> => {
    const [cname, answer] = await Promise.all([askCname(qname, dns, queries), query('all', qname, family)]);
    if (cname.kind === 'none') {
      take('all', qname, family, answer);
      return;
    }
    let message: string | null = null;
    if (cname.kind === 'target')
      message = `${qname} is a CNAME to ${cname.target}: all.<name> answers with the load balancer's own nodes, and these addresses are another name's (another load balancer's?), so none is taken as a node`;
    else if (cname.kind === 'failed')
      message = `${cname.why}: whether ${qname} is an alias of another name (another load balancer) is unknown, so its addresses are not taken as nodes`;
    else if ('ips' in answer && Array.isArray(answer.ips) && answer.ips.length > 0)
      message = `${qname}: NXDOMAIN to the CNAME query, addresses to the ${family === 4 ? 'A' : 'AAAA'} query: an inconsistent answer, so none is taken as a node`;
    if (message) errors.push({ source: 'all', message: clip(message) });
  };
  // Ask once; only a full answer (8 records: there may be more, rotating) or a
  // failure is asked again, up to `queries` times in all.
  const askName = async (qname: string, family: 4 | 6): Promise<boolean> =>
    take('dns', qname, family, await query('dns', qname, family));
  await Promise.all([
    ...(name === null ? [] : families).map(async (family) => {
      if ((await askName(name as string, family)) && queries > 1) {
        await Promise.all(Array.from({ length: queries - 1 }, () => askName(name as string, family)));
      }
    }),
    ...allNames.map(({ qname, family }) => askAll(qname, family)),
  ]);

  for (const [message, { source, count, asked: kind }] of failures) {
    // "2 of 8" tells a flaky server from a dead one; a failure of every query needs no count.
    const total = asked[kind] ?? count;
    const of = count < total && !message.includes('NXDOMAIN') ? ` (${count} of ${total} queries)` : '';
    errors.push({ source, message: clip(message + of) });
  }
  for (const { source, where, problem, ips } of refused.values()) {
    const list = [...ips];
    const shown = list.slice(0, 3).join(', ') + (list.length > 3 ? ` and ${list.length - 3} more` : '');
    errors.push({
      source,
      message: clip(
        `${where}: ${shown} ${list.length === 1 ? 'is' : 'are'} ${problem}; not taken as ${list.length === 1 ? 'a node' : 'nodes'}`,
      ),
    });
  }
  if (
    name !== null &&
    ![...seen.values()].some((s) => s.has('dns')) &&
    failures.size === 0 &&
    ![...refused.values()].some((r) => r.source === 'dns')
  ) {
    errors.push({ source: 'dns', message: clip(`${name}: the name exists but has no A or AAAA records`) });
  }
  return { seen, errors };
}

function record(
  failures: Map<string, { source: 'dns' | 'all'; count: number; asked: string }>,
  source: 'dns' | 'all',
  kind: string,
  message: string,
) {
  const entry = failures.get(message);
  if (entry) entry.count++;
  else failures.set(message, { source, count: 1, asked: kind });
}

async function lookupEnis(
  target: NodeTarget,
  enis: EniLookup | null,
  errors: ObservationError[],
  ownDnsName?: string,
): Promise<LoadBalancerEni[] | null> {
  if (!enis) {
    errors.push({
      source: 'eni',
      code: 'eni-off',
      message: 'ENI lookup is off: nodes are not placed in Availability Zones',
    });
    return null;
  }
  const descriptions = descriptionsFor(target, ownDnsName);
  if (!descriptions) {
    errors.push({
      source: 'config',
      message: `${target.dnsName}: not an AWS ELB DNS name, and no CNAME of it leads to one, so its network interfaces cannot be found; set "name" or "arn"`,
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
export function ownEnis(
  found: LoadBalancerEni[] | null,
  seen: SeenIps,
  errors: ObservationError[],
): LoadBalancerEni[] | null {
  if (found === null) return null;
  const byDescription = new Map<string, LoadBalancerEni[]>();
  for (const eni of found) {
    const list = byDescription.get(eni.description);
    if (list) list.push(eni);
    else byDescription.set(eni.description, [eni]);
  }
  if (byDescription.size <= 1) return found;
  const carrying = [...byDescription].filter(([, list]) =>
    list.some((e) => [e.publicIp, e.privateIp, ...e.ipv6].some((ip) => ip !== null && seen.has(ip))),
  );
  if (carrying.length === 1) return (carrying[0] as [string, LoadBalancerEni[]])[1];
  const names = [...byDescription.keys()]
    .sort(compareText)
    .map((d) => `"${d}"`)
    .join(', ');
  errors.push({
    source: 'eni',
    message: `ENIs of more than one load balancer match (${names}) and ${carrying.length === 0 ? 'none carries' : 'more than one carries'} an advertised IP, so which is this one is ambiguous; set "arn" (ALB/NLB) or check the DNS name`,
  });
  return null;
}

/**
 * The ENI description patterns of a load balancer, or null when nothing names it:
 * its ARN, its name, its DNS name, or else the load balancer DNS name its CNAMEs
 * lead to (`ownDnsName`, known once they were followed).
 */
export function descriptionsFor(target: NodeTarget, ownDnsName?: string): string[] | null {
  const arn = target.arn ? parseLoadBalancerArn(target.arn) : null;
  if (arn) return eniDescriptions({ name: arn.name, type: arn.type, id: arn.id });
  if (target.name) return eniDescriptions({ name: target.name });
  const own = parseLoadBalancerDnsName(target.dnsName);
  const parsed = own?.name ? own : parseLoadBalancerDnsName(ownDnsName ?? '');
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

function makeNode(
  ip: string,
  eni: LoadBalancerEni | null,
  sources: NodeSource[],
  state: ObservedNode['state'],
): ObservedNode {
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

async function addPtrNames(
  nodes: ObservedNode[],
  dns: DnsLookup,
  regionHint: string | null,
  /** The queries started when DNS answered (resolveNames); the other nodes' are asked here. */
  started: PtrQueries | null,
  concurrency: number,
  errors: ObservationError[],
  /** Elastic IPs may carry any PTR the owner set (NLBs): a non-EC2 name is then no finding. */
  ownReverseDns = false,
): Promise<void> {
  const limit = started?.limit ?? pLimit(concurrency);
  await Promise.all(
    nodes.map(async (node) => {
      const answer = await (started?.answers.get(node.ip) ?? askPtr(node.ip, dns, limit));
      if ('error' in answer) {
        const err = answer.error;
        if (isNxDomain(err) || isNoData(err)) node.findings.push('no PTR record');
        else errors.push({ source: 'ptr', message: describeDnsFailure(node.ip, 'PTR', err) });
        return;
      }
      const hostname = answer.names.find((n) => typeof n === 'string' && n.length > 0);
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
