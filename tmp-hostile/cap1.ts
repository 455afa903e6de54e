import { detectCycle, type RuleOptions } from '../shared/detect/rules';
import { emptyState, type CycleSample, type LoadBalancerState } from '../shared/detect/state';

const options: RuleOptions = { confirm: { m: 2, n: 3 }, tlsConfirm: { m: 1, n: 1 }, repeatAfterMs: 6 * 3_600_000, pressureShare: 0.5, certWarningDays: 21, capacity: { surgeQueueShare: 0.5, idleDays: 7, idleShare: 0.2 } };
const T0 = Date.parse('2026-11-25T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const minute = (m: number) => iso(T0 + m * 60_000);
function cycle(m: number, points: Record<string, Record<number, number>>, lookback = 10, trailing?: number): CycleSample {
  const metrics = Object.fromEntries(Object.entries(points).map(([name, byMinute]) => [name, Object.entries(byMinute).map(([mm, v]) => [minute(Number(mm)), v] as [string, number])]));
  return { at: minute(m), kind: 'classic', perAz: { 'us-east-1a': ['10.0.0.1'] }, failures: {}, backends: {}, capacity: { metrics, window: { start: minute(m - lookback), end: minute(m), ...(trailing ? { trailingFrom: minute(m - trailing) } : {}) } } };
}
const classic = (m: number, spill: Record<number, number> = {}) => cycle(m, { SurgeQueueLength: {}, SpilloverCount: spill });
const run = (state: LoadBalancerState, s: CycleSample) => detectCycle(state, s, 'web', options).map((e) => `${e.kind} ${e.status} ${e.to}`);

// A: clock jumps forward 1 day for one cycle, then back
{
  const st = emptyState();
  console.log('A', run(st, classic(2)));
  console.log('A jump', run(st, classic(2 + 1440)));
  for (let m = 3; m < 10; m++) console.log('A', m, run(st, classic(m, { [m - 1]: 100, [m - 2]: 100 })), st.capacity?.cursor);
}
