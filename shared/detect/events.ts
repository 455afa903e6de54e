import { createHash } from 'node:crypto';

/** Every event kind elbscope emits (DESIGN.md, "Events and alerts"). */
export const EVENT_KINDS = [
  'scaled',
  'az-added',
  'az-removed',
  // Every node of an AZ out of DNS while its ENIs stay (an NLB AZ with no healthy target).
  'az-out-of-dns',
  'node-replaced',
  'prewarm-complete',
  'prewarm-overdue',
  'preopen-started',
  'preopen-stopped',
  'reading-pressure',
  // ALB/NLB: R above the pressure share is clients that connected and send nothing yet, not pre-open.
  'slow-clients',
  'cert-expiring',
  'cert-changed',
  // Classic with a back-end authentication policy: the backend's public key is not one the policy accepts.
  'backend-key-rejected',
  'tls-failed',
  'observation-failed',
  'recovered',
  // AWS's own capacity signals (CloudWatch): a Classic ELB dropping requests / queueing them; an ALB refusing
  // connections.
  'spillover',
  'surge-queue',
  'rejected-connections',
  // ALB/NLB LCU capacity reservations (DescribeCapacityReservation) and the PeakLCUs beside them.
  'lcu-above-reservation',
  'reservation-provisioned',
  'reservation-failed',
  'reservation-rebalancing',
  'reservation-idle',
  // A region's (or account's) discovery calls failed; its load balancers stay watched from the last good answer.
  'discovery-failed',
  // A stored record did not parse (a disk-full write, an edit): moved aside, and the state rebuilt.
  'store-record-corrupt',
  // Sent by `elbscope alert-test` (and the observe function's alertTest request) only; never decided or chained.
  'alert-test',
] as const;
type EventKind = (typeof EVENT_KINDS)[number];

type Severity = 'info' | 'warning' | 'critical';

/**
 * `event`: a one-off change (scaled, node-replaced, …). `firing` / `resolved`: a
 * condition that holds (reading-pressure, cert-expiring, tls-failed,
 * observation-failed) and its end; a condition still firing is re-announced
 * after the repeat interval with `repeat: true` in its details.
 */
type EventStatus = 'event' | 'firing' | 'resolved';

/** A change that held: what gets stored, published and reported. */
export interface ElbEvent {
  /** Deterministic: the same change seen by a retried cycle has the same id. */
  id: string;
  kind: EventKind;
  status: EventStatus;
  loadBalancer: string;
  az: string | null;
  backend: string | null;
  from: string | number | null;
  to: string | number | null;
  /** The cycle time the change was confirmed at. */
  at: string;
  severity: Severity;
  /** `loadBalancer|AZ or backend|kind`: stable across occurrences, for deduplication. */
  fingerprint: string;
  /** One line saying what happened, for subjects and timelines. */
  summary: string;
  details: Record<string, unknown>;
}

/** The stable fingerprint of an event's subject. */
function fingerprintOf(loadBalancer: string, scope: string | null, kind: EventKind): string {
  // recovered pairs with the observation-failed it ends.
  return `${loadBalancer}|${scope ?? '-'}|${kind === 'recovered' ? 'observation-failed' : kind}`;
}

/** Build an event; its id hashes fingerprint, status and cycle time. */
export function makeEvent(fields: Omit<ElbEvent, 'id' | 'fingerprint'> & { scope?: string | null }): ElbEvent {
  const { scope, ...rest } = fields;
  const fingerprint = fingerprintOf(rest.loadBalancer, scope ?? rest.az ?? rest.backend, rest.kind);
  const id = createHash('sha256')
    .update(`${fingerprint}|${rest.kind}|${rest.status}|${rest.at}`)
    .digest('hex')
    .slice(0, 24);
  return { id, fingerprint, ...rest };
}

/**
 * How a rule announces an event: kind, status, severity and its fields (the emitter adds the load balancer and time).
 */
export type Emit = (
  kind: EventKind,
  status: ElbEvent['status'],
  severity: Severity,
  fields: Partial<Pick<ElbEvent, 'az' | 'backend' | 'from' | 'to'>> & {
    scope?: string;
    summary: string;
    details?: Record<string, unknown>;
  },
) => void;
