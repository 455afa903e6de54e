import { createHash } from 'node:crypto';
import type { LoadBalancerKind } from '../nodes/kind';
import { parseLoadBalancerArn } from '../nodes/lb-name';
import { NLB_MBPS_PER_LCU } from './cloudwatch';

/**
 * The CloudWatch alarms elbscope keeps per watched load balancer: CloudWatch evaluates them every minute, elbscope
 * reads their states (one DescribeAlarms per region and account a cycle) and fetches the figures on a change. Each
 * signal is the one a capacity rule judges (shared/detect/capacity-rules.ts), at the same line, so an alarm in ALARM
 * is exactly "a minute the rule would count":
 * - Classic (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html):
 *   `spillover` SpilloverCount Sum > 0; `surge-queue` SurgeQueueLength Maximum > surgeQueueShare × 1,024.
 * - ALB (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
 *   `rejected-connections` RejectedConnectionCount Sum > 0; while an LCU reservation exists,
 *   `lcu-above-reservation` PeakLCUs per-minute Sum > the LCUs reserved ("compare the per-minute Sum of PeakLCUs
 *   against your reserved capacity value").
 * - NLB: while an LCU reservation exists, `lcu-above-reservation` on per-minute ProcessedBytes Sum above the
 *   reservation in bytes a minute: AWS's "(bytes per min)*8/60/(10^6)/2.2" > units, solved for the bytes (one
 *   metric, one comparison; the same line as a metric-math expression, without one to maintain).
 * - Target health, per target group an ALB/NLB has (`targetGroups`): `tg-<name>-unhealthy` UnHealthyHostCount
 *   Maximum > 0, with the TargetGroup and LoadBalancer dimensions.
 * One-minute periods (ELB publishes per minute); every alarm treats missing data as not breaching: these metrics
 * are reported only when non-zero, or only while traffic flows, so no datapoint is no breach. One period, one
 * datapoint: an alarm is the trigger to read the minutes; the rules' own M of N confirms them, as when polling.
 */

/** One alarm as elbscope wants it (what PutMetricAlarm is sent, and what DescribeAlarms is compared with). */
export interface DesiredAlarm {
  name: string;
  /** The load balancer's key, and the signal (the event kind it feeds, or `tg-<name>-unhealthy`). */
  key: string;
  signal: string;
  description: string;
  namespace: string;
  metricName: string;
  statistic: 'Sum' | 'Maximum' | 'Minimum';
  dimensions: { Name: string; Value: string }[];
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: 'GreaterThanThreshold' | 'LessThanThreshold';
  treatMissingData: 'notBreaching';
  tags: { Key: string; Value: string }[];
}

/** What a load balancer's alarms are made from. */
export interface AlarmTarget {
  key: string;
  kind: LoadBalancerKind;
  /** Classic: its name. */
  name: string;
  arn?: string | undefined;
  /** Its target groups' ARNs (ALB/NLB), for the target-health alarms. */
  targetGroups?: readonly string[] | undefined;
}

/**
 * Every managed alarm's description starts `[elbscope capacity] stage <stage>:`, and only alarms marked with the
 * cycle's own stage are ever deleted: the stack's own alarms share the `elbscope-<stage>-` prefix and carry no
 * marker, and the prefix of a stage whose name starts another's (`prod`, `prod-eu`) lists the other's alarms too.
 */
export function managedMarker(stage: string): string {
  return `[elbscope capacity] stage ${stage}:`;
}
/** [PutMetricAlarm] AlarmName: "Maximum length of 255." */
const MAX_NAME = 255;
/** A Classic ELB's surge queue holds at most 1,024 requests. */
const SURGE_QUEUE_MAX = 1024;
const PERIOD_SECONDS = 60;

/** The prefix of every alarm elbscope keeps for a stage: what DescribeAlarms is asked for. */
export function alarmPrefix(stage: string): string {
  return `elbscope-${stage}-`;
}

/**
 * `elbscope-<stage>-<key>-<signal>`, at most 255 characters: a name that would be longer, or a key with a character
 * outside letters, digits, `.`, `_` and `-` (a discovered name AWS answered with a control character, which
 * CloudWatch refuses, or non-ASCII, whose length in characters or bytes CloudWatch does not say), keeps the start of
 * the key with any other character as `_`, and a hash of all of it (`<key start>~<8 hex>`): the same load balancer
 * always gets the same name, two never share one, and a cut never falls inside a character.
 */
export function alarmName(stage: string, key: string, signal: string): string {
  const full = `${alarmPrefix(stage)}${key}-${signal}`;
  if (full.length <= MAX_NAME && SAFE_KEY.test(key)) return full;
  const room = MAX_NAME - alarmPrefix(stage).length - signal.length - 1 - HASHED_TAIL;
  return `${alarmPrefix(stage)}${hashedKey(key, room)}-${signal}`;
}

/**
 * Whether `name` is one of `key`'s alarms whatever its signal: `<prefix><key>-…`, or, for a key named by its hash,
 * `~<hash>-` right after the prefix and a start of the key.
 */
export function isAlarmOf(stage: string, key: string, name: string): boolean {
  const prefix = alarmPrefix(stage);
  if (!name.startsWith(prefix)) return false;
  if (SAFE_KEY.test(key) && name.startsWith(`${prefix}${key}-`)) return true;
  const hashed = hashedKey(key, MAX_NAME);
  const tail = hashed.slice(-HASHED_TAIL);
  const at = name.indexOf(`${tail}-`, prefix.length);
  return at >= 0 && hashed.startsWith(name.slice(prefix.length, at));
}

/** The characters a key keeps as it is in a name or tag (every key the configuration's schema takes). */
const SAFE_KEY = /^[A-Za-z0-9._-]*$/;
/** `~` and 8 hex digits of the key's SHA-256. */
const HASHED_TAIL = 9;

/** `<key start, other characters as _>~<8 hex>`, at most `room` + 9 characters. */
function hashedKey(key: string, room: number): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `${key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, Math.max(0, room))}~${hash}`;
}

/** The `LoadBalancer` / `TargetGroup` dimension value: the ARN's part after `loadbalancer/` or `:` (AWS's own). */
function arnDimension(arn: string, marker: string): string | null {
  const at = arn.indexOf(marker);
  return at < 0 ? null : arn.slice(at + (marker.startsWith(':') ? 1 : 0));
}

/**
 * The alarms a load balancer should have. `reservedUnits`: the LCUs of its confirmed reservation (null: none, so
 * no LCU alarm; undefined: not known this cycle, so the caller keeps what exists). An ALB/NLB without an ARN gets
 * none: its metrics are named by the ARN (said by the metric reads).
 */
export function desiredAlarms(
  target: AlarmTarget,
  options: { stage: string; surgeQueueShare: number; reservedUnits: number | null | undefined },
): DesiredAlarm[] {
  // The key as the tag (at most 256 characters) and the description (at most 1,024) carry it.
  const shown =
    target.key.length <= 256 && SAFE_KEY.test(target.key) ? target.key : hashedKey(target.key, 256 - HASHED_TAIL);
  const base = (signal: string, what: string) => ({
    name: alarmName(options.stage, target.key, signal),
    key: target.key,
    signal,
    description: `${managedMarker(options.stage)} ${shown}: ${what} (elbscope reads this alarm's state; no actions)`,
    period: PERIOD_SECONDS,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: 'notBreaching' as const,
    tags: [
      { Key: 'elbscope:stage', Value: options.stage },
      { Key: 'elbscope:load-balancer', Value: shown },
      { Key: 'elbscope:signal', Value: signal },
    ],
  });
  if (target.kind === 'classic') {
    const dimensions = [{ Name: 'LoadBalancerName', Value: target.name }];
    const surge = Math.round(options.surgeQueueShare * SURGE_QUEUE_MAX);
    return [
      {
        ...base('spillover', 'SpilloverCount Sum > 0 in a minute (requests dropped: the surge queue is full)'),
        namespace: 'AWS/ELB',
        metricName: 'SpilloverCount',
        statistic: 'Sum',
        dimensions,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
      },
      {
        ...base('surge-queue', `SurgeQueueLength Maximum > ${surge} of its 1,024 in a minute`),
        namespace: 'AWS/ELB',
        metricName: 'SurgeQueueLength',
        statistic: 'Maximum',
        dimensions,
        threshold: surge,
        comparisonOperator: 'GreaterThanThreshold',
      },
    ];
  }
  const lb = target.arn && parseLoadBalancerArn(target.arn) ? arnDimension(target.arn, 'loadbalancer/') : null;
  if (!lb) return [];
  const value = lb.slice('loadbalancer/'.length);
  const namespace = target.kind === 'application' ? 'AWS/ApplicationELB' : 'AWS/NetworkELB';
  const dimensions = [{ Name: 'LoadBalancer', Value: value }];
  const out: DesiredAlarm[] = [];
  if (target.kind === 'application')
    out.push({
      ...base('rejected-connections', 'RejectedConnectionCount Sum > 0 in a minute (the connection limit reached)'),
      namespace,
      metricName: 'RejectedConnectionCount',
      statistic: 'Sum',
      dimensions,
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  if (options.reservedUnits)
    out.push(
      target.kind === 'application'
        ? {
            ...base('lcu-above-reservation', `PeakLCUs per-minute Sum > the ${options.reservedUnits} LCUs reserved`),
            namespace,
            metricName: 'PeakLCUs',
            statistic: 'Sum',
            dimensions,
            threshold: options.reservedUnits,
            comparisonOperator: 'GreaterThanThreshold',
          }
        : {
            ...base(
              'lcu-above-reservation',
              `ProcessedBytes per-minute Sum above the ${options.reservedUnits} LCUs reserved (2.2 Mbps an LCU)`,
            ),
            namespace,
            metricName: 'ProcessedBytes',
            statistic: 'Sum',
            dimensions,
            threshold: bytesPerMinuteOf(options.reservedUnits),
            comparisonOperator: 'GreaterThanThreshold',
          },
    );
  for (const tg of target.targetGroups ?? []) {
    const group = arnDimension(tg, ':targetgroup/');
    const name = group?.split('/')[1];
    if (!group || !name) continue;
    out.push({
      ...base(`tg-${name}-unhealthy`, `UnHealthyHostCount Maximum > 0 in target group ${name}`),
      namespace,
      metricName: 'UnHealthyHostCount',
      statistic: 'Maximum',
      dimensions: [
        { Name: 'TargetGroup', Value: group },
        { Name: 'LoadBalancer', Value: value },
      ],
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  }
  return out;
}

/** An NLB's reserved LCUs as ProcessedBytes a minute: units × 2.2 Mbps × 60 s / 8 bits. */
function bytesPerMinuteOf(units: number): number {
  return Math.round((units * NLB_MBPS_PER_LCU * 1e6 * 60) / 8);
}
