import type { LoadBalancerKind } from './kind';
/** Where a node IP was seen: the name's own answers, `all.<name>`, or an ENI. */
export type NodeSource = 'dns' | 'all' | 'eni';

/**
 * A node's standing, from comparing DNS with the ENIs. During scaling the two
 * disagree for a while, and one snapshot cannot tell which way a node is going:
 * - `in-service`: advertised in DNS and backed by an ENI;
 * - `no-eni`: advertised in DNS but no ENI carries it (its ENI is gone: draining, stale DNS);
 * - `not-in-dns`: an ENI exists but DNS does not advertise it (warming up, or draining);
 * - `unmapped`: the ENIs could not be read, so nothing can be said.
 */
type NodeState = 'in-service' | 'no-eni' | 'not-in-dns' | 'unmapped';

/** One load balancer node as observed. */
export interface ObservedNode {
  ip: string;
  family: 4 | 6;
  /** PTR name of the IP, or null when it has none. */
  hostname: string | null;
  /** From the ENI's region, the PTR name, or the DNS name, in that order. */
  region: string | null;
  az: string | null;
  eniId: string | null;
  /** The ENI's private IP: what backends see as the client of pre-opened connections. */
  privateIp: string | null;
  sources: NodeSource[];
  state: NodeState;
  /** Facts worth a look that are not failures: missing or odd PTR, region mismatch. */
  findings: string[];
}

/** Node counts of one Availability Zone. */
export interface AzCount {
  /** ENIs in the AZ (what AWS has provisioned). */
  provisioned: number;
  /** ENIs (or IPs) of the AZ that DNS advertises. */
  advertised: number;
}

/** What part of an observation failed; `cycle`: not observed at all, the cycle ran out of time. */
type ErrorSource = 'dns' | 'all' | 'ptr' | 'eni' | 'config' | 'cycle' | 'cloudwatch' | 'reservation';

/** A named failure: the observation is incomplete there, never silently zero. */
export interface ObservationError {
  source: ErrorSource;
  message: string;
  /**
   * What the code decides on, where a message alone would have to be matched:
   * `eni-off` = ENI lookups are switched off, `no-kind` = the kind is not known so
   * CloudWatch was not asked (neither is a failure); `too-many-nodes` = the answers held more
   * addresses than MAX_NODES, so the nodes kept are a cut, not a count (a failure of `dns`).
   */
  code?: 'eni-off' | 'no-elb-name' | 'no-kind' | 'too-many-nodes';
}

/** Whether an error entry is a note (ENI lookups off, kind not known yet) rather than a failure. */
export function isNote(error: ObservationError): boolean {
  return error.code === 'eni-off' || error.code === 'no-kind';
}

/** One observation of one load balancer's nodes. */
export interface Observation {
  /** The load balancer's DNS name. */
  loadBalancer: string;
  observedAt: string;
  nodes: ObservedNode[];
  azs: Record<string, AzCount>;
  errors: ObservationError[];
  /**
   * The CNAMEs followed from `loadBalancer` to the load balancer's own DNS name (present only when there were some).
   */
  cnames?: string[];
  /**
   * The load balancer's own DNS name, found through the ELB API because `loadBalancer` is an alias of it (present only
   * then).
   */
  aliasOf?: string;
  /** Classic, ALB or NLB, from the ENIs' descriptions, the ARN or the DNS name's shape; absent when nothing says. */
  kind?: LoadBalancerKind;
}

/** A load balancer the cycle did not start on because its time ran out: nothing observed, said so. */
export function skippedObservation(dnsName: string, at: Date, startBy: number): Observation {
  return {
    loadBalancer: dnsName,
    observedAt: at.toISOString(),
    nodes: [],
    azs: {},
    errors: [
      {
        source: 'cycle',
        message: `skipped: the cycle had to start its last load balancer by ${new Date(startBy).toISOString()}; the next cycle observes it`,
      },
    ],
  };
}

/** Whether a cycle skipped this load balancer (see skippedObservation). */
export function wasSkipped(observation: Observation): boolean {
  return observation.errors.some((e) => e.source === 'cycle');
}

/** Whether the load balancer's own name resolved to at least one node IP. */
export function nameResolved(observation: Observation): boolean {
  return observation.nodes.some((n) => n.sources.includes('dns'));
}
