import { detectCycle, type RuleOptions } from '../shared/detect/rules';
import { emptyState, type CycleSample, type LoadBalancerState } from '../shared/detect/state';
import type { Reservation } from '../shared/capacity/reservation';
const options: RuleOptions = { confirm: { m: 2, n: 3 }, tlsConfirm: { m: 1, n: 1 }, repeatAfterMs: 6 * 3_600_000, pressureShare: 0.5, certWarningDays: 21, capacity: { surgeQueueShare: 0.5, idleDays: 7, idleShare: 0.2 } };
const T0 = Date.parse('2026-11-25T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const minute = (m: number) => iso(T0 + m * 60_000);
const reservation = (units: number | null, state: string, azs = ['us-east-1a', 'us-east-1b']): Reservation => ({ capacityUnits: units, decreaseRequestsRemaining: 4, azs: Object.fromEntries(azs.map((az) => [az, { state, reason: null, effectiveUnits: 0 }])) } as any);
const s = (m: number, r: Reservation): CycleSample => ({ at: minute(m), kind: 'application', perAz: { 'us-east-1a': ['10.0.0.1'] }, failures: {}, backends: {}, capacity: { reservation: r } });
for (const [name, seq] of [
  ['P/Pe flap', ['provisioned', 'pending', 'provisioned', 'pending', 'provisioned', 'pending', 'provisioned', 'pending']],
  ['P/F flap', ['provisioned', 'provisioned', 'failed', 'provisioned', 'failed', 'provisioned', 'failed', 'provisioned']],
  ['P/R flap', ['provisioned', 'provisioned', 'rebalancing', 'provisioned', 'rebalancing', 'provisioned', 'rebalancing', 'provisioned']],
] as const) {
  const st = emptyState();
  const ev = seq.map((x, i) => detectCycle(st, s(i + 1, reservation(100, x)), 'web', options).map((e) => `${e.kind}:${e.status}`));
  console.log(name, JSON.stringify(ev));
}
// units flapping 100/200 provisioned
{
  const st = emptyState();
  const ev = [100, 100, 200, 100, 200, 100, 200, 100].map((u, i) => detectCycle(st, s(i + 1, reservation(u, 'provisioned')), 'web', options).map((e) => `${e.kind}:${e.status}:${e.to}`));
  console.log('units flap', JSON.stringify(ev));
}
// nodes flap for comparison
{
  const st = emptyState();
  const ev = [1, 1, 2, 1, 2, 1, 2, 1].map((n, i) => detectCycle(st, { at: minute(i + 1), perAz: { 'us-east-1a': n === 1 ? ['10.0.0.1'] : ['10.0.0.1', '10.0.0.2'] }, failures: {}, backends: {} }, 'web', options).map((e) => `${e.kind}:${e.status}`));
  console.log('nodes flap', JSON.stringify(ev));
}
