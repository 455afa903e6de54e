import type { MetricSource } from './server';
import {
  MAX_ALARMS_PER_ACCOUNT_REGION,
  recordsOf,
  type AlarmRefusal,
  type DescribeAlarmsRequest,
  type PutMetricAlarmRequest,
} from './alarm-contract';

/** One metric alarm as the lab keeps it (the request as put, and its state). */
export interface LabAlarm {
  account: string;
  region: string;
  request: PutMetricAlarmRequest;
  tags: Map<string, string>;
  configuredAt: number;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  stateReason: string;
  stateUpdatedAt: number;
  /** The last minute boundary it was evaluated at (epoch ms). */
  evaluatedAt: number;
  /** Every state it entered, and when (tests: when an alarm fired). */
  history: { state: LabAlarm['state']; at: number }[];
}

/** A whole-minute evaluation cadence: CloudWatch evaluates a standard-resolution alarm once a minute. */
const MINUTE = 60_000;
/** At most this many evaluations caught up at once (a day): a lab clock that jumps further starts from there. */
const MAX_CATCH_UP = 1440;

/**
 * The lab's alarms per account and region, evaluated over the series the lab's CloudWatch serves, on the lab's clock.
 * How CloudWatch evaluates (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html):
 * every minute, the last EvaluationPeriods periods that ended; ALARM when DatapointsToAlarm of them breach; missing
 * datapoints as TreatMissingData says (notBreaching: good; breaching: bad; ignore: the state is kept when all are
 * missing; missing, the default: INSUFFICIENT_DATA when all are missing). A new alarm starts in INSUFFICIENT_DATA
 * ("When this operation creates an alarm, the alarm state is immediately set to INSUFFICIENT_DATA"); an update
 * leaves the state as it was ("When you update an existing alarm, its state is left unchanged").
 */
export class LabAlarms {
  readonly #alarms = new Map<string, LabAlarm>();

  constructor(
    private readonly source: MetricSource,
    private readonly now: () => number,
    /** The per-account-and-region quota (tests lower it). */
    public limit = MAX_ALARMS_PER_ACCOUNT_REGION,
  ) {}

  /** Every alarm (tests). */
  all(): LabAlarm[] {
    return [...this.#alarms.values()];
  }

  put(account: string, region: string, req: PutMetricAlarmRequest): AlarmRefusal | null {
    const key = `${account}|${region}|${req.AlarmName}`;
    const before = this.#alarms.get(key);
    const now = this.now();
    if (!before) {
      const count = this.all().filter((a) => a.account === account && a.region === region).length;
      if (count >= this.limit)
        return {
          code: 'LimitExceeded',
          status: 400,
          message: `The maximum allowed number of alarms (${this.limit}) for this account and region has been reached.`,
        };
      this.#alarms.set(key, {
        account,
        region,
        request: structuredClone(req),
        // [P] Tags: "If you are using this operation to update an existing alarm, any tags you specify in this
        // parameter are ignored."
        tags: new Map((req.Tags ?? []).map((t) => [t.Key as string, t.Value as string])),
        configuredAt: now,
        state: 'INSUFFICIENT_DATA',
        stateReason: 'Unchecked: Initial alarm creation',
        stateUpdatedAt: now,
        evaluatedAt: Math.floor(now / MINUTE) * MINUTE,
        history: [{ state: 'INSUFFICIENT_DATA', at: now }],
      });
      return null;
    }
    before.request = structuredClone(req);
    before.configuredAt = now;
    return null;
  }

  /** Delete by name; the names not found ([X]: "the alarms you specify with correct names are still deleted"). */
  delete(account: string, region: string, names: string[]): string[] {
    const notFound: string[] = [];
    for (const n of names) if (!this.#alarms.delete(`${account}|${region}|${n}`)) notFound.push(n);
    return notFound;
  }

  byArn(arn: string): LabAlarm | undefined {
    const m = /^arn:aws[\w-]*:cloudwatch:([\w-]+):(\d{12}):alarm:(.+)$/.exec(arn);
    return m ? this.#alarms.get(`${m[2]}|${m[1]}|${m[3]}`) : undefined;
  }

  /** One page of DescribeAlarms, every alarm evaluated up to now first; the next page's offset, if more. */
  describe(
    account: string,
    region: string,
    req: DescribeAlarmsRequest,
    offset: number,
  ): { page: LabAlarm[]; next: number | null } {
    const matching = this.all()
      .filter((a) => a.account === account && a.region === region)
      .filter(() => req.AlarmTypes === undefined || req.AlarmTypes.includes('MetricAlarm'))
      .filter(
        (a) => req.AlarmNamePrefix === undefined || (a.request.AlarmName as string).startsWith(req.AlarmNamePrefix),
      )
      .filter((a) => req.AlarmNames === undefined || req.AlarmNames.includes(a.request.AlarmName as string))
      .filter(
        (a) =>
          req.ActionPrefix === undefined ||
          [...(a.request.AlarmActions ?? []), ...(a.request.OKActions ?? [])].some((x) =>
            x.startsWith(req.ActionPrefix as string),
          ),
      );
    for (const a of matching) this.evaluate(a);
    // In name order, as CloudWatch lists them.
    const listed = matching
      .filter((a) => req.StateValue === undefined || a.state === req.StateValue)
      .sort((x, y) => ((x.request.AlarmName as string) < (y.request.AlarmName as string) ? -1 : 1));
    const size = recordsOf(req);
    const page = listed.slice(offset, offset + size);
    return { page, next: offset + size < listed.length ? offset + size : null };
  }

  /** Evaluate an alarm at each minute boundary since it was last evaluated, up to now. */
  evaluate(a: LabAlarm): void {
    const until = Math.floor(this.now() / MINUTE) * MINUTE;
    let at = Math.max(a.evaluatedAt + MINUTE, until - (MAX_CATCH_UP - 1) * MINUTE);
    for (; at <= until; at += MINUTE) this.#evaluateAt(a, at);
    a.evaluatedAt = Math.max(a.evaluatedAt, until);
  }

  #evaluateAt(a: LabAlarm, at: number): void {
    const r = a.request;
    // The lab evaluates single-metric alarms; a Metrics (math) alarm is accepted and stays as it is.
    if (r.MetricName === undefined) return;
    const period = (r.Period as number) * 1000;
    const n = r.EvaluationPeriods as number;
    const m = r.DatapointsToAlarm ?? n;
    const end = Math.floor(at / period) * period;
    const start = end - n * period;
    const points = new Map(
      this.source({
        namespace: r.Namespace as string,
        metricName: r.MetricName,
        dimensions: Object.fromEntries((r.Dimensions ?? []).map((d) => [d.Name as string, d.Value as string])),
        stat: r.Statistic ?? r.ExtendedStatistic ?? 'Average',
        period: r.Period as number,
        start,
        end,
      }).filter(([t]) => t >= start && t < end),
    );
    const treat = r.TreatMissingData ?? 'missing';
    let breaching = 0;
    const seen: string[] = [];
    for (let t = start; t < end; t += period) {
      const v = points.get(t);
      if (v === undefined) {
        if (treat === 'breaching') breaching++;
        continue;
      }
      seen.push(`${v} (${new Date(t).toISOString()})`);
      if (breaches(r.ComparisonOperator as string, v, r.Threshold as number)) breaching++;
    }
    let next: LabAlarm['state'];
    if (points.size === 0 && treat === 'missing') next = 'INSUFFICIENT_DATA';
    else if (points.size === 0 && treat === 'ignore') next = a.state;
    else next = breaching >= m ? 'ALARM' : 'OK';
    if (next === a.state) return;
    a.state = next;
    a.stateUpdatedAt = at;
    a.history.push({ state: next, at });
    a.stateReason =
      next === 'ALARM'
        ? `Threshold Crossed: ${breaching} out of the last ${n} datapoints [${seen.join(', ')}] were ${r.ComparisonOperator} ${r.Threshold}.`
        : next === 'OK'
          ? `Threshold Crossed: ${breaching} out of the last ${n} datapoints breached (${m} needed); missing data treated as ${treat}.`
          : 'Insufficient Data: no datapoints in the periods evaluated.';
  }
}

function breaches(op: string, v: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanThreshold':
      return v > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return v >= threshold;
    case 'LessThanThreshold':
      return v < threshold;
    case 'LessThanOrEqualToThreshold':
      return v <= threshold;
    default:
      return false;
  }
}

/** An alarm as DescribeAlarms' MetricAlarms member carries it (JSON 1.0: timestamps in epoch seconds). */
export function describedAlarm(a: LabAlarm): Record<string, unknown> {
  const r = a.request;
  return {
    AlarmName: r.AlarmName,
    AlarmArn: `arn:aws:cloudwatch:${a.region}:${a.account}:alarm:${r.AlarmName}`,
    ...(r.AlarmDescription !== undefined ? { AlarmDescription: r.AlarmDescription } : {}),
    AlarmConfigurationUpdatedTimestamp: a.configuredAt / 1000,
    ActionsEnabled: r.ActionsEnabled ?? true,
    OKActions: r.OKActions ?? [],
    AlarmActions: r.AlarmActions ?? [],
    InsufficientDataActions: r.InsufficientDataActions ?? [],
    StateValue: a.state,
    StateReason: a.stateReason,
    StateUpdatedTimestamp: a.stateUpdatedAt / 1000,
    StateTransitionedTimestamp: a.stateUpdatedAt / 1000,
    ...(r.MetricName !== undefined
      ? {
          MetricName: r.MetricName,
          Namespace: r.Namespace,
          ...(r.Statistic ? { Statistic: r.Statistic } : { ExtendedStatistic: r.ExtendedStatistic }),
          Dimensions: r.Dimensions ?? [],
          Period: r.Period,
        }
      : { Metrics: r.Metrics }),
    EvaluationPeriods: r.EvaluationPeriods,
    ...(r.DatapointsToAlarm !== undefined ? { DatapointsToAlarm: r.DatapointsToAlarm } : {}),
    ...(r.Threshold !== undefined ? { Threshold: r.Threshold } : {}),
    ComparisonOperator: r.ComparisonOperator,
    TreatMissingData: r.TreatMissingData ?? 'missing',
  };
}
