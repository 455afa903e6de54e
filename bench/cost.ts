import type { BenchResult } from './lib';

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
};

export function cost(measuredCycleMs: number, options = { memoryMb: 256, apiLatencyMs: 100 }): BenchResult {
  const invocations = 60 * 24 * 30; // one a minute
  const rows: [string, string][] = [];
  const checks: BenchResult['checks'] = [];
  for (const perInvocation of [1, 10, 100]) {
    // Wall time of one invocation: the measured cycle for these load balancers plus
    // a real EC2 API round trip (one batched call per region), which the lab does not have.
    const seconds = (measuredCycleMs * Math.max(1, perInvocation / 10) + options.apiLatencyMs) / 1000;
    const lambda = (invocations * (seconds * (options.memoryMb / 1024) * PRICE.lambdaGbSecond + PRICE.lambdaRequest)) / perInvocation;
    // Per load balancer and cycle: state read (1 RRU), pre-warm query (0.5), outbox query (1 per invocation);
    // writes only on change: ~1 state write (3 WRU) and 1 observation (1 WRU) per 15 minutes at rest.
    const reads = invocations * (1.5 + 1 / perInvocation);
    const writes = (invocations / 15) * 4;
    const storageGb = (invocations / 15) * 0.7e-6; // compact observations, ~0.7 KB, 30-day TTL
    const dynamo = reads * PRICE.ddbRead + writes * PRICE.ddbWrite + storageGb * PRICE.ddbStorageGbMonth;
    const sns = 30 * PRICE.snsPublish; // a generous 30 alerts a month
    const total = lambda + dynamo + sns;
    rows.push([`${perInvocation} load balancer(s) per invocation`, `Lambda $${lambda.toFixed(4)} + DynamoDB $${dynamo.toFixed(4)} + SNS $${sns.toFixed(5)} = **$${total.toFixed(4)}** per load balancer per month`]);
    checks.push({ target: `< $0.05 per load balancer per month with ${perInvocation} per invocation ($${total.toFixed(4)})`, ok: total < 0.05 });
  }
  return {
    title: '5. Cost per load balancer per month at a 1-minute schedule',
    rows: [[`measured cycle (benchmark 1)`, `${measuredCycleMs.toFixed(1)} ms`], ['assumed', `${options.memoryMb} MB arm64, +${options.apiLatencyMs} ms for the real EC2 API per invocation, cycle time ×(n/10) above 10 load balancers`], ...rows],
    checks,
  };
}
