import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO } from '../../cli/commands/lab';
import { runLabSession } from '../../cli/commands/start';
import { loadScenario } from '../../lab/scenario';
import type { Lab } from '../../lab/lab';
import { localStore } from '../../shared/store/local';
import { verifyChain } from '../../shared/ledger/chain';
import { scenarioEventProblems } from '../helpers/scenario-events';
import { listEvents } from '../../shared/ledger/store';

// The default scenario end to end, in stepped time: the lab's proxy nodes,
// backends, DNS and EC2 on loopback, elbscope watching through its production
// path. Every expected event fires exactly once, in its time window; the counts
// elbscope reports match the lab's own sockets.
// Stepped time (runLabSession `stepped`): scenario time moves only between cycles, after
// the lab has settled, so a busy machine makes the run slower, never different.
const SPEED = 1;

describe('The default lab scenario', () => {
  it('produces every expected event exactly once, on time, with true node and R counts', async () => {
    const scenario = loadScenario(DEFAULT_SCENARIO);
    const store = mkdtempSync(join(tmpdir(), 'elbscope-e2e-'));
    const lines: string[] = [];
    let served: Map<string, Map<number, number>> = new Map();
    const elbApi: { state?: Lab['elbApiState'] } = {};
    let cloudwatch: Lab['cloudwatchState'] | undefined;
    const truth: {
      at: string;
      nodes: Record<string, number>;
      reading: Record<string, number>;
      seen: Record<string, number | null>;
      seenAzs: Record<string, number>;
    }[] = [];
    const { startedAt, reportFile } = await runLabSession({
      scenario,
      speed: SPEED,
      stepped: true,
      store,
      io: { out: (t) => lines.push(t), err: (t) => lines.push(t), env: {} },
      signal: new AbortController().signal,
      onCycle: (lab, snapshots, at) => {
        served = lab.cloudwatchState.served;
        cloudwatch = lab.cloudwatchState;
        elbApi.state = lab.elbApiState;
        const [s] = snapshots;
        if (!s) return;
        truth.push({
          at,
          nodes: lab.elb.advertisedPerAz(),
          reading: Object.fromEntries(lab.backends.map((b) => [b.options.name, b.reading()])),
          seen: Object.fromEntries(s.backends.map((b) => [b.name, b.report.reading])),
          seenAzs: Object.fromEntries(Object.entries(s.observation.azs).map(([az, c]) => [az, c.advertised])),
        });
      },
    });

    const events = (await listEvents(localStore(store), 'lab')).map((e) => e.record);
    const problems = scenarioEventProblems(scenario, events, startedAt);
    expect(problems, lines.filter((l) => l.startsWith('ALERT') || l.startsWith('[lab')).join('\n')).toEqual([]);

    // The spillover alert's count is what the lab's CloudWatch served for those minutes (SpilloverCount, Sum).
    const spill = events.find((e) => e.kind === 'spillover' && e.status === 'firing')!;
    const spilled = [...(served.get('AWS/ELB/SpilloverCount/lab') ?? new Map<number, number>())].filter(
      ([t]) => t >= Date.parse(spill.details.from as string) && t < Date.parse(spill.details.to as string),
    );
    expect(spilled.length).toBeGreaterThan(0);
    expect(spill.details.spillover).toBe(spilled.reduce((a, [, v]) => a + v, 0));
    expect(events.find((e) => e.kind === 'surge-queue' && e.status === 'firing')?.details.surgeQueueLength).toBe(1024);

    // The spillover came through a CloudWatch alarm (capacity.mode "alarms", the default): elbscope keeps one, tagged,
    // missing data not breaching; the lab's CloudWatch evaluated it to ALARM on its clock, and the event fired within
    // 2 minutes of the first spillover datapoint (its minute's end), resolved once (the expectations above).
    const alarm = cloudwatch?.alarms.all().find((a) => a.request.AlarmName === 'elbscope-local-lab-spillover');
    expect(alarm?.request).toMatchObject({
      MetricName: 'SpilloverCount',
      Statistic: 'Sum',
      TreatMissingData: 'notBreaching',
    });
    expect(Object.fromEntries(alarm?.tags ?? [])).toMatchObject({
      'elbscope:stage': 'local',
      'elbscope:signal': 'spillover',
    });
    const firstSpill = Math.min(...(served.get('AWS/ELB/SpilloverCount/lab')?.keys() ?? []));
    const fired = alarm?.history.find((h) => h.state === 'ALARM')?.at ?? Number.NaN;
    expect(fired).toBe(firstSpill + 60_000); // evaluated at the end of the datapoint's minute
    expect(Date.parse(spill.at) - (firstSpill + 60_000)).toBeLessThanOrEqual(120_000);
    // One DescribeAlarms a cycle (one region and account, under 100 alarms), and each alarm put once (idempotent).
    const calls = cloudwatch?.alarmCalls ?? [];
    expect(
      calls.filter((c) => c.action === 'PutMetricAlarm').map((c) => (c.request as { AlarmName: string }).AlarmName),
    ).toEqual(['elbscope-local-lab-spillover', 'elbscope-local-lab-surge-queue']);
    expect(calls.filter((c) => c.refusal)).toEqual([]);

    // The TLS rounds read the Classic ELB's back-end authentication (it has none), within the ELB API's contract.
    expect(
      elbApi.state?.requests.some(
        (r) => r.Action === 'DescribeLoadBalancers' && r['LoadBalancerNames.member.1'] === 'lab',
      ),
    ).toBe(true);
    expect(elbApi.state?.refused).toEqual([]);

    // Ground truth: whenever what is compared was at rest in the lab (unchanged since the cycle
    // before), elbscope saw what the lab held. Nodes and R are judged apart: pre-opened
    // connections come and go on their own timers, so cycles with both at rest are few.
    const still = (pick: (t: (typeof truth)[number]) => unknown) =>
      truth.filter((t, i) => i > 0 && JSON.stringify(pick(truth[i - 1]!)) === JSON.stringify(pick(t)));
    const steadyNodes = still((t) => t.nodes);
    const steadyR = still((t) => t.reading);
    expect(steadyNodes.length).toBeGreaterThan(truth.length / 2);
    expect(steadyR.length).toBeGreaterThanOrEqual(6);
    const agreeAzs = steadyNodes.filter(
      (t) => JSON.stringify(t.seenAzs) === JSON.stringify(t.nodes) || Object.keys(t.seenAzs).length === 0,
    );
    const agreeR = steadyR.filter((t) =>
      Object.entries(t.reading).every(([b, r]) => t.seen[b] === Math.min(r, b === 'b1' ? 16 : r)),
    );
    expect(agreeAzs.length / steadyNodes.length).toBe(1);
    expect(agreeR.length / steadyR.length).toBe(1);

    // The run's audit trail verifies, and its report was written.
    const stored = await listEvents(localStore(store), 'lab');
    const state = await localStore(store).getState('lab');
    expect(verifyChain('lab', stored, state?.state.head.chain ?? null)).toBeNull();
    expect(readFileSync(reportFile, 'utf8')).toContain('elbscope report: lab');
  }, 120_000);
});
