import type { BenchResult } from './lib';
import { type METRICS, metricsOf } from '../shared/capacity/cloudwatch';
import type { MeasuredCalls } from './alarm-calls';

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
  /** A standard-resolution alarm: $0.10 per alarm metric per month. */
  alarmMetricMonth: 0.1,
  /**
   * Other CloudWatch API requests (DescribeAlarms, PutMetricAlarm): the first million a month are free, then $0.01 per
   * 1,000; priced here without the free tier (the stricter reading: other tools may use it up).
   */
  apiRequest: 0.01 / 1000,
};

/** Minutes in a month of 30 days. */
const MONTH_MINUTES = 60 * 24 * 30;

/**
 * Load balancers a region and account's DescribeAlarms is shared by, for pricing one (one call a cycle lists them
 * all): the bench assumes 10. Alone in its region and account, a load balancer bears all 43,200 calls a month.
 */
const LBS_PER_REGION_ACCOUNT = 10;

/**
 * CloudWatch's part per load balancer and month in each mode, from the calls measured (bench/alarm-calls.ts: a day of
 * one-minute cycles with one spillover, scaled to 30 days, so 30 spillovers a month): alarms kept × $0.10, the alarm
 * API's requests (DescribeAlarms shared by LBS_PER_REGION_ACCOUNT load balancers; no free tier counted), metrics
 * requested through GetMetricData.
 */
export function measuredCapacityCost(m: MeasuredCalls): {
  alarms: number;
  requests: number;
  metrics: number;
  total: number;
} {
  const scale = MONTH_MINUTES / (m.hours * 60);
  const alarms = m.alarms * PRICE.alarmMetricMonth;
  const requests = ((m.describeAlarms / LBS_PER_REGION_ACCOUNT) * scale + m.putMetricAlarm) * PRICE.apiRequest;
  const metrics = m.metricsRequested * scale * PRICE.cloudwatchMetric;
  return { alarms, requests, metrics, total: alarms + requests + metrics };
}

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

export function cost(
  measuredCycleMs: number,
  options = { memoryMb: 256, apiLatencyMs: 100 },
  measured?: { alarms: MeasuredCalls; polling: MeasuredCalls },
): BenchResult {
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
  // capacity.mode "alarms" beside every-minute polling, from the calls measured against the lab's CloudWatch (one
  // Classic ELB, one spillover in the run; DescribeAlarms is one call per region and account, priced here as the
  // load balancer's alone, the most it can cost it).
  if (measured) {
    for (const [mode, m] of Object.entries(measured)) {
      const c = measuredCapacityCost(m);
      rows.push([
        `CloudWatch, classic, mode "${mode}" (measured over ${m.hours} h)`,
        `${m.alarms} alarms $${c.alarms.toFixed(4)} + ${m.describeAlarms + m.putMetricAlarm} alarm API calls $${c.requests.toFixed(4)} + ${m.metricsRequested} metrics requested $${c.metrics.toFixed(4)} = **$${c.total.toFixed(4)}** per load balancer per month; spillover read ${m.detectedAfterMinutes ?? 'never'} min after its minute ended`,
      ]);
    }
    const a = measuredCapacityCost(measured.alarms).total;
    checks.push({
      target: `≤ $0.40 per load balancer per month with alarms ($${a.toFixed(4)}; polling every minute $${measuredCapacityCost(measured.polling).total.toFixed(4)})`,
      ok: a <= 0.4,
    });
    checks.push({
      target: `spillover read within 2 minutes of its datapoint with alarms (${measured.alarms.detectedAfterMinutes} min after its minute ended)`,
      ok: measured.alarms.detectedAfterMinutes !== null && measured.alarms.detectedAfterMinutes <= 2,
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
