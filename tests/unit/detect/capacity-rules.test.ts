import { describe, expect, it } from 'vitest';
import { detectCycle, type PrewarmTarget, type RuleOptions } from '../../../shared/detect/rules';
import { emptyState, type CycleSample, type LoadBalancerState } from '../../../shared/detect/state';
import type { Reservation } from '../../../shared/capacity/reservation';

const options: RuleOptions = { confirm: { m: 2, n: 3 }, tlsConfirm: { m: 1, n: 1 }, repeatAfterMs: 6 * 3_600_000, pressureShare: 0.5, certWarningDays: 21, capacity: { surgeQueueShare: 0.5, idleDays: 7, idleShare: 0.2 } };
const T0 = Date.parse('2026-11-25T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const minute = (m: number) => iso(T0 + m * 60_000);

/** A cycle at minute `m` that read the window of minutes ending at `m` (settled), with these per-minute datapoints. */
function cycle(m: number, points: Record<string, Record<number, number>>, extra: Partial<CycleSample> = {}, lookback = 10): CycleSample {
  const metrics = Object.fromEntries(Object.entries(points).map(([name, byMinute]) => [name, Object.entries(byMinute).map(([mm, v]) => [minute(Number(mm)), v] as [string, number])]));
  return { at: minute(m), perAz: { 'us-east-1a': ['10.0.0.1'] }, failures: {}, backends: {}, capacity: { metrics, window: { start: minute(m - lookback), end: minute(m) } }, ...extra };
}
const classic = (m: number, spill: Record<number, number> = {}, surge: Record<number, number> = {}) => cycle(m, { SurgeQueueLength: surge, SpilloverCount: spill, RequestCount: {} }, { kind: 'classic' });
const run = (state: LoadBalancerState, samples: CycleSample[], prewarms: PrewarmTarget[] = []) => samples.map((s) => detectCycle(state, s, 'web', options, prewarms).map((e) => [e.kind, e.status, e.severity, e.to]));

describe('Capacity rules: spillover and the surge queue (Classic)', () => {
  it('fires once the spillover held 2 of 3 read minutes, with the count of the new minutes only, and resolves after 2 quiet ones', () => {
    const spills = { 3: 40, 4: 25, 5: 10 };
    const state = emptyState();
    const events = run(state, [classic(2), classic(4, { 3: 40 }), classic(5, { 3: 40, 4: 25 }), classic(6, spills), classic(7, spills), classic(8, spills)]);
    expect(events).toEqual([[], [], [['spillover', 'firing', 'critical', 25]], [], [], [['spillover', 'resolved', 'info', 0]]]);
  });

  it('a cycle in the same minute reads nothing new: it neither confirms nor resolves (4-second lab cycles, or a retry)', () => {
    const state = emptyState();
    const at = (m: number, s: number) => ({ ...classic(m, { 3: 40, 4: 25 }), at: iso(T0 + m * 60_000 + s * 1000) });
    const events = run(state, [classic(2), at(4, 0), at(4, 4), at(4, 8), at(5, 0)]);
    expect(events.flat()).toEqual([['spillover', 'firing', 'critical', 25]]);
    expect(state.capacity?.samples.map((s) => [s.from, s.to, s.spillover])).toEqual([[minute(-8), minute(2), 0], [minute(2), minute(4), 40], [minute(4), minute(5), 25]]);
  });

  it('surge-queue fires above the configured share of 1,024 (a warning) and resolves below it', () => {
    const state = emptyState();
    const surge = { 3: 900, 4: 1024, 5: 100, 6: 0 };
    const events = run(state, [classic(2), classic(4, {}, surge), classic(5, {}, surge), classic(6, {}, surge), classic(7, {}, surge)]);
    expect(events.flat()).toEqual([['surge-queue', 'firing', 'warning', 1024], ['surge-queue', 'resolved', 'info', 0]]);
  });
});

describe('Capacity rules: ALB connections, LCUs and reservations', () => {
  const reservation = (units: number | null, state: 'pending' | 'provisioned' | 'failed' | 'rebalancing', azs = ['us-east-1a', 'us-east-1b']): Reservation => ({ capacityUnits: units, decreaseRequestsRemaining: 4, azs: Object.fromEntries(azs.map((az) => [az, { state, reason: state === 'failed' ? 'InsufficientCapacity' : null, effectiveUnits: state === 'provisioned' ? units : 0 }])) });
  const alb = (m: number, points: Record<string, Record<number, number>>, r?: Reservation | null) => cycle(m, { ActiveConnectionCount: {}, RejectedConnectionCount: {}, PeakLCUs: {}, ...points }, { kind: 'application', capacity: { ...cycle(m, { ActiveConnectionCount: {}, RejectedConnectionCount: {}, PeakLCUs: {}, ...points }).capacity, ...(r !== undefined ? { reservation: r } : {}) } });

  it('rejected-connections is a warning on an ALB that refused connections in 2 of 3 minutes', () => {
    const state = emptyState();
    const rejected = { RejectedConnectionCount: { 3: 5, 4: 7 } };
    expect(run(state, [alb(2, {}), alb(4, rejected), alb(5, rejected)]).flat()).toEqual([['rejected-connections', 'firing', 'warning', 7]]);
  });

  it('a reservation found provisioned at the first read is the baseline; pending -> provisioned is one event; failed and rebalancing fire and resolve', () => {
    const state = emptyState();
    const events = run(state, [
      alb(1, {}, reservation(100, 'provisioned')),
      alb(2, {}, reservation(200, 'pending')),
      alb(3, {}, reservation(200, 'rebalancing')),
      alb(4, {}, reservation(200, 'provisioned')),
      alb(5, {}, reservation(300, 'failed')),
      alb(6, {}, reservation(300, 'provisioned')),
    ]);
    expect(events).toEqual([
      [], [],
      [['reservation-rebalancing', 'firing', 'warning', null]],
      [['reservation-provisioned', 'event', 'info', 200], ['reservation-rebalancing', 'resolved', 'info', null]],
      [['reservation-failed', 'firing', 'critical', 300]],
      [['reservation-provisioned', 'event', 'info', 300], ['reservation-failed', 'resolved', 'info', 300]],
    ]);
  });

  it('lcu-above-reservation fires when PeakLCUs exceeds the LCUs reserved in 2 of 3 minutes', () => {
    const state = emptyState();
    const peak = { PeakLCUs: { 2: 50, 3: 140, 4: 150, 5: 20, 6: 10 } };
    const events = run(state, [alb(2, {}, reservation(100, 'provisioned')), alb(4, peak), alb(5, peak), alb(6, peak), alb(7, peak)]);
    expect(events.flat()).toEqual([['lcu-above-reservation', 'firing', 'warning', 150], ['lcu-above-reservation', 'resolved', 'info', 10]]);
  });

  it('reservation-idle fires after idleDays while PeakLCUs stayed under idleShare of it, and resolves when the reservation is cancelled', () => {
    const state = emptyState();
    const day = 24 * 60;
    const events = run(state, [
      alb(1, { PeakLCUs: {} }, reservation(100, 'provisioned')),
      alb(2 + day, { PeakLCUs: { [1 + day]: 10 } }),
      alb(3 + 7 * day, { PeakLCUs: { [2 + 7 * day]: 15 } }),
      alb(4 + 7 * day, {}, reservation(null, 'provisioned', [])),
    ]);
    expect(events).toEqual([[], [], [['reservation-idle', 'firing', 'warning', 15]], [['reservation-idle', 'resolved', 'info', null]]]);
  });

  it('a pre-warm target in LCUs completes when the reservation holds them, provisioned in every AZ', () => {
    const state = emptyState();
    const target: PrewarmTarget = { id: 'pw-1', loadBalancer: 'web', nodesPerAz: 0, lcu: 150, total: null, deadline: null, caseId: '42', requestedAt: minute(0) };
    const events = run(state, [alb(1, {}, reservation(100, 'provisioned')), alb(2, {}, reservation(150, 'pending')), alb(5, {}, reservation(150, 'provisioned'))], [target]);
    expect(events.map((e) => e.filter(([k]) => k === 'prewarm-complete'))).toEqual([[], [], [['prewarm-complete', 'event', 'info', 1]]]);
  });
});
