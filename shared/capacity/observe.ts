import type { Config, LoadBalancerConfig } from '../config/schema';
import { configuredRegion, loadBalancerKey, loadBalancerName } from '../config/identity';
import type { CapacityReading } from './reading';
import { kindOf, type LoadBalancerKind } from '../nodes/kind';
import { parseLoadBalancerDnsName } from '../nodes/lb-name';
import { observedOwnName } from '../nodes/observe';
import type { Observation, ObservationError } from '../nodes/observation';
import type { MetricTarget, MetricsLookup } from './cloudwatch';
import { metricWindow } from './window';
import type { ReservationLookup } from './reservation';
import type { AlarmApi } from './alarm-api';
import { syncAndReadAlarms, type AlarmCycle } from './alarm-cycle';

/** The AWS clients the capacity signals need, per region and role; null: not read. */
export interface CapacityDeps {
  metricsFor: ((region: string, roleArn?: string) => MetricsLookup) | null;
  reservationsFor: ((region: string, roleArn?: string) => ReservationLookup) | null;
  /**
   * CloudWatch's alarm calls per region and role, for `capacity.mode: "alarms"`; absent or null: the metrics are
   * polled every `cloudwatch.everyMinutes` whatever the mode says (a caller without alarm clients).
   */
  alarmsFor?: ((region: string, roleArn?: string) => AlarmApi) | null;
  /** The stage in the alarms' names (the deployed stage, ELBSCOPE_STAGE); default `capacity.alarms.stage`. */
  stage?: string | undefined;
}

/** One load balancer's capacity reading of a cycle, and what failed (never a zero in its place). */
export interface CapacityObservation {
  reading: CapacityReading | undefined;
  errors: ObservationError[];
}

/** Minutes of datapoints a read looks back over beyond its interval, so a missed cycle or two is caught up. */
const CATCH_UP_MINUTES = 8;

/**
 * AWS's own capacity signals for every configured load balancer, after its nodes
 * were observed (their kind decides which metrics exist): one batched
 * GetMetricData per region and account, and DescribeCapacityReservation per
 * ALB/NLB, each only on the minutes the configuration says. Never throws: a failed
 * call is an `errors` entry of each load balancer it was for.
 */
export async function observeCapacity(
  config: Config,
  observations: Observation[],
  at: Date,
  deps: CapacityDeps,
): Promise<CapacityObservation[]> {
  const minute = Math.floor(at.getTime() / 60_000);
  const { cloudwatch, reservationEveryMinutes } = config.capacity;
  const metricsOn = deps.metricsFor !== null && cloudwatch.enabled;
  // Alarms: CloudWatch evaluates every minute; elbscope reads the figures when an alarm says so, and hourly for charts.
  const alarmMode = metricsOn && config.capacity.mode === 'alarms' && Boolean(deps.alarmsFor);
  const chartRead = alarmMode && minute % config.capacity.alarms.chartEveryMinutes === 0;
  const readMetrics = metricsOn && (alarmMode || minute % cloudwatch.everyMinutes === 0);
  const readReservations =
    deps.reservationsFor !== null && reservationEveryMinutes > 0 && minute % reservationEveryMinutes === 0;
  const results: CapacityObservation[] = observations.map(() => ({ reading: undefined, errors: [] }));
  if (!readMetrics && !readReservations) return results;

  // Back far enough that the observations stored for reports (at least every observationEveryMinutes) chart every
  // minute, and over the trailing window: datapoints that arrived late since are read (GetMetricData is billed per
  // metric asked, not per datapoint: the longer window costs nothing more). With alarms, a read covers the minutes
  // since the last chart read; no settle time: an alarm in ALARM has seen its datapoint, and a late one is in the
  // trailing window of the next read.
  const lookback = alarmMode
    ? Math.max(config.capacity.alarms.chartEveryMinutes, cloudwatch.trailingMinutes)
    : Math.max(
        cloudwatch.everyMinutes +
          cloudwatch.settleMinutes +
          Math.max(CATCH_UP_MINUTES, config.store.observationEveryMinutes),
        cloudwatch.trailingMinutes,
      );
  const window = metricWindow(at, lookback, alarmMode ? 0 : cloudwatch.settleMinutes);
  const trailingFrom = new Date(window.end.getTime() - cloudwatch.trailingMinutes * 60_000).toISOString();
  // The alarms' sync and states, one DescribeAlarms per region and account (shared/capacity/alarm-cycle.ts).
  const alarmCycle: AlarmCycle | null = alarmMode ? syncAndReadAlarms(config, deps, at) : null;
  const groups = new Map<
    string,
    { region: string; roleArn?: string; members: { index: number; target: MetricTarget }[] }
  >();
  const reservationJobs: Promise<void>[] = [];
  config.loadBalancers.forEach((lb, index) => {
    const observation = observations[index];
    const result = results[index] as CapacityObservation;
    if (!observation) return;
    const kind = kindFor(lb, observation);
    // A name of the customer's (no "name" or "arn") is read as the load balancer its CNAMEs led to.
    const own = lb.name || lb.arn ? null : observedOwnName(observation);
    const region = configuredRegion(lb) ?? own?.region ?? configuredRegion(lb, config.region);
    if (!kind || !region) {
      result.errors.push({
        source: 'cloudwatch',
        code: 'no-kind',
        message: `${lb.dnsName}: ${!region ? 'no region' : 'the kind (Classic, ALB, NLB) is not known yet'}, so AWS's capacity signals were not read`,
      });
      return;
    }
    result.reading = {};
    alarmCycle?.watch(
      index,
      {
        key: loadBalancerKey(lb),
        kind,
        name: own?.name ?? loadBalancerName(lb),
        arn: lb.arn,
        targetGroups: lb.targetGroups,
      },
      region,
      lb.roleArn,
    );
    if (readMetrics) {
      const key = `${region}|${lb.roleArn ?? ''}`;
      const group = groups.get(key) ?? { region, ...(lb.roleArn ? { roleArn: lb.roleArn } : {}), members: [] };
      group.members.push({
        index,
        target: { key: `${index}`, kind, name: own?.name ?? loadBalancerName(lb), arn: lb.arn },
      });
      groups.set(key, group);
    }
    if (readReservations) {
      if (kind === 'classic') result.reading.reservation = null;
      else if (alarmMode && !lb.arn) alarmCycle?.reserved(index, undefined);
      else if (!lb.arn)
        result.errors.push({
          source: 'reservation',
          message: `${loadBalancerKey(lb)}: an ${kind === 'application' ? 'ALB' : 'NLB'}'s LCU reservation is read by its ARN; set "arn"`,
        });
      else {
        const lookup = (deps.reservationsFor as NonNullable<CapacityDeps['reservationsFor']>)(region, lb.roleArn);
        reservationJobs.push(
          lookup(lb.arn).then(
            (r) => {
              (result.reading as CapacityReading).reservation = r;
              alarmCycle?.reserved(index, r.capacityUnits);
            },
            (err: unknown) =>
              void result.errors.push({
                source: 'reservation',
                message: err instanceof Error ? err.message : String(err),
              }),
          ),
        );
      }
    }
  });

  // With alarms: the reservations first (the LCU alarm's line), then the alarms, then only the figures they ask for.
  const readNow = alarmCycle ? await alarmCycle.settle(reservationJobs, results, chartRead) : null;
  const metricJobs = [...groups.values()].map(async (group) => {
    if (readNow) group.members = group.members.filter((m) => readNow.has(m.index));
    if (group.members.length === 0) return;
    const found = await (deps.metricsFor as NonNullable<CapacityDeps['metricsFor']>)(group.region, group.roleArn)(
      group.members.map((m) => m.target),
      window,
    ).catch((err: unknown) => err as Error);
    for (const { index, target } of group.members) {
      const result = results[index] as CapacityObservation;
      const points = found instanceof Error ? found : found.get(target.key);
      if (points === undefined || points instanceof Error)
        result.errors.push({
          source: 'cloudwatch',
          message: (points ?? new Error('CloudWatch: no answer for this load balancer')).message,
        });
      else
        Object.assign(result.reading as CapacityReading, {
          metrics: points,
          kind: target.kind,
          window: { start: window.start.toISOString(), end: window.end.toISOString(), trailingFrom },
        });
    }
  });
  await Promise.all([...metricJobs, ...reservationJobs]);
  return results;
}

/**
 * The kind to read metrics for: what the observation found, else what the configuration says (its ARN, an NLB-shaped
 * name).
 */
function kindFor(lb: LoadBalancerConfig, observation: Observation): LoadBalancerKind | null {
  return observation.kind ?? kindOf({ enis: null, arn: lb.arn, dnsName: parseLoadBalancerDnsName(lb.dnsName) });
}
