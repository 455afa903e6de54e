import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { cloudWatchState, startCloudWatch, type CloudWatchState } from '../../lab/cloudwatch/server';
import { createMetricsLookup } from '../../shared/capacity/cloudwatch';
import { createAlarmApi } from '../../shared/capacity/alarm-api';
import { observeCapacity, type CapacityDeps } from '../../shared/capacity/observe';
import { parseConfig } from '../../shared/config/load';
import type { Observation } from '../../shared/nodes/observation';

// The alarm mode against a hostile CloudWatch, through the real SDK to the lab's: DescribeAlarms answers that break
// the documented shape, the alarm writes refused while the reads work, quotas reached, names CloudWatch refuses,
// stages whose prefixes overlap. Whatever CloudWatch says, an alarm state elbscope cannot trust is never "quiet"
// (the figures are read and a `cloudwatch` failure is named), one refusal is not repeated for every alarm, and
// an alarm that is not this stage's is never deleted.
const MINUTE = 60_000;
let now = 0;
/** The `web` Classic ELB's SpilloverCount per minute (epoch ms). */
let spill = new Map<number, number>();
let state: CloudWatchState;
let url = '';
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

function deps(stage = 'test'): CapacityDeps {
  return {
    metricsFor: () => createMetricsLookup(client()),
    reservationsFor: null,
    alarmsFor: () => createAlarmApi(client()),
    stage,
  };
}

const classic = (name: string, extra: Record<string, unknown> = {}) => ({
  dnsName: `${name}-1234567890.us-east-1.elb.amazonaws.com`,
  ...extra,
});
type Lb = ReturnType<typeof classic>;
const observation = (lb: { dnsName: string }, kind: 'classic' | undefined): Observation => ({
  loadBalancer: lb.dnsName,
  observedAt: new Date(now).toISOString(),
  nodes: [],
  azs: {},
  errors: [],
  kind,
});

async function cycle(
  loadBalancers: Lb[],
  options: { stage?: string; extra?: Record<string, unknown>; keys?: string[]; kinds?: ('classic' | undefined)[] } = {},
) {
  const config = parseConfig({ loadBalancers, capacity: { reservationEveryMinutes: 0 }, ...options.extra }, 'test');
  // Keys as discovery files them, from names AWS answered (never through the configuration's schema).
  for (const [i, key] of (options.keys ?? []).entries()) Object.assign(config.loadBalancers[i] as object, { key });
  const before = { gets: state.requests.length, calls: state.alarmCalls.length };
  const out = await observeCapacity(
    config,
    loadBalancers.map((lb, i) => observation(lb, options.kinds ? options.kinds[i] : 'classic')),
    new Date(now),
    deps(options.stage),
  );
  const calls = state.alarmCalls.slice(before.calls);
  return {
    out,
    gets: state.requests.length - before.gets,
    actions: calls.map((c) => c.action),
    put: calls.filter((c) => c.action === 'PutMetricAlarm').map((c) => (c.request as { AlarmName: string }).AlarmName),
    deleted: calls
      .filter((c) => c.action === 'DeleteAlarms')
      .flatMap((c) => (c.request as { AlarmNames: string[] }).AlarmNames),
    refused: calls.filter((c) => c.refusal).map((c) => `${c.action} ${c.refusal?.code}`),
  };
}

const alarmNames = () =>
  state.alarms
    .all()
    .map((a) => a.request.AlarmName)
    .sort();

type Alarm = Record<string, unknown>;
/** A DescribeAlarms answer changed in its alarms. */
const alarmsOf = (answer: Record<string, unknown>) => answer.MetricAlarms as Alarm[];

beforeEach(async () => {
  now = Date.parse('2026-03-01T10:07:20Z'); // not a chart minute (hourly)
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

describe('DescribeAlarms answers that break the documented shape', () => {
  type Mangle = (answer: Record<string, unknown>, tokenAt: (offset: number) => string) => unknown;
  const cases: [string, Mangle, RegExp][] = [
    [
      'an alarm with no AlarmName',
      (a) => void delete (alarmsOf(a)[0] as Alarm).AlarmName,
      /an alarm named \(none\)|not under the prefix/,
    ],
    [
      'an unknown StateValue',
      (a) => void ((alarmsOf(a)[0] as Alarm).StateValue = 'PANIC'),
      /a StateValue that is not one: "PANIC"/,
    ],
    [
      'a Threshold of NaN',
      (a) => void ((alarmsOf(a)[0] as Alarm).Threshold = 'NaN'),
      /elbscope-test-web-spillover: a Threshold that is not a number/,
    ],
    [
      'an alarm listed twice, in two states',
      // The ALARM first, the OK last: the last one read would make a spillover quiet.
      (a) => void alarmsOf(a).unshift({ ...(alarmsOf(a)[0] as Alarm), StateValue: 'ALARM' }),
      /"elbscope-test-web-spillover" listed twice/,
    ],
    [
      'the same NextToken forever',
      (a, tokenAt) => ({ ...a, MetricAlarms: [], NextToken: tokenAt(0) }),
      /NextToken repeated after 2 pages/,
    ],
  ];
  for (const [what, mangle, message] of cases)
    it(`${what}: a cloudwatch failure naming it, the figures read, no alarm put or deleted`, async () => {
      await cycle([classic('web')]);
      now += 3 * MINUTE; // evaluated: OK since a minute after the put (the first evaluation, nothing to read)
      const quiet = await cycle([classic('web')]);
      expect([quiet.gets, quiet.put]).toEqual([0, []]);
      // Enough copies for every page the listing asks for.
      state.alarmMangleNext.push(...Array.from({ length: 5 }, () => mangle));
      const hostile = await cycle([classic('web')]);
      expect(hostile.out[0]?.errors).toEqual([{ source: 'cloudwatch', message: expect.stringMatching(message) }]);
      expect(hostile.out[0]?.errors[0]?.message).toMatch(/^CloudWatch DescribeAlarms/);
      expect(hostile.gets).toBe(1);
      expect([hostile.put, hostile.deleted]).toEqual([[], []]);
      expect(alarmNames()).toEqual(['elbscope-test-web-spillover', 'elbscope-test-web-surge-queue']);
    });

  it('10,000 pages, each with a new NextToken: stopped after the quota’s pages, named, the figures read', async () => {
    await cycle([classic('web')]);
    now += 3 * MINUTE;
    let page = 0;
    // Each page's token is one the lab takes (an offset of the same listing), and never the same twice.
    state.alarmMangleNext.push(
      ...Array.from({ length: 10_000 }, () => (a: Record<string, unknown>, tokenAt: (offset: number) => string) => ({
        ...a,
        MetricAlarms: [],
        NextToken: tokenAt(++page),
      })),
    );
    const hostile = await cycle([classic('web')]);
    expect(hostile.actions.filter((a) => a === 'DescribeAlarms').length).toBeLessThanOrEqual(60);
    expect(hostile.out[0]?.errors[0]?.message).toMatch(/still paging after 60 pages; stopped/);
    expect([hostile.gets, hostile.put, hostile.deleted]).toEqual([1, [], []]);
  });

  it('a 5 MB page (long StateReasons) is read as the alarms it holds', async () => {
    await cycle([classic('web')]);
    now += 3 * MINUTE;
    state.alarmMangleNext.push((a) => {
      for (const alarm of alarmsOf(a)) alarm.StateReason = 'x'.repeat(2_600_000);
      return a;
    });
    const big = await cycle([classic('web')]);
    expect(big.out[0]?.errors).toEqual([]);
    expect(big.out[0]?.reading?.alarms?.spillover?.state).toBe('OK');
    expect([big.gets, big.put]).toEqual([0, []]);
  });

  it('a state changed in the future or in 1970: a future change is read, an old OK is quiet, an old ALARM is read', async () => {
    await cycle([classic('web')]);
    now += 3 * MINUTE;
    const at =
      (seconds: number, value = 'OK') =>
      (a: Record<string, unknown>) => {
        for (const alarm of alarmsOf(a)) Object.assign(alarm, { StateUpdatedTimestamp: seconds, StateValue: value });
        return a;
      };
    state.alarmMangleNext.push(at(Date.parse('2100-01-01T00:00:00Z') / 1000));
    expect((await cycle([classic('web')])).gets).toBe(1);
    state.alarmMangleNext.push(at(0));
    expect((await cycle([classic('web')])).gets).toBe(0);
    state.alarmMangleNext.push(at(0, 'ALARM'));
    expect((await cycle([classic('web')])).gets).toBe(1);
  });
});

describe('alarm writes refused while the reads work', () => {
  const many = Array.from({ length: 20 }, (_, i) => classic(`lb${i}`));
  const refusals: [string, { code: string; status: number; message: string }][] = [
    [
      'AccessDenied',
      { code: 'AccessDenied', status: 403, message: 'not authorized to perform: cloudwatch:PutMetricAlarm' },
    ],
    ['Throttling (400)', { code: 'Throttling', status: 400, message: 'Rate exceeded' }],
    ['Throttling (429)', { code: 'Throttling', status: 429, message: 'Rate exceeded' }],
  ];
  for (const [what, refusal] of refusals)
    it(`${what} on PutMetricAlarm: one write tried, a cloudwatch failure for each load balancer, every figure read`, async () => {
      state.alarmFailNextOf.set(
        'PutMetricAlarm',
        Array.from({ length: 100 }, () => refusal),
      );
      const refused = await cycle(many);
      // A refusal of the account's writes is not tried again for each of 40 alarms (a storm into a throttle).
      expect(refused.put).toHaveLength(1);
      for (const r of refused.out)
        expect(r.errors).toEqual([
          { source: 'cloudwatch', message: expect.stringMatching(new RegExp(`PutMetricAlarm .*${refusal.code}`)) },
        ]);
      expect(refused.gets).toBe(1); // one GetMetricData for all 20: their figures are read, as when polling
      expect(refused.out.every((r) => r.reading?.metrics !== undefined)).toBe(true);
      // The writes work again: every alarm is put on the next cycle.
      state.alarmFailNextOf.clear();
      now += MINUTE;
      const healed = await cycle(many);
      expect([healed.put.length, healed.out.flatMap((r) => r.errors)]).toEqual([40, []]);
    });

  it('LimitExceeded at the account’s alarm quota: no more creations tried this cycle; updates of existing ones still go', async () => {
    state.alarms.limit = 4;
    const first = await cycle(many);
    // Two load balancers got theirs; the third's first put met the quota; none after it was tried.
    expect(first.put).toHaveLength(5);
    expect(first.refused).toEqual(['PutMetricAlarm LimitExceeded']);
    expect(first.out.slice(0, 2).map((r) => r.errors)).toEqual([[], []]);
    for (const r of first.out.slice(2))
      expect(r.errors).toEqual([{ source: 'cloudwatch', message: expect.stringMatching(/LimitExceeded/) }]);
    expect(first.gets).toBe(1);
    // A changed line is still put to the alarms that exist.
    now += MINUTE;
    const changed = await cycle(many, { extra: { capacity: { reservationEveryMinutes: 0, surgeQueueShare: 0.9 } } });
    expect(changed.put.filter((n) => n.endsWith('surge-queue')).slice(0, 2)).toEqual([
      'elbscope-test-lb0-surge-queue',
      'elbscope-test-lb1-surge-queue',
    ]);
    expect(changed.refused).toEqual(['PutMetricAlarm LimitExceeded']);
  });
});

describe('names', () => {
  it('a stage whose name starts another’s (prod, prod-eu): pruning in one never deletes the other’s alarms', async () => {
    await cycle([classic('web')], { stage: 'prod-eu' });
    await cycle([classic('api')], { stage: 'prod' });
    await cycle([classic('api')], { stage: 'prod' });
    expect(alarmNames()).toEqual([
      'elbscope-prod-api-spillover',
      'elbscope-prod-api-surge-queue',
      'elbscope-prod-eu-web-spillover',
      'elbscope-prod-eu-web-surge-queue',
    ]);
    // elbscope-prod vs elbscope-prod2: the prefixes differ at the hyphen already.
    await cycle([classic('db')], { stage: 'prod2' });
    const pruned = await cycle([classic('db')], { stage: 'prod' });
    expect(pruned.deleted).toEqual(['elbscope-prod-api-spillover', 'elbscope-prod-api-surge-queue']);
    expect(alarmNames()).toEqual([
      'elbscope-prod-db-spillover',
      'elbscope-prod-db-surge-queue',
      'elbscope-prod-eu-web-spillover',
      'elbscope-prod-eu-web-surge-queue',
      'elbscope-prod2-db-spillover',
      'elbscope-prod2-db-surge-queue',
    ]);
  });

  it('keys CloudWatch refuses in a name (control characters, non-ASCII, a cut through a character) or that share 255 characters: each its own valid name, the same every cycle', async () => {
    const long = 'a'.repeat(230);
    const keys = [
      'web\u0007bell',
      'wéb-ünïcode.eu-west-1',
      `${'a'.repeat(221)}\u{1F600}tail`, // the cut at 255 falls inside the emoji (two UTF-16 units)
      `${long}-one`,
      `${long}-two`,
      'b'.repeat(1000), // longer than a description holds
    ];
    const lbs = keys.map((_, i) => classic(`lb${i}`));
    const first = await cycle(lbs, { keys });
    expect(first.refused).toEqual([]);
    expect(first.out.map((r) => r.errors)).toEqual(keys.map(() => []));
    const names = alarmNames();
    expect(new Set(names).size).toBe(12);
    for (const n of names) expect(n).toMatch(/^elbscope-test-[A-Za-z0-9._~-]{1,241}$/);
    // What DescribeAlarms lists again is what is desired: nothing put twice, nothing deleted.
    now += 3 * MINUTE;
    const again = await cycle(lbs, { keys });
    expect([again.put, again.deleted, again.refused]).toEqual([[], [], []]);
  });

  it('a watched load balancer named by a hash keeps its alarms while its kind is not known', async () => {
    // A customer's name of 240 characters (no "name", no ARN): its key is the name, too long for an alarm's.
    const label = (c: string) => c.repeat(60);
    const shop = { dnsName: `${label('s')}.${label('h')}.${label('o')}.${label('p')}`, region: 'us-east-1' };
    await cycle([shop, classic('web')]);
    expect(alarmNames()).toHaveLength(4);
    now += 3 * MINUTE;
    const unknown = await cycle([shop, classic('web')], { kinds: [undefined, 'classic'] });
    expect(unknown.out[0]?.errors[0]?.code).toBe('no-kind');
    expect([unknown.actions, unknown.deleted]).toEqual([['DescribeAlarms'], []]);
    expect(alarmNames()).toHaveLength(4);
  });
});

describe('state and time', () => {
  it('a spillover whose alarm went to ALARM and back to OK between two cycles is still read from GetMetricData', async () => {
    await cycle([classic('web')]);
    now += 3 * MINUTE;
    expect((await cycle([classic('web')])).gets).toBe(0);
    // One minute spills; the alarm is ALARM at its end and OK a minute later, both between two cycles.
    const minute = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    spill.set(minute, 17);
    now = minute + 2 * MINUTE + 5_000;
    const after = await cycle([classic('web')]);
    expect(state.alarms.all()[0]?.history.map((h) => h.state)).toEqual(['INSUFFICIENT_DATA', 'OK', 'ALARM', 'OK']);
    expect(after.out[0]?.reading?.alarms?.spillover?.state).toBe('OK');
    expect(after.gets).toBe(1);
    expect(after.out[0]?.reading?.metrics?.SpilloverCount).toEqual([[new Date(minute).toISOString(), 17]]);
  });

  it('an alarm a person deleted between cycles is put again and its figures read (its state unknown, never quiet)', async () => {
    await cycle([classic('web')]);
    now += 3 * MINUTE;
    await cycle([classic('web')]);
    state.alarms.delete('123456789012', 'us-east-1', ['elbscope-test-web-spillover']);
    now += MINUTE;
    const back = await cycle([classic('web')]);
    expect([back.put, back.gets]).toEqual([['elbscope-test-web-spillover'], 1]);
    expect(back.out[0]?.reading?.alarms?.spillover).toEqual({ state: 'unknown', since: null });
  });
});
