import type { BenchResult } from './lib';
import { type METRICS, metricsOf } from '../shared/capacity/cloudwatch';

/**
 * Benchmark 5: monthly cost per load balancer at a 1-minute schedule, from the
 * measured cycle time, the configured memory, and the writes/reads a cycle makes
 * (see shared/cycle/record.ts: quiet cycles read, they do not write).
 * Prices: us-east-1, arm64, on-demand, as published in 2026.
 */
const PRICE = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  ddbWrite: 0.625 / 1e6, // per write request unit (1 KB)
  ddbRead: 0.125 / 1e6, // per read request unit (4 KB strongly consistent)
  ddbStorageGbMonth: 0.25,
  snsPublish: 0.5 / 1e6,
  /** CloudWatch GetMetricData: $0.01 per 1,000 metrics requested (not per datapoint returned). */
  cloudwatchMetric: 0.01 / 1000,
};

/**
 * CloudWatch's part per load balancer and month: metrics per read × reads. DescribeCapacityReservation is free (ELB
 * Describe calls are not billed).
 */
export function cloudwatchCost(
  kind: keyof typeof METRICS,
  everyMinutes: number,
  set: 'all' | 'essential' = 'all',
): number {
  return ((60 * 24 * 30) / everyMinutes) * metricsOf(kind, set).length * PRICE.cloudwatchMetric;
}

/**
 * The settings to try, most useful first: every minute with every metric, down to hourly reads of the essential ones.
 */
const SETTINGS = [1, 2, 5, 10, 15, 30, 60].flatMap((every) =>
  (['all', 'essential'] as const).map((set) => ({ every, set })),
);

export function cost(measuredCycleMs: number, options = { memoryMb: 256, apiLatencyMs: 100 }): BenchResult {
  const invocations = 60 * 24 * 30; // one a minute
  const rows: [string, string][] = [];
  const checks: BenchResult['checks'] = [];
  for (const perInvocation of [1, 10, 100]) {
    // Wall time of one invocation: the measured cycle for these load balancers plus
    // a real EC2 API round trip (one batched call per region), which the lab does not have.
    const seconds = (measuredCycleMs * Math.max(1, perInvocation / 10) + options.apiLatencyMs) / 1000;
    const lambda =
      (invocations * (seconds * (options.memoryMb / 1024) * PRICE.lambdaGbSecond + PRICE.lambdaRequest)) /
      perInvocation;
    // Per load balancer and cycle: state read (1 RRU), pre-warm query (0.5), outbox query (1 per invocation);
    // writes only on change: ~1 state write (3 WRU) and 1 observation (1 WRU) per 15 minutes at rest.
    const reads = invocations * (1.5 + 1 / perInvocation);
    const writes = (invocations / 15) * 4;
    const storageGb = (invocations / 15) * 0.7e-6; // compact observations, ~0.7 KB, 30-day TTL
    const dynamo = reads * PRICE.ddbRead + writes * PRICE.ddbWrite + storageGb * PRICE.ddbStorageGbMonth;
    const sns = 30 * PRICE.snsPublish; // a generous 30 alerts a month
    const total = lambda + dynamo + sns;
    rows.push([
      `${perInvocation} load balancer(s) per invocation`,
      `Lambda $${lambda.toFixed(4)} + DynamoDB $${dynamo.toFixed(4)} + SNS $${sns.toFixed(5)} = **$${total.toFixed(4)}** per load balancer per month`,
    ]);
    checks.push({
      target: `< $0.05 per load balancer per month with ${perInvocation} per invocation ($${total.toFixed(4)})`,
      ok: total < 0.05,
    });
  }
  // AWS's capacity signals (issue 12), per kind: billed per metric requested, so the read interval
  // (capacity.cloudwatch.everyMinutes) and the metric set (capacity.cloudwatch.metrics) are the levers;
  // one read returns every minute since the last. Added to the 10-per-invocation total above.
  const base = Number(/\$(\d+\.\d+)\)$/.exec(checks[1]?.target ?? '')?.[1] ?? 0);
  for (const kind of ['classic', 'application', 'network'] as const) {
    const under = SETTINGS.find(({ every, set }) => base + cloudwatchCost(kind, every, set) < 0.05) ?? null;
    const price = (every: number, set: 'all' | 'essential') => `$${cloudwatchCost(kind, every, set).toFixed(4)}`;
    rows.push([
      `CloudWatch, ${kind}`,
      `${metricsOf(kind).length} metrics every minute ${price(1, 'all')}; ${metricsOf(kind, 'essential').length} essential every minute ${price(1, 'essential')}; all every 60 min ${price(60, 'all')}; essential every 60 min ${price(60, 'essential')} per load balancer per month`,
    ]);
    const total = base + cloudwatchCost(kind, 1, 'all');
    checks.push({
      target: `< $0.05 per load balancer per month with CloudWatch every minute, ${kind} ($${total.toFixed(4)}, over by $${Math.max(0, total - 0.05).toFixed(4)}; under with ${under ? `everyMinutes ${under.every}, metrics "${under.set}"` : 'no setting'})`,
      ok: total < 0.05,
    });
  }
  return {
    title: '5. Cost per load balancer per month at a 1-minute schedule',
    rows: [
      [`measured cycle (benchmark 1)`, `${measuredCycleMs.toFixed(1)} ms`],
      [
        'assumed',
        `${options.memoryMb} MB arm64, +${options.apiLatencyMs} ms for the real EC2 API per invocation, cycle time ×(n/10) above 10 load balancers`,
      ],
      ...rows,
    ],
    checks,
  };
}
