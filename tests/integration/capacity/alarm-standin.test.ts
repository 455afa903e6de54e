import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  TagResourceCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { cloudWatchState, startCloudWatch, type CloudWatchState } from '../../../lab/cloudwatch/server';

// The lab's CloudWatch alarm calls through the real SDK (AWS JSON 1.0, awsQueryCompatible): each documented rule
// refused with its code and status, pagination, the quota, accounts apart, and alarms evaluated on the lab's clock.
const credentials = { accessKeyId: 'lab', secretAccessKey: 'lab' };
const MINUTE = 60_000;
let now = 0;
let spill = new Map<number, number>();
let state: CloudWatchState;
let close: () => Promise<void>;
let client: CloudWatchClient;

const alarm = (over: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput => ({
  AlarmName: 'elbscope-test-web-spillover',
  Namespace: 'AWS/ELB',
  MetricName: 'SpilloverCount',
  Dimensions: [{ Name: 'LoadBalancerName', Value: 'web' }],
  Statistic: 'Sum',
  Period: 60,
  EvaluationPeriods: 1,
  DatapointsToAlarm: 1,
  Threshold: 0,
  ComparisonOperator: 'GreaterThanThreshold',
  TreatMissingData: 'notBreaching',
  ...over,
});

/** The error an SDK call failed with: the SDK's name for the code the stand-in sent (x-amzn-query-error), and the HTTP status. */
async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined } | null> {
  return p.then(
    () => null,
    (e: { name: string; $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      status: e.$metadata?.httpStatusCode,
    }),
  );
}

beforeEach(async () => {
  now = Date.parse('2026-03-01T10:00:30Z');
  spill = new Map();
  state = cloudWatchState(
    (q) => (q.metricName === 'SpilloverCount' ? [...spill].filter(([t]) => t >= q.start && t < q.end) : []),
    () => now,
  );
  const endpoint = await startCloudWatch(state);
  close = endpoint.close;
  client = new CloudWatchClient({ region: 'us-east-1', endpoint: endpoint.url, credentials, maxAttempts: 1 });
});
afterEach(async () => {
  client.destroy();
  await close();
});

describe("the lab's CloudWatch alarms", () => {
  it('refuses what PutMetricAlarm refuses, with its code and HTTP status', async () => {
    const cases: [Partial<PutMetricAlarmCommandInput>, string][] = [
      [{ AlarmName: 'x'.repeat(256) }, 'InvalidParameterValueException'],
      [{ AlarmName: 'a\u0001b' }, 'InvalidParameterValueException'],
      [{ Period: 90 }, 'InvalidParameterValueException'],
      [{ Period: 45 }, 'InvalidParameterValueException'],
      [{ Period: 60, EvaluationPeriods: 1441 }, 'InvalidParameterValueException'], // 86,460 s > one day
      [{ DatapointsToAlarm: 2, EvaluationPeriods: 1 }, 'InvalidParameterValueException'],
      [{ TreatMissingData: 'zero' }, 'InvalidParameterValueException'],
      [{ ComparisonOperator: 'Above' as never }, 'InvalidParameterValueException'],
      [{ ExtendedStatistic: 'p99' }, 'InvalidParameterCombinationException'],
      [{ Statistic: undefined }, 'InvalidParameterCombinationException'],
      [
        { Metrics: [{ Id: 'm1', Expression: 'SUM(METRICS())', ReturnData: true }] },
        'InvalidParameterCombinationException',
      ],
      [{ Threshold: undefined }, 'MissingRequiredParameterException'],
    ];
    for (const [over, code] of cases)
      expect(await refusal(client.send(new PutMetricAlarmCommand(alarm(over)))), JSON.stringify(over)).toEqual({
        name: code,
        status: 400,
      });
    // The limits themselves are accepted: 255 characters, 20 s, a day of one-minute periods, M = N.
    for (const over of [
      { AlarmName: 'y'.repeat(255) },
      { AlarmName: 'p20', Period: 20 },
      { AlarmName: 'day', EvaluationPeriods: 1440, DatapointsToAlarm: 1440 },
    ])
      await client.send(new PutMetricAlarmCommand(alarm(over)));
    expect(state.alarms.all()).toHaveLength(3);
  });

  it('holds the per-account-and-region quota (LimitExceeded, 400); an update of one that exists is no new alarm', async () => {
    state.alarms.limit = 2;
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'a' })));
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'b' })));
    expect(await refusal(client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'c' }))))).toEqual({
      name: 'LimitExceededFault',
      status: 400,
    });
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'a', Threshold: 5 })));
    // Another region is another quota.
    const west = new CloudWatchClient({ region: 'us-west-2', endpoint: await endpointOf(client), credentials });
    await west.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'c' })));
    west.destroy();
  });

  it('pages DescribeAlarms (MaxRecords 1-100, NextToken), filters by prefix, names and state', async () => {
    for (let i = 0; i < 7; i++) await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: `p-${i}` })));
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'other' })));
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new DescribeAlarmsCommand({ AlarmNamePrefix: 'p-', MaxRecords: 3, ...(token ? { NextToken: token } : {}) }),
      );
      names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName as string));
      token = page.NextToken;
      pages++;
    } while (token);
    expect([pages, names]).toEqual([3, ['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6']]);
    expect(await refusal(client.send(new DescribeAlarmsCommand({ MaxRecords: 101 })))).toEqual({
      name: 'InvalidParameterValueException',
      status: 400,
    });
    expect(await refusal(client.send(new DescribeAlarmsCommand({ MaxRecords: 0 })))).toMatchObject({ status: 400 });
    expect(await refusal(client.send(new DescribeAlarmsCommand({ NextToken: 'forged' })))).toEqual({
      name: 'InvalidNextToken',
      status: 400,
    });
    // A token is for the filters it was handed out with.
    const first = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'p-', MaxRecords: 3 }));
    expect(
      await refusal(client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'o', NextToken: first.NextToken }))),
    ).toMatchObject({ name: 'InvalidNextToken' });
    expect(
      await refusal(client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'p-', AlarmNames: ['p-1'] }))),
    ).toEqual({ name: 'InvalidParameterCombinationException', status: 400 });
    const named = await client.send(new DescribeAlarmsCommand({ AlarmNames: ['p-1', 'other', 'none'] }));
    expect(named.MetricAlarms?.map((a) => a.AlarmName)).toEqual(['other', 'p-1']);
    const insufficient = await client.send(new DescribeAlarmsCommand({ StateValue: 'INSUFFICIENT_DATA' }));
    expect(insufficient.MetricAlarms).toHaveLength(8); // new alarms start there
    expect(await refusal(client.send(new DescribeAlarmsCommand({ StateValue: 'RED' as never })))).toMatchObject({
      name: 'InvalidParameterValueException',
    });
  });

  it('deletes at most 100 names a call; names not found are ResourceNotFound (404), the others still deleted', async () => {
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'a' })));
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'b' })));
    expect(
      await refusal(
        client.send(new DeleteAlarmsCommand({ AlarmNames: Array.from({ length: 101 }, (_, i) => `${i}`) })),
      ),
    ).toEqual({ name: 'InvalidParameterValueException', status: 400 });
    expect(await refusal(client.send(new DeleteAlarmsCommand({ AlarmNames: ['a', 'gone'] })))).toEqual({
      name: 'ResourceNotFound',
      status: 404,
    });
    expect(state.alarms.all().map((a) => a.request.AlarmName)).toEqual(['b']);
  });

  it('tags an alarm by its ARN, in its own account only (ResourceNotFoundException, 404)', async () => {
    await client.send(new PutMetricAlarmCommand(alarm({ Tags: [{ Key: 'elbscope:stage', Value: 'test' }] })));
    const [described] = (await client.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? [];
    expect(described?.AlarmArn).toBe('arn:aws:cloudwatch:us-east-1:123456789012:alarm:elbscope-test-web-spillover');
    await client.send(
      new TagResourceCommand({ ResourceARN: described?.AlarmArn, Tags: [{ Key: 'owner', Value: 'ops' }] }),
    );
    expect(Object.fromEntries(state.alarms.all()[0]?.tags ?? [])).toEqual({ 'elbscope:stage': 'test', owner: 'ops' });
    const other = new CloudWatchClient({
      region: 'us-east-1',
      endpoint: await endpointOf(client),
      credentials: { accessKeyId: 'ASIA210987654321', secretAccessKey: 'x' },
    });
    expect(
      await refusal(
        other.send(new TagResourceCommand({ ResourceARN: described?.AlarmArn, Tags: [{ Key: 'k', Value: 'v' }] })),
      ),
    ).toEqual({ name: 'ResourceNotFoundException', status: 404 });
    // That account sees none of this one's alarms.
    expect((await other.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
    other.destroy();
  });

  it('evaluates each minute on its clock: INSUFFICIENT_DATA, then OK (missing data not breaching), ALARM on a datapoint, OK again', async () => {
    await client.send(new PutMetricAlarmCommand(alarm()));
    const read = async () => {
      const [a] = (await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'elbscope-' }))).MetricAlarms ?? [];
      return [a?.StateValue, a?.StateUpdatedTimestamp?.toISOString()];
    };
    expect(await read()).toEqual(['INSUFFICIENT_DATA', '2026-03-01T10:00:30.000Z']);
    now += MINUTE; // 10:01:30: evaluated at 10:01 over 10:00-10:01, no datapoint
    expect(await read()).toEqual(['OK', '2026-03-01T10:01:00.000Z']);
    spill.set(Date.parse('2026-03-01T10:01:00Z'), 17);
    now += MINUTE; // 10:02:30: the 10:01 minute breached
    expect(await read()).toEqual(['ALARM', '2026-03-01T10:02:00.000Z']);
    now += 3 * MINUTE; // caught up minute by minute: back to OK at 10:03
    expect(await read()).toEqual(['OK', '2026-03-01T10:03:00.000Z']);
  });

  it('counts M of N and treats missing data as the alarm says', async () => {
    await client.send(
      new PutMetricAlarmCommand(alarm({ AlarmName: 'm-of-n', EvaluationPeriods: 3, DatapointsToAlarm: 2 })),
    );
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'missing', TreatMissingData: 'missing' })));
    await client.send(new PutMetricAlarmCommand(alarm({ AlarmName: 'breaching', TreatMissingData: 'breaching' })));
    spill.set(Date.parse('2026-03-01T10:00:00Z'), 1);
    now = Date.parse('2026-03-01T10:01:10Z');
    const states = async () =>
      Object.fromEntries(
        ((await client.send(new DescribeAlarmsCommand({}))).MetricAlarms ?? []).map((a) => [a.AlarmName, a.StateValue]),
      );
    expect(await states()).toEqual({ 'm-of-n': 'OK', missing: 'ALARM', breaching: 'ALARM' });
    spill.set(Date.parse('2026-03-01T10:01:00Z'), 1);
    now += MINUTE;
    expect((await states())['m-of-n']).toBe('ALARM');
    now += 2 * MINUTE;
    expect(await states()).toEqual({ 'm-of-n': 'OK', missing: 'INSUFFICIENT_DATA', breaching: 'ALARM' });
  });
});

async function endpointOf(c: CloudWatchClient): Promise<string> {
  const e = await c.config.endpoint?.();
  return `${e?.protocol}//${e?.hostname}:${e?.port}`;
}
