import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type CloudWatchClient,
} from '@aws-sdk/client-cloudwatch';
import { apiList, quoted } from '../answer';
import { describeError } from '../errors';
import type { DesiredAlarm } from './alarms';

/** An alarm as DescribeAlarms gave it: what is compared with the desired one, and its state. */
export interface DescribedAlarm {
  name: string;
  /** The account it lives in (from its ARN). */
  account: string | null;
  description: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** When its state last changed (epoch ms). */
  stateUpdatedAt: number;
  /** When its configuration was last put (epoch ms; null: not said). */
  configuredAt: number | null;
  /** The configuration, in DesiredAlarm's terms, for the comparison. */
  config: Omit<DesiredAlarm, 'name' | 'key' | 'signal' | 'tags'> | null;
}

/** The alarm calls elbscope makes in one region and account. */
export interface AlarmApi {
  /** Every alarm whose name starts with `prefix` (every page). Throws one line naming the call. */
  list(prefix: string): Promise<DescribedAlarm[]>;
  /** Create or overwrite one (tags only take on creation, as PutMetricAlarm says). */
  put(alarm: DesiredAlarm): Promise<void>;
  /** Delete these (100 a call); one already gone is not an error. */
  delete(names: string[]): Promise<void>;
}

/** [DescribeAlarms] MaxRecords: at most 100 a page. */
const PAGE = 100;
/**
 * Pages of one listing read at most: 5,000 alarms an account and region (the quota) is 50 pages; beyond it an endless
 * NextToken stops here.
 */
const MAX_PAGES = 60;
/** [DeleteAlarms] "You can delete up to 100 alarms in one operation." */
const DELETE_BATCH = 100;
const STATES = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** One line naming the call; `code`: the AWS error's name (Throttling, AccessDenied, LimitExceeded…), if any. */
function fail(call: string, err: unknown): Error & { code?: string } {
  const aws = err instanceof Error && '$metadata' in err;
  return Object.assign(
    new Error(`CloudWatch ${call}: ${err instanceof Error && !aws ? err.message : describeError(err)}`),
    aws ? { code: (err as Error).name } : {},
  );
}

/**
 * An AlarmApi over the SDK client. Every DescribeAlarms answer is checked before it is data: a missing list, an alarm
 * without a name or a known state or a real timestamp, a name outside the prefix asked, a repeated NextToken, is an
 * error of the call (never "no alarms", which would put every alarm again or delete none).
 */
export function createAlarmApi(cloudwatch: CloudWatchClient): AlarmApi {
  return {
    async list(prefix) {
      const out: DescribedAlarm[] = [];
      const names = new Set<string>();
      const tokens = new Set<string>();
      let token: string | undefined;
      let pages = 0;
      do {
        if (pages === MAX_PAGES)
          throw fail('DescribeAlarms', new Error(`still paging after ${MAX_PAGES} pages; stopped`));
        const page = await cloudwatch
          .send(
            new DescribeAlarmsCommand({
              AlarmNamePrefix: prefix,
              AlarmTypes: ['MetricAlarm'],
              MaxRecords: PAGE,
              ...(token ? { NextToken: token } : {}),
            }),
          )
          .catch((err: unknown) => {
            throw fail('DescribeAlarms', err);
          });
        pages++;
        for (const a of apiList(page.MetricAlarms, 'CloudWatch DescribeAlarms', 'MetricAlarms')) {
          const alarm = described(a as unknown as Record<string, unknown>, prefix);
          // Which of two answers is the state? Neither is to be trusted: an ALARM read over by an OK is a quiet
          // spillover, and a name listed twice is deleted twice.
          if (names.has(alarm.name))
            throw fail('DescribeAlarms', new Error(`${quoted(alarm.name)} listed twice: not that API's response`));
          names.add(alarm.name);
          out.push(alarm);
        }
        token = page.NextToken || undefined;
        if (token !== undefined && tokens.has(token))
          throw fail('DescribeAlarms', new Error(`NextToken repeated after ${pages} pages; stopped`));
        if (token) tokens.add(token);
      } while (token);
      return out;
    },
    async put(a) {
      await cloudwatch
        .send(
          new PutMetricAlarmCommand({
            AlarmName: a.name,
            AlarmDescription: a.description,
            ActionsEnabled: false,
            Namespace: a.namespace,
            MetricName: a.metricName,
            Statistic: a.statistic,
            Dimensions: a.dimensions,
            Period: a.period,
            EvaluationPeriods: a.evaluationPeriods,
            DatapointsToAlarm: a.datapointsToAlarm,
            Threshold: a.threshold,
            ComparisonOperator: a.comparisonOperator,
            TreatMissingData: a.treatMissingData,
            Tags: a.tags,
          }),
        )
        .catch((err: unknown) => {
          throw fail(`PutMetricAlarm ${a.name}`, err);
        });
    },
    async delete(names) {
      for (let i = 0; i < names.length; i += DELETE_BATCH) {
        await cloudwatch
          .send(new DeleteAlarmsCommand({ AlarmNames: names.slice(i, i + DELETE_BATCH) }))
          .catch((err: unknown) => {
            // Already gone (another run deleted it): what was wanted. The others named were still deleted.
            if ((err as { name?: string }).name === 'ResourceNotFound') return;
            throw fail('DeleteAlarms', err);
          });
      }
    },
  };
}

/** One MetricAlarms member, checked. */
function described(a: Record<string, unknown>, prefix: string): DescribedAlarm {
  const call = 'CloudWatch DescribeAlarms';
  if (typeof a.AlarmName !== 'string' || !a.AlarmName.startsWith(prefix))
    throw new Error(
      `${call}: an alarm named ${quoted(a.AlarmName)}, not under the prefix asked: not that API's response`,
    );
  if (typeof a.StateValue !== 'string' || !STATES.has(a.StateValue))
    throw new Error(`${call}: ${a.AlarmName}: a StateValue that is not one: ${quoted(a.StateValue)}`);
  const updated = a.StateUpdatedTimestamp;
  if (!(updated instanceof Date) || !Number.isFinite(updated.getTime()))
    throw new Error(`${call}: ${a.AlarmName}: no StateUpdatedTimestamp`);
  // A line that is not a number (the JSON protocol's "NaN") would differ from every desired one: put every cycle.
  for (const field of ['Threshold', 'Period', 'EvaluationPeriods'] as const)
    if (typeof a.MetricName === 'string' && !(typeof a[field] === 'number' && Number.isFinite(a[field])))
      throw new Error(`${call}: ${a.AlarmName}: a ${field} that is not a number: ${quoted(a[field])}`);
  const account = typeof a.AlarmArn === 'string' ? (/:(\d{12}):alarm:/.exec(a.AlarmArn)?.[1] ?? null) : null;
  const dims = Array.isArray(a.Dimensions) ? (a.Dimensions as { Name?: unknown; Value?: unknown }[]) : [];
  const config =
    typeof a.MetricName === 'string' && typeof a.Namespace === 'string'
      ? {
          description: typeof a.AlarmDescription === 'string' ? a.AlarmDescription : '',
          namespace: a.Namespace,
          metricName: a.MetricName,
          statistic: a.Statistic as DesiredAlarm['statistic'],
          dimensions: dims.map((d) => ({ Name: String(d.Name), Value: String(d.Value) })),
          period: a.Period as number,
          evaluationPeriods: a.EvaluationPeriods as number,
          datapointsToAlarm: (a.DatapointsToAlarm ?? a.EvaluationPeriods) as number,
          threshold: a.Threshold as number,
          comparisonOperator: a.ComparisonOperator as DesiredAlarm['comparisonOperator'],
          treatMissingData: a.TreatMissingData as 'notBreaching',
        }
      : null;
  return {
    name: a.AlarmName,
    account,
    description: typeof a.AlarmDescription === 'string' ? a.AlarmDescription : '',
    state: a.StateValue as DescribedAlarm['state'],
    stateUpdatedAt: updated.getTime(),
    configuredAt:
      a.AlarmConfigurationUpdatedTimestamp instanceof Date &&
      Number.isFinite(a.AlarmConfigurationUpdatedTimestamp.getTime())
        ? a.AlarmConfigurationUpdatedTimestamp.getTime()
        : null,
    config,
  };
}

/** Whether an alarm as described is the one desired (what PutMetricAlarm would set, tags aside). */
export function sameAlarm(desired: DesiredAlarm, got: DescribedAlarm): boolean {
  const { name: _n, key: _k, signal: _s, tags: _t, ...want } = desired;
  return got.config !== null && JSON.stringify(sorted(want)) === JSON.stringify(sorted(got.config));
}

function sorted(o: object): [string, unknown][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1));
}
