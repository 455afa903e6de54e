import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { cloudWatchState, startCloudWatch, type CloudWatchState } from '../../../lab/cloudwatch/server';
import { createMetricsLookup } from '../../../shared/capacity/cloudwatch';
import { createAlarmApi } from '../../../shared/capacity/alarm-api';
import { alarmName } from '../../../shared/capacity/alarms';
import { observeCapacity, type CapacityDeps } from '../../../shared/capacity/observe';
import { parseConfig } from '../../../shared/config/load';
import type { Observation } from '../../../shared/nodes/observation';

// The alarm mode of the capacity observation through the real SDK to the lab's CloudWatch, on an injected clock:
// alarms kept per load balancer (created on its first cycle, put only when they differ, deleted when it leaves the
// watch list), one DescribeAlarms per region and account a cycle, the figures read only when an alarm says so (and
// for the charts), another account's alarms through its role, failures named and never read as quiet.
const MINUTE = 60_000;
let now = 0;
let spill = new Map<number, number>();
let state: CloudWatchState;
let close: () => Promise<void>;
const clients: CloudWatchClient[] = [];

function client(accessKeyId = 'lab'): CloudWatchClient {
  const c = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId, secretAccessKey: 'lab' },
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}
let url = '';

/** The lab's own account signs as `lab`; another account's role as `ASIA<account>` (what lab/sts hands out). */
function deps(): CapacityDeps {
  const keyOf = (roleArn?: string) => (roleArn ? `ASIA${/::(\d{12}):/.exec(roleArn)?.[1]}` : 'lab');
  return {
    metricsFor: (_region, roleArn) => createMetricsLookup(client(keyOf(roleArn))),
    reservationsFor: null,
    alarmsFor: (_region, roleArn) => createAlarmApi(client(keyOf(roleArn))),
    stage: 'test',
  };
}

const classic = (name: string, extra: Record<string, unknown> = {}) => ({
  dnsName: `${name}-1234567890.us-east-1.elb.amazonaws.com`,
  ...extra,
});
const observation = (lb: { dnsName: string }): Observation => ({
  loadBalancer: lb.dnsName,
  observedAt: new Date(now).toISOString(),
  nodes: [],
  azs: {},
  errors: [],
  kind: 'classic',
});

async function cycle(loadBalancers: ReturnType<typeof classic>[], extra: Record<string, unknown> = {}) {
  const config = parseConfig({ loadBalancers, capacity: { reservationEveryMinutes: 0 }, ...extra }, 'test');
  const before = { gets: state.requests.length, calls: state.alarmCalls.length };
  const out = await observeCapacity(config, loadBalancers.map(observation), new Date(now), deps());
  const calls = state.alarmCalls.slice(before.calls);
  return {
    out,
    gets: state.requests.length - before.gets,
    actions: calls.map((c) => c.action),
    put: calls.filter((c) => c.action === 'PutMetricAlarm').map((c) => (c.request as { AlarmName: string }).AlarmName),
    deleted: calls
      .filter((c) => c.action === 'DeleteAlarms')
      .flatMap((c) => (c.request as { AlarmNames: string[] }).AlarmNames),
  };
}

const names = (account = '123456789012') =>
  state.alarms
    .all()
    .filter((a) => a.account === account)
    .map((a) => a.request.AlarmName)
    .sort();

beforeEach(async () => {
  now = Date.parse('2026-03-01T10:00:20Z'); // minute 10:00, not a chart minute (hourly: 10:00 is one, so step first)
  now += 7 * MINUTE;
  spill = new Map();
  state = cloudWatchState(
    (q) =>
      q.metricName === 'SpilloverCount' && q.dimensions.LoadBalancerName === 'web'
        ? [...spill].filter(([t]) => t >= q.start && t < q.end)
        : [],
    () => now,
  );
  const endpoint = await startCloudWatch(state);
  url = endpoint.url;
  close = endpoint.close;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await close();
});

describe('capacity alarms (capacity.mode "alarms")', () => {
  it('creates a load balancer’s alarms on its first cycle, puts nothing that is already so, reads the figures only when an alarm says so', async () => {
    const first = await cycle([classic('web')]);
    expect(first.put).toEqual(['elbscope-test-web-spillover', 'elbscope-test-web-surge-queue']);
    expect(first.actions.filter((a) => a === 'DescribeAlarms')).toHaveLength(1);
    expect(first.gets).toBe(1); // just put: not evaluated yet, so the figures are read
    const [spillover] = state.alarms.all();
    expect(spillover?.request).toMatchObject({
      Namespace: 'AWS/ELB',
      MetricName: 'SpilloverCount',
      Dimensions: [{ Name: 'LoadBalancerName', Value: 'web' }],
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      ActionsEnabled: false,
    });
    expect(Object.fromEntries(spillover?.tags ?? [])).toEqual({
      'elbscope:stage': 'test',
      'elbscope:load-balancer': 'web',
      'elbscope:signal': 'spillover',
    });
    expect(state.alarms.all()[1]?.request.Threshold).toBe(512); // surgeQueueShare 0.5 of 1,024

    // Quiet: the first evaluation (INSUFFICIENT_DATA to OK) ended nothing, so no GetMetricData, and no put.
    now += 3 * MINUTE;
    const quiet = await cycle([classic('web')]);
    expect([quiet.put, quiet.gets, quiet.actions]).toEqual([[], 0, ['DescribeAlarms']]);
    expect(quiet.out[0]?.reading?.alarms?.spillover?.state).toBe('OK');

    // A spillover datapoint: the alarm goes to ALARM at its minute's end, and that cycle reads the figures.
    const minute = Math.floor(now / MINUTE) * MINUTE;
    spill.set(minute, 17);
    now = minute + MINUTE + 5_000;
    const alarmed = await cycle([classic('web')]);
    expect(alarmed.out[0]?.reading?.alarms?.spillover).toEqual({
      state: 'ALARM',
      since: new Date(minute + MINUTE).toISOString(),
    });
    expect(alarmed.gets).toBe(1);
    expect(alarmed.out[0]?.reading?.metrics?.SpilloverCount).toEqual([[new Date(minute).toISOString(), 17]]);
  });

  it('reads every load balancer’s figures on the hour for the charts (a 60-minute window)', async () => {
    await cycle([classic('web')]);
    now = Date.parse('2026-03-01T11:00:10Z');
    const hourly = await cycle([classic('web')]);
    expect(hourly.gets).toBe(1);
    expect(hourly.out[0]?.reading?.window).toMatchObject({
      start: '2026-03-01T10:00:00.000Z',
      end: '2026-03-01T11:00:00.000Z',
    });
  });

  it('puts an alarm again only when it differs, and deletes a load balancer’s alarms when it leaves (never the stack’s own)', async () => {
    // The stack's own alarm shares the prefix and carries no marker: never elbscope's to delete.
    await client().send(
      new PutMetricAlarmCommand({
        AlarmName: 'elbscope-test-heartbeat',
        Namespace: 'elbscope',
        MetricName: 'CycleCompleted',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
      }),
    );
    await cycle([classic('web'), classic('api')]);
    const changed = await cycle([classic('web'), classic('api')], {
      capacity: { reservationEveryMinutes: 0, surgeQueueShare: 0.9 },
    });
    expect(changed.put).toEqual(['elbscope-test-web-surge-queue', 'elbscope-test-api-surge-queue']);
    const left = await cycle([classic('web')]);
    expect(left.deleted).toEqual(['elbscope-test-api-spillover', 'elbscope-test-api-surge-queue']);
    expect(names()).toEqual([
      'elbscope-test-heartbeat',
      'elbscope-test-web-spillover',
      'elbscope-test-web-surge-queue',
    ]);
  });

  it('gives a discovered load balancer its alarms on its first cycle and deletes them when it leaves, even with none left in its region', async () => {
    const discovery = { discovery: { regions: ['us-east-1'], tags: { team: '*' } } };
    const found = classic('found', { name: 'found', region: 'us-east-1' });
    const first = await cycle([found], discovery);
    expect(first.put).toEqual(['elbscope-test-found-spillover', 'elbscope-test-found-surge-queue']);
    const gone = await cycle([], discovery);
    expect(gone.deleted).toEqual(['elbscope-test-found-spillover', 'elbscope-test-found-surge-queue']);
    expect(names()).toEqual([]);
  });

  it('keeps another account’s alarms in that account, through its role', async () => {
    const roleArn = 'arn:aws:iam::210987654321:role/elbscope-reader';
    await cycle([classic('web'), classic('far', { roleArn })]);
    expect(names('210987654321')).toEqual(['elbscope-test-far-spillover', 'elbscope-test-far-surge-queue']);
    expect(names()).toEqual(['elbscope-test-web-spillover', 'elbscope-test-web-surge-queue']);
    // Two region-and-account listings a cycle, one each.
    const again = await cycle([classic('web'), classic('far', { roleArn })]);
    expect(again.actions).toEqual(['DescribeAlarms', 'DescribeAlarms']);
  });

  it('leaves the fan-out workers’ batches to put, not prune (a batch is not the whole watch list)', async () => {
    await cycle([classic('web'), classic('api')]);
    const batch = await cycle([classic('web')], { fanout: { enabled: true } });
    expect(batch.deleted).toEqual([]);
  });

  it('names an alarm within 255 characters, the same way every time', () => {
    const key = 'k'.repeat(128);
    const a = alarmName('s'.repeat(32), key, `tg-${'t'.repeat(32)}-unhealthy`);
    expect(a.length).toBeLessThanOrEqual(255);
    expect(a).toBe(alarmName('s'.repeat(32), key, `tg-${'t'.repeat(32)}-unhealthy`));
    expect(alarmName('s'.repeat(32), `${'k'.repeat(127)}x`, `tg-${'t'.repeat(32)}-unhealthy`)).not.toBe(a);
    expect(alarmName('prod', 'web', 'spillover')).toBe('elbscope-prod-web-spillover');
  });

  it('names a failed alarm call in the errors and reads the figures: an unknown alarm state is never quiet', async () => {
    await cycle([classic('web')]);
    now += 25 * MINUTE;
    state.alarmFailNext.push({ code: 'Throttling', status: 400, message: 'Rate exceeded' });
    const failed = await cycle([classic('web')]);
    expect(failed.out[0]?.errors).toEqual([
      { source: 'cloudwatch', message: expect.stringMatching(/^CloudWatch DescribeAlarms: .*Rate exceeded/) },
    ]);
    expect(failed.gets).toBe(1);
    // A quota reached (LimitExceeded) is named the same way.
    state.alarms.limit = 0;
    const limited = await cycle([classic('new')]);
    expect(limited.out[0]?.errors[0]?.message).toMatch(/PutMetricAlarm elbscope-test-new-spillover: .*LimitExceeded/);
  });
});
