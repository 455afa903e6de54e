import type { Reservation } from '../capacity/reservation';
import { confirmedValue, type Confirm } from './confirm';
import type { Emit } from './events';
import type { Fire } from './conditions';
import type { MetricPoints } from '../capacity/cloudwatch';
import type { CapacityDerived, CapacityState, CycleSample, LoadBalancerState } from './state';

/** What the capacity rules are told by the configuration. */
export interface CapacityRuleOptions {
  confirm: Confirm;
  repeatAfterMs: number;
  /** `surge-queue` above this share of the surge queue's 1,024. */
  surgeQueueShare: number;
  idleDays: number;
  idleShare: number;
}

/** A Classic ELB's surge queue holds at most 1,024 requests; beyond it, requests spill over (are dropped). */
export const SURGE_QUEUE_MAX = 1024;

/** Fire, repeat or resolve a load-balancer-wide condition of `kind` (see conditions.ts). */
type Condition = (kind: string, active: boolean | undefined, fire: Fire) => void;

/** The state of a load balancer whose capacity was never read. */
export function emptyCapacity(): CapacityState {
  return { cursor: null, samples: [], reservation: null, provisioned: false, reservedSince: null, peakSinceReserved: null };
}

/**
 * The capacity rules, over what CloudWatch and DescribeCapacityReservation said
 * this cycle: `spillover`, `surge-queue`, `rejected-connections`,
 * `lcu-above-reservation` (M of N over the cycles that read metrics), and the
 * reservation's `reservation-provisioned` / `-failed` / `-rebalancing` / `-idle`.
 */
export function detectCapacity(state: LoadBalancerState, sample: CycleSample, lb: string, options: CapacityRuleOptions, emit: Emit, condition: Condition): void {
  const reading = sample.capacity;
  if (!reading) return;
  const cap = (state.capacity ??= emptyCapacity());
  const at = sample.at;
  if (reading.reservation !== undefined && reading.reservation !== null) detectReservation(cap, reading.reservation, lb, at, emit, condition);
  if (reading.metrics && reading.window) detectMetrics(cap, sample, reading.metrics, reading.window, lb, options, emit, condition);
  detectIdle(cap, lb, at, options, emit, condition);
}

function detectMetrics(cap: CapacityState, sample: CycleSample, metrics: MetricPoints, readWindow: { start: string; end: string }, lb: string, options: CapacityRuleOptions, emit: Emit, condition: Condition): void {
  const reading = sample.capacity as NonNullable<CycleSample['capacity']>;
  const at = sample.at;

  // The raw datapoints serve once: the samples kept in the state stay small.
  delete reading.metrics;
  // No minute ended since the last read (cycles faster than a minute): nothing new to judge.
  if (cap.cursor !== null && readWindow.end <= cap.cursor) return;
  const derived = derive(metrics, readWindow, cap.cursor, at);
  cap.cursor = readWindow.end;
  cap.samples = [...cap.samples, derived].slice(-Math.max(options.confirm.n, 1));
  if (derived.peakLcu !== null && cap.reservedSince !== null) cap.peakSinceReserved = Math.max(cap.peakSinceReserved ?? 0, derived.peakLcu);
  const reserved = cap.reservation?.capacityUnits ?? null;
  const confirmed = (read: (d: CapacityDerived) => boolean | undefined) => confirmedValue(cap.samples, read, options.confirm);
  const threshold = options.surgeQueueShare * SURGE_QUEUE_MAX;
  const flags: string[] = [];

  const spilling = confirmed((d) => (d.spillover === null ? undefined : d.spillover > 0));
  condition('spillover', spilling, (status, repeat, since) =>
    emit('spillover', status, status === 'firing' ? 'critical' : 'info', {
      to: derived.spillover,
      summary: status === 'firing' ? `${lb}: ${derived.spillover} requests dropped (SpilloverCount): the surge queue is full` : `${lb}: no more requests dropped (SpilloverCount 0)`,
      details: { spillover: derived.spillover, from: derived.from, to: derived.to, since, repeat },
    }),
  );
  if (derived.spillover) flags.push('spillover');

  const surging = confirmed((d) => (d.surgeMax === null ? undefined : d.surgeMax > threshold));
  condition('surge-queue', surging, (status, repeat, since) =>
    emit('surge-queue', status, status === 'firing' ? 'warning' : 'info', {
      to: derived.surgeMax,
      summary: status === 'firing' ? `${lb}: surge queue at ${derived.surgeMax} of ${SURGE_QUEUE_MAX} (over ${Math.round(options.surgeQueueShare * 100)}%)` : `${lb}: surge queue back under ${Math.round(threshold)} (max ${derived.surgeMax})`,
      details: { surgeQueueLength: derived.surgeMax, threshold, since, repeat },
    }),
  );
  if ((derived.surgeMax ?? 0) > threshold) flags.push('surge');

  const rejecting = confirmed((d) => (d.rejected === null ? undefined : d.rejected > 0));
  condition('rejected-connections', rejecting, (status, repeat, since) =>
    emit('rejected-connections', status, status === 'firing' ? 'warning' : 'info', {
      to: derived.rejected,
      summary: status === 'firing' ? `${lb}: ${derived.rejected} connections rejected (RejectedConnectionCount): the ALB reached its connection limit` : `${lb}: no more connections rejected`,
      details: { rejected: derived.rejected, from: derived.from, to: derived.to, since, repeat },
    }),
  );
  if (derived.rejected) flags.push('rejected');

  const above = reserved === null ? false : confirmed((d) => (d.peakLcu === null ? undefined : d.peakLcu > reserved));
  condition('lcu-above-reservation', above, (status, repeat, since) =>
    emit('lcu-above-reservation', status, status === 'firing' ? 'warning' : 'info', {
      to: derived.peakLcu,
      summary: status === 'firing' ? `${lb}: PeakLCUs ${derived.peakLcu} above the ${reserved} LCUs reserved` : `${lb}: PeakLCUs back within the ${reserved} LCUs reserved`,
      details: { peakLcu: derived.peakLcu, reserved, since, repeat },
    }),
  );
  if (reserved !== null && (derived.peakLcu ?? 0) > reserved) flags.push('lcu');
  sample.capacityFlags = flags;
}

/** The new datapoints of a window (at or after the cursor): sums and maxima; a requested metric with no datapoint is 0 (reported only when non-zero). */
function derive(metrics: MetricPoints, window: { start: string; end: string }, cursor: string | null, at: string): CapacityDerived {
  const from = cursor !== null && cursor > window.start ? cursor : window.start;
  const fresh = (name: string): number[] | null => {
    const points = metrics[name];
    return points === undefined ? null : points.filter(([t]) => t >= from && t < window.end).map(([, v]) => v);
  };
  const sum = (name: string) => fresh(name)?.reduce((a, b) => a + b, 0) ?? null;
  const max = (name: string) => {
    const v = fresh(name);
    return v === null ? null : v.reduce((a, b) => Math.max(a, b), 0);
  };
  const peak = fresh('PeakLCUs');
  return { at, from, to: window.end, spillover: sum('SpilloverCount'), surgeMax: max('SurgeQueueLength'), rejected: sum('RejectedConnectionCount'), peakLcu: peak === null || peak.length === 0 ? null : Math.max(...peak) };
}

function detectReservation(cap: CapacityState, r: Reservation, lb: string, at: string, emit: Emit, condition: Condition): void {
  const before = cap.reservation;
  const zones = Object.entries(r.azs);
  const provisioned = r.capacityUnits !== null && zones.length > 0 && zones.every(([, z]) => z.state === 'provisioned');
  // The first read is the baseline: a reservation found provisioned is not news.
  if (provisioned && !cap.provisioned && before !== null) {
    emit('reservation-provisioned', 'event', 'info', {
      to: r.capacityUnits, from: before.capacityUnits,
      summary: `${lb}: LCU reservation of ${r.capacityUnits} provisioned in every AZ (${zones.map(([az]) => az).join(', ')})`,
      details: { capacityUnits: r.capacityUnits, azs: r.azs },
    });
  }
  cap.provisioned = provisioned;
  const failed = zones.filter(([, z]) => z.state === 'failed');
  condition('reservation-failed', failed.length > 0, (status, repeat, since) =>
    emit('reservation-failed', status, status === 'firing' ? 'critical' : 'info', {
      to: r.capacityUnits,
      summary: status === 'firing' ? `${lb}: LCU reservation failed in ${failed.map(([az, z]) => `${az}${z.reason ? ` (${z.reason})` : ''}`).join(', ')}` : `${lb}: LCU reservation no longer failed`,
      details: { azs: r.azs, since, repeat },
    }),
  );
  const rebalancing = zones.filter(([, z]) => z.state === 'rebalancing').map(([az]) => az);
  condition('reservation-rebalancing', rebalancing.length > 0, (status, repeat, since) =>
    emit('reservation-rebalancing', status, status === 'firing' ? 'warning' : 'info', {
      summary: status === 'firing' ? `${lb}: LCU reservation rebalancing in ${rebalancing.join(', ')}` : `${lb}: LCU reservation rebalanced`,
      details: { azs: r.azs, since, repeat },
    }),
  );
  // A new reservation (or a new size) starts its idle clock afresh.
  if (r.capacityUnits === null || r.capacityUnits === 0) {
    cap.reservedSince = null;
    cap.peakSinceReserved = null;
  } else if (before?.capacityUnits !== r.capacityUnits || cap.reservedSince === null) {
    cap.reservedSince = at;
    cap.peakSinceReserved = null;
  }
  cap.reservation = r;
}

/** `reservation-idle`: reserved for `idleDays` while PeakLCUs stayed under `idleShare` of it: billed capacity unused. */
function detectIdle(cap: CapacityState, lb: string, at: string, options: CapacityRuleOptions, emit: Emit, condition: Condition): void {
  const reserved = cap.reservation?.capacityUnits ?? null;
  const long = cap.reservedSince !== null && Date.parse(at) - Date.parse(cap.reservedSince) >= options.idleDays * 86_400_000;
  const idle = reserved !== null && reserved > 0 && long && (cap.peakSinceReserved ?? 0) < options.idleShare * reserved;
  condition('reservation-idle', idle, (status, repeat, since) =>
    emit('reservation-idle', status, status === 'firing' ? 'warning' : 'info', {
      to: cap.peakSinceReserved, from: reserved,
      summary: status === 'firing'
        ? `${lb}: ${reserved} LCUs reserved since ${cap.reservedSince} while PeakLCUs stayed at ${cap.peakSinceReserved ?? 0} (under ${Math.round(options.idleShare * 100)}%): billed until cancelled`
        : `${lb}: LCU reservation in use (or cancelled)`,
      details: { reserved, reservedSince: cap.reservedSince, peakSinceReserved: cap.peakSinceReserved, since, repeat },
    }),
  );
}

/** Whether a reservation holds at least `lcu` units, provisioned in every AZ (a pre-warm target in LCUs). */
export function reservationReached(r: Reservation | null | undefined, lcu: number): boolean {
  const zones = Object.values(r?.azs ?? {});
  return r !== null && r !== undefined && (r.capacityUnits ?? 0) >= lcu && zones.length > 0 && zones.every((z) => z.state === 'provisioned');
}
