import type { LoadBalancerSnapshot } from './snapshot';
import type { BackendTls } from './tls-round';
import { isNote, nameResolved } from '../nodes/observation';
import { parseLoadBalancerDnsName } from '../nodes/lb-name';
import type { CycleSample, TlsSample } from '../detect/state';

/** Records one Route 53 answer holds at most: a full answer may hide more nodes, rotating. */
const ROUTE53_ANSWER_LIMIT = 8;

/**
 * What failed in a cycle's snapshot, by source (`dns`, `eni`, `cloudwatch`,
 * `reservation`, `backend:<name>`) → one line: the rules' `observation-failed`
 * sources, and what the metrics count. A note (ENI lookups off, a kind not known
 * yet) is not a failure.
 */
export function failuresOf(snapshot: LoadBalancerSnapshot): Record<string, string> {
  const { observation } = snapshot;
  const failures: Record<string, string> = {};
  // A cut of too many addresses is no count either: the nodes are INSUFFICIENT_DATA, never a scale-down.
  const cut = observation.errors.find((e) => e.code === 'too-many-nodes');
  if (cut) failures.dns = cut.message;
  else if (!nameResolved(observation)) {
    failures.dns = observation.errors.find((e) => e.source === 'dns')?.message ?? 'the name did not resolve';
  }
  for (const source of ['eni', 'cloudwatch', 'reservation'] as const) {
    const error = observation.errors.find((e) => e.source === source && !isNote(e));
    if (error) failures[source] = error.message;
  }
  for (const b of snapshot.backends) if (b.report.error) failures[`backend:${b.name}`] = b.report.error;
  return failures;
}

/**
 * Reduce a cycle's snapshot to what the rules compare. Nodes are counted from
 * the ENIs when they could be read (exact), else from DNS (whose rotating answers
 * the M-of-N confirmation smooths). A name that did not resolve, or ENIs that
 * could not be read, make the nodes INSUFFICIENT_DATA (null), never zero.
 */
export function toCycleSample(snapshot: LoadBalancerSnapshot, at: string): CycleSample {
  const { observation } = snapshot;
  const failures = failuresOf(snapshot);
  const eniOff = observation.nodes.every((n) => n.state === 'unmapped') && !failures.eni;

  let perAz: Record<string, string[]> | null = null;
  if (!failures.dns && !failures.eni) {
    perAz = Object.create(null) as Record<string, string[]>; // AZ names from EC2: no inherited names
    for (const node of observation.nodes) {
      if (eniOff) {
        if (node.sources.includes('dns') || node.sources.includes('all')) (perAz['(all)'] ??= []).push(node.ip);
      } else if (node.az && node.eniId && node.family === 4) {
        (perAz[node.az] ??= []).push(node.ip);
      } else if (node.az && node.eniId && !observation.nodes.some((m) => m.eniId === node.eniId && m.family === 4)) {
        (perAz[node.az] ??= []).push(node.ip); // IPv6-only node
      }
    }
    for (const az of Object.keys(perAz)) perAz[az] = [...new Set(perAz[az])].sort();
  }
  // An AZ whose ENIs stay while DNS advertises none of them (needs the ENIs, and the name to resolve).
  // Without `all.` (an error of its own: a CNAME, unverified, failed) DNS shows only the name's answers, 8
  // records at most: from a full one, an AZ missing may only be rotated out, so whether it left DNS is unknown.
  const allUnread = observation.errors.some((e) => e.source === 'all' && !isNote(e));
  const partialDns =
    allUnread && observation.nodes.filter((n) => n.sources.includes('dns')).length >= ROUTE53_ANSWER_LIMIT;
  const dnsAbsentAzs = partialDns
    ? null
    : perAz !== null && !eniOff
      ? Object.entries(observation.azs)
          .filter(([, c]) => c.provisioned > 0 && c.advertised === 0)
          .map(([az]) => az)
          .sort()
      : [];
  const nlb = parseLoadBalancerDnsName(observation.loadBalancer)?.shape === 'network';

  const backends: CycleSample['backends'] = {};
  for (const b of snapshot.backends) {
    const visible = b.report.server === 'apache' && b.report.error === null;
    backends[b.name] = { reading: visible ? b.report.reading : null, share: visible ? b.report.readingShare : null };
  }
  return {
    at,
    perAz,
    failures,
    backends,
    dnsAbsentAzs,
    nlb: nlb || observation.kind === 'network',
    ...(observation.kind ? { kind: observation.kind } : {}),
    ...(snapshot.capacity ? { capacity: structuredClone(snapshot.capacity) } : {}),
  };
}

/**
 * Reduce one TLS round of a load balancer to what the TLS rules compare (with the round's observation errors:
 * `failures`).
 */
export function toTlsSample(results: BackendTls[], at: string): TlsSample {
  const backends: TlsSample['backends'] = {};
  const failures: Record<string, string> = {};
  for (const { backend, finding, authKeys, authError } of results) {
    backends[backend] = {
      fingerprint: finding.fingerprint256,
      daysLeft: finding.daysLeft,
      validTo: finding.validTo,
      error: finding.error,
      publicKey: finding.publicKey,
      ...(authKeys !== undefined ? { authKeys } : {}),
    };
    if (authError !== undefined) failures['backend-auth'] = authError;
  }
  return { at, backends, ...(Object.keys(failures).length > 0 ? { failures } : {}) };
}
