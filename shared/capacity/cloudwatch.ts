import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { describeError, MAX_ERROR_CHARS } from '../errors';
import {
  BrokenMetricAnswerError,
  MAX_METRIC_PAGES,
  MetricAnswerReader,
  type AskedQuery,
  type QueryOutcome,
} from './metric-answers';
import { parseLoadBalancerArn } from '../nodes/lb-name';
import type { LoadBalancerKind } from '../nodes/kind';

/** One metric elbscope reads, and the statistic that answers its question. */
export interface MetricSpec {
  name: string;
  stat: 'Maximum' | 'Minimum' | 'Sum' | 'Average';
  /**
   * One of the few the events need (`capacity.cloudwatch.metrics: "essential"` reads only these: a third of the cost).
   */
  essential?: true;
}

/**
 * What AWS itself says about each kind's capacity, and the statistic its guide compares:
 * - Classic (https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html):
 *   its distress is the surge queue (at most 1,024 requests; Maximum) and the spillover
 *   beyond it (requests dropped; Sum).
 * - ALB: "compare the per-minute Sum of PeakLCUs against your reserved capacity value"
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/monitor-capacity-unit-reservation.html):
 *   PeakLCUs is read as its per-minute Sum, never Maximum.
 * - NLB: AWS documents no PeakLCUs for it; reserved-LCU use is "the per-minute ProcessedBytes
 *   metric", converted "(bytes per min)*8/60/(10^6)/2.2" (1 LCU = 2.2 Mbps)
 *   (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/monitor-capacity-unit-reservation.html):
 *   ProcessedBytes Sum, converted by lcuOfNlbBytesPerMinute.
 * ConsumedLCUs (Sum) is charted beside them. Health counts use Minimum / Maximum so one bad minute shows.
 */
export const METRICS: Record<LoadBalancerKind, { namespace: string; metrics: MetricSpec[] }> = {
  classic: {
    namespace: 'AWS/ELB',
    metrics: [
      { name: 'SurgeQueueLength', stat: 'Maximum', essential: true },
      { name: 'SpilloverCount', stat: 'Sum', essential: true },
      { name: 'HealthyHostCount', stat: 'Minimum' },
      { name: 'UnHealthyHostCount', stat: 'Maximum' },
      { name: 'RequestCount', stat: 'Sum' },
      { name: 'HTTPCode_ELB_5XX', stat: 'Sum' },
    ],
  },
  application: {
    namespace: 'AWS/ApplicationELB',
    metrics: [
      { name: 'ActiveConnectionCount', stat: 'Sum' },
      { name: 'NewConnectionCount', stat: 'Sum' },
      { name: 'RejectedConnectionCount', stat: 'Sum', essential: true },
      { name: 'ConsumedLCUs', stat: 'Sum' },
      { name: 'PeakLCUs', stat: 'Sum', essential: true },
      { name: 'HTTPCode_ELB_5XX_Count', stat: 'Sum' },
    ],
  },
  network: {
    namespace: 'AWS/NetworkELB',
    metrics: [
      { name: 'ActiveFlowCount', stat: 'Average' },
      { name: 'NewFlowCount', stat: 'Sum' },
      { name: 'ConsumedLCUs', stat: 'Sum' },
      { name: 'ProcessedBytes', stat: 'Sum', essential: true },
      { name: 'TCP_ELB_Reset_Count', stat: 'Sum' },
    ],
  },
};

/**
 * What AWS reports only when non-zero ("Reporting criteria: There is a nonzero value"):
 * a well-formed result for that query with no datapoint in a minute read was 0 there.
 * Nothing else is: a metric missing from the points, or a minute of another metric
 * with no datapoint, is unknown, never 0. Also what decides storing an observation (distress).
 */
export const REPORTED_ONLY_WHEN_NON_ZERO = ['SurgeQueueLength', 'SpilloverCount', 'RejectedConnectionCount'] as const;

/**
 * Reserved-LCU use (PeakLCUs, ProcessedBytes), which AWS sends only while traffic flows: "Elastic Load Balancing
 * reports metrics to CloudWatch only when requests are flowing through the load balancer … If there are no requests
 * flowing through the load balancer or no data for a metric, the metric is not reported" (CloudWatch metrics for your
 * Application / Network Load Balancer). So a minute with no datapoint in a well-formed result for that query is no
 * use (0) — a reservation nobody sends traffic through is the idlest there is — while a metric missing from the
 * points (no result, a failed or broken read) stays unknown.
 */
const ABSENT_WITHOUT_TRAFFIC = ['PeakLCUs', 'ProcessedBytes'] as const;

/** Metrics whose minute with no datapoint, in a well-formed result, is 0 (see the two lists above). */
export const ZERO_WHEN_NO_DATAPOINT: readonly string[] = [...REPORTED_ONLY_WHEN_NON_ZERO, ...ABSENT_WITHOUT_TRAFFIC];

/** An NLB's LCU: 2.2 Mbps of processed bytes (NLB LCU reservation guide, above). */
export const NLB_MBPS_PER_LCU = 2.2;

/** An NLB's reserved-LCU use in a minute from its ProcessedBytes Sum there: AWS's "(bytes per min)*8/60/(10^6)/2.2". */
export function lcuOfNlbBytesPerMinute(bytes: number): number {
  return (bytes * 8) / 60 / 1e6 / NLB_MBPS_PER_LCU;
}

/** The metrics read for a kind: all of them, or only those the events need. */
export function metricsOf(kind: LoadBalancerKind, set: 'all' | 'essential' = 'all'): MetricSpec[] {
  return METRICS[kind].metrics.filter((m) => set === 'all' || m.essential);
}

/** The load balancer to read, as the metrics' dimension names it. */
export interface MetricTarget {
  /** Its key (what the result is filed under). */
  key: string;
  kind: LoadBalancerKind;
  /** Classic: its name. */
  name: string;
  /** ALB/NLB: its ARN (the `LoadBalancer` dimension is `app/<name>/<id>`). */
  arn?: string | undefined;
}

/** Datapoints per metric, `[ISO time, value]`, oldest first. */
export type MetricPoints = Record<string, [string, number][]>;

/** Metrics one GetMetricData call may carry ("as many as 500 MetricDataQuery structures"). */
const MAX_QUERIES_PER_CALL = 500;

/** 1-minute datapoints: what a 1-minute schedule reads, each once (ELB metrics are published per minute). */
const PERIOD_SECONDS = 60;

/** Reads a region's (and account's) load balancers' metrics; per target its points, or the error that stopped it. */
export type MetricsLookup = (
  targets: MetricTarget[],
  window: { start: Date; end: Date },
) => Promise<Map<string, MetricPoints | Error>>;

/**
 * A MetricsLookup over GetMetricData: every target's metrics in as few calls as
 * the 500-query limit allows (usually one per region and account), every page
 * (at most MAX_METRIC_PAGES). Every answer is checked (metric-answers.ts): one
 * that is not what CloudWatch documents fails the whole call's targets, an Error
 * each naming the call, the query and what was wrong, never points, never zeros;
 * so does a failed call. A query CloudWatch refused (Forbidden, InternalError)
 * fails its target; a target that cannot be named (an ALB/NLB without an ARN)
 * gets its own Error. A metric with an empty, well-formed result gets `[]`.
 */
export function createMetricsLookup(cloudwatch: CloudWatchClient, set: 'all' | 'essential' = 'all'): MetricsLookup {
  return async (targets, window) => {
    const out = new Map<string, MetricPoints | Error>();
    const queries: { query: MetricDataQuery; asked: AskedQuery; key: string }[] = [];
    for (const target of targets) {
      const dimension = dimensionOf(target);
      if (dimension instanceof Error) {
        out.set(target.key, dimension);
        continue;
      }
      const { namespace } = METRICS[target.kind];
      out.set(target.key, {});
      for (const m of metricsOf(target.kind, set)) {
        const id = `m${queries.length}`;
        queries.push({
          key: target.key,
          asked: {
            id,
            metric: m.name,
            stat: m.stat,
            periodSeconds: PERIOD_SECONDS,
            label: `${m.name} of ${target.name}`,
          },
          query: {
            Id: id,
            ReturnData: true,
            MetricStat: {
              Metric: { Namespace: namespace, MetricName: m.name, Dimensions: [dimension] },
              Period: PERIOD_SECONDS,
              Stat: m.stat,
            },
          },
        });
      }
    }
    for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
      const batch = queries.slice(i, i + MAX_QUERIES_PER_CALL);
      let outcomes: Map<string, QueryOutcome>;
      try {
        outcomes = await readCall(cloudwatch, batch, window);
      } catch (err) {
        const why =
          err instanceof BrokenMetricAnswerError
            ? `the answer is broken: ${err.message}`
            : err instanceof Error && !('$metadata' in err)
              ? err.message
              : describeError(err);
        const error = new Error(oneLine(`CloudWatch GetMetricData: ${why}`));
        for (const q of batch) out.set(q.key, error);
        continue;
      }
      for (const q of batch) {
        const outcome = outcomes.get(q.asked.id) as QueryOutcome;
        const points = out.get(q.key);
        if (!points || points instanceof Error) continue;
        if ('refused' in outcome)
          out.set(
            q.key,
            new Error(oneLine(`CloudWatch GetMetricData: ${q.asked.label} (${q.asked.id}): ${outcome.refused}`)),
          );
        else
          out.set(
            q.key,
            Object.assign(points, {
              [q.asked.metric]: outcome.points.map(([t, v]) => [new Date(t).toISOString(), v] as [string, number]),
            }),
          );
      }
    }
    return out;
  };
}

/** One call's pages, each checked; every query's outcome, or the error that broke the call. */
async function readCall(
  cloudwatch: CloudWatchClient,
  batch: { query: MetricDataQuery; asked: AskedQuery }[],
  window: { start: Date; end: Date },
): Promise<Map<string, QueryOutcome>> {
  const reader = new MetricAnswerReader(
    batch.map((q) => q.asked),
    window,
  );
  const queries = batch.map((q) => q.query);
  let token: string | undefined;
  let pages = 0;
  const tokens = new Set<string>();
  do {
    if (pages === MAX_METRIC_PAGES)
      throw new Error(`still paging after ${MAX_METRIC_PAGES} pages (MAX_METRIC_PAGES); stopped`);
    const page = await cloudwatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: window.start,
        EndTime: window.end,
        ScanBy: 'TimestampAscending',
        ...(token ? { NextToken: token } : {}),
      }),
    );
    pages++;
    token = reader.page(page);
    // A token handed back twice would page (and be billed) to the bound for nothing: stop at once.
    if (token !== undefined && tokens.has(token)) throw new Error(`NextToken repeated after ${pages} pages; stopped`);
    if (token !== undefined) tokens.add(token);
  } while (token);
  return reader.finish();
}

/** An error line as elbscope keeps it: one line, at most MAX_ERROR_CHARS. */
function oneLine(text: string): string {
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return line.length <= MAX_ERROR_CHARS ? line : `${line.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/** The metrics' dimension for a target: Classic by name, v2 by the `app|net/<name>/<id>` part of its ARN. */
function dimensionOf(target: MetricTarget): { Name: string; Value: string } | Error {
  if (target.kind === 'classic') return { Name: 'LoadBalancerName', Value: target.name };
  const arn = target.arn ? parseLoadBalancerArn(target.arn) : null;
  if (!arn)
    return new Error(
      `CloudWatch: an ${target.kind === 'application' ? 'ALB' : 'NLB'}'s metrics are named by its ARN; set "arn" for ${target.key}`,
    );
  return { Name: 'LoadBalancer', Value: `${arn.type}/${arn.name}/${arn.id}` };
}
