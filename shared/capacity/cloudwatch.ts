import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { describeError } from '../errors';
import { parseLoadBalancerArn } from '../nodes/lb-name';
import type { LoadBalancerKind } from '../nodes/kind';

/** One metric elbscope reads, and the statistic that answers its question. */
export interface MetricSpec {
  name: string;
  stat: 'Maximum' | 'Minimum' | 'Sum' | 'Average';
  /** One of the few the events need (`capacity.cloudwatch.metrics: "essential"` reads only these: a third of the cost). */
  essential?: true;
}

/**
 * What AWS itself says about each kind's capacity (CloudWatch metrics for Classic
 * Load Balancers, Application Load Balancers, Network Load Balancers):
 * Classic's distress is its surge queue (at most 1,024 requests; Maximum) and its
 * spillover (requests dropped; Sum); ALBs and NLBs are sized in LCUs (ConsumedLCUs
 * Sum, PeakLCUs Maximum: only with an LCU reservation). Health counts use Minimum /
 * Maximum so one bad minute shows.
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
      { name: 'PeakLCUs', stat: 'Maximum', essential: true },
      { name: 'HTTPCode_ELB_5XX_Count', stat: 'Sum' },
    ],
  },
  network: {
    namespace: 'AWS/NetworkELB',
    metrics: [
      { name: 'ActiveFlowCount', stat: 'Average' },
      { name: 'NewFlowCount', stat: 'Sum' },
      { name: 'ConsumedLCUs', stat: 'Sum' },
      { name: 'PeakLCUs', stat: 'Maximum', essential: true },
      { name: 'TCP_ELB_Reset_Count', stat: 'Sum' },
    ],
  },
};

/** What AWS reports only when non-zero: a requested one with no datapoint in a minute read was 0 there. Also what decides storing an observation (distress). */
export const REPORTED_ONLY_WHEN_NON_ZERO = ['SurgeQueueLength', 'SpilloverCount', 'RejectedConnectionCount'] as const;

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
export const MAX_QUERIES_PER_CALL = 500;

/** 1-minute datapoints: what a 1-minute schedule reads, each once (ELB metrics are published per minute). */
export const PERIOD_SECONDS = 60;

/**
 * The window a cycle asks for: minutes that ended at least `settleMinutes` ago
 * (ELB datapoints can arrive late; a minute is read once it has settled), back
 * `lookbackMinutes` (cycles missed in between are caught up). The rules keep a
 * cursor, so a datapoint read by an earlier cycle is never counted again.
 */
export function metricWindow(at: Date, lookbackMinutes: number, settleMinutes: number): { start: Date; end: Date } {
  const end = new Date(Math.floor(at.getTime() / 60_000) * 60_000 - settleMinutes * 60_000);
  return { start: new Date(end.getTime() - lookbackMinutes * 60_000), end };
}

/** Reads a region's (and account's) load balancers' metrics; per target its points, or the error that stopped it. */
export type MetricsLookup = (targets: MetricTarget[], window: { start: Date; end: Date }) => Promise<Map<string, MetricPoints | Error>>;

/**
 * A MetricsLookup over GetMetricData: every target's metrics in as few calls as
 * the 500-query limit allows (usually one per region and account), every page.
 * A failed call fails its targets (an Error each), never gives zeros; a target
 * that cannot be named (an ALB/NLB without an ARN) gets its own Error.
 */
export function createMetricsLookup(cloudwatch: CloudWatchClient, set: 'all' | 'essential' = 'all'): MetricsLookup {
  return async (targets, window) => {
    const out = new Map<string, MetricPoints | Error>();
    const queries: { query: MetricDataQuery; key: string; metric: string }[] = [];
    for (const target of targets) {
      const dimension = dimensionOf(target);
      if (dimension instanceof Error) {
        out.set(target.key, dimension);
        continue;
      }
      const { namespace } = METRICS[target.kind];
      const metrics = metricsOf(target.kind, set);
      out.set(target.key, Object.fromEntries(metrics.map((m) => [m.name, []])));
      for (const m of metrics) {
        const id = `m${queries.length}`;
        queries.push({ key: target.key, metric: m.name, query: { Id: id, ReturnData: true, MetricStat: { Metric: { Namespace: namespace, MetricName: m.name, Dimensions: [dimension] }, Period: PERIOD_SECONDS, Stat: m.stat } } });
      }
    }
    const byId = new Map(queries.map((q) => [q.query.Id as string, q]));
    for (let i = 0; i < queries.length; i += MAX_QUERIES_PER_CALL) {
      const batch = queries.slice(i, i + MAX_QUERIES_PER_CALL);
      try {
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: batch.map((q) => q.query), StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending', ...(token ? { NextToken: token } : {}) }));
          if (!page.MetricDataResults) throw new Error('the answer has no MetricDataResults: not that API\'s response');
          for (const result of page.MetricDataResults) {
            const q = byId.get(result.Id ?? '');
            if (!q) continue;
            const points = out.get(q.key);
            if (!points || points instanceof Error) continue;
            if (result.StatusCode === 'Forbidden' || result.StatusCode === 'InternalError') {
              out.set(q.key, new Error(`GetMetricData ${q.metric}: ${result.StatusCode}${result.Messages?.[0]?.Value ? ` (${result.Messages[0].Value})` : ''}`));
              continue;
            }
            const times = result.Timestamps ?? [];
            const values = result.Values ?? [];
            for (let j = 0; j < Math.min(times.length, values.length); j++) {
              const v = values[j] as number;
              const t = times[j] as Date;
              if (!Number.isFinite(v) || Number.isNaN(t.getTime())) throw new Error(`GetMetricData ${q.metric}: a datapoint that is not one (${String(v)} at ${String(t)})`);
              (points[q.metric] ??= []).push([t.toISOString(), v]);
            }
          }
          token = page.NextToken;
          // A token repeated for ever would page for ever: a window of 10 one-minute points needs one page.
          if (++pages >= 20 && token) throw new Error(`still paging after ${pages} pages; stopped`);
        } while (token);
      } catch (err) {
        const error = new Error(`CloudWatch GetMetricData: ${err instanceof Error && !('$metadata' in err) ? err.message : describeError(err)}`);
        for (const q of batch) out.set(q.key, error);
      }
    }
    for (const points of out.values()) if (!(points instanceof Error)) for (const list of Object.values(points)) list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return out;
  };
}

/** The metrics' dimension for a target: Classic by name, v2 by the `app|net/<name>/<id>` part of its ARN. */
function dimensionOf(target: MetricTarget): { Name: string; Value: string } | Error {
  if (target.kind === 'classic') return { Name: 'LoadBalancerName', Value: target.name };
  const arn = target.arn ? parseLoadBalancerArn(target.arn) : null;
  if (!arn) return new Error(`CloudWatch: an ${target.kind === 'application' ? 'ALB' : 'NLB'}'s metrics are named by its ARN; set "arn" for ${target.key}`);
  return { Name: 'LoadBalancer', Value: `${arn.type}/${arn.name}/${arn.id}` };
}
