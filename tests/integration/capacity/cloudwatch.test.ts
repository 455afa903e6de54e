import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Lab, type LabEndpoints } from '../../../lab/lab';
import { cloudWatchState, startCloudWatch } from '../../../lab/cloudwatch/server';
import { createMetricsLookup, type MetricTarget } from '../../../shared/capacity/cloudwatch';
import { metricWindow } from '../../../shared/capacity/window';
import { createReservationLookup } from '../../../shared/capacity/reservation';
import { snapshotConfigured } from '../../../shared/cycle/snapshot';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { detectCycle, type RuleOptions } from '../../../shared/detect/rules';
import { toCycleSample } from '../../../shared/cycle/sample';
import { emptyMemory } from '../../../shared/detect/state';

// AWS's capacity signals through the real SDK to the lab's CloudWatch (held to
// GetMetricData's documented contract): batching, and an outage that costs only
// those signals, named, while nodes and backends are observed as ever.
const credentials = { accessKeyId: 'lab', secretAccessKey: 'lab' };
const options: RuleOptions = {
  confirm: { m: 2, n: 3 },
  tlsConfirm: { m: 1, n: 1 },
  repeatAfterMs: 3_600_000,
  pressureShare: 0.5,
  certWarningDays: 21,
};

describe('CloudWatch GetMetricData, batched', () => {
  it('reads 100 Classic load balancers (600 metrics) in two calls of at most 500, each datapoint where it belongs', async () => {
    const state = cloudWatchState((q) =>
      q.metricName === 'SpilloverCount' ? [[q.start + 60_000, Number(q.dimensions.LoadBalancerName?.slice(3))]] : [],
    );
    const endpoint = await startCloudWatch(state);
    try {
      const lookup = createMetricsLookup(
        new CloudWatchClient({ region: 'us-east-1', endpoint: endpoint.url, credentials, maxAttempts: 1 }),
      );
      const targets: MetricTarget[] = Array.from({ length: 100 }, (_, i) => ({
        key: `lb-${i}`,
        kind: 'classic',
        name: `web${i}`,
      }));
      const found = await lookup(targets, metricWindow(new Date('2026-11-27T10:00:30Z'), 10, 2));
      expect(state.requests.map((r) => r.MetricDataQueries?.length)).toEqual([500, 100]);
      expect(state.refused).toEqual([]);
      for (let i = 0; i < 100; i++)
        expect((found.get(`lb-${i}`) as Record<string, [string, number][]>).SpilloverCount).toEqual([
          ['2026-11-27T09:49:00.000Z', i],
        ]);
    } finally {
      await endpoint.close();
    }
  });
});

describe('CloudWatch GetMetricData, per kind', () => {
  it("asks an ALB's PeakLCUs as its per-minute Sum and an NLB's ProcessedBytes (it has no PeakLCUs), as AWS's LCU reservation guides compare them", async () => {
    const state = cloudWatchState(() => []);
    const endpoint = await startCloudWatch(state);
    try {
      const lookup = createMetricsLookup(
        new CloudWatchClient({ region: 'us-east-1', endpoint: endpoint.url, credentials, maxAttempts: 1 }),
        'essential',
      );
      const arn = (type: string, name: string) =>
        `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/${type}/${name}/50dc6c495c0c9188`;
      const found = await lookup(
        [
          { key: 'a', kind: 'application', name: 'web', arn: arn('app', 'web') },
          { key: 'n', kind: 'network', name: 'tcp', arn: arn('net', 'tcp') },
        ],
        metricWindow(new Date('2026-11-27T10:00:30Z'), 15, 2),
      );
      const asked = state.requests.flatMap((r) =>
        (r.MetricDataQueries ?? []).map(
          (q) => `${q.MetricStat?.Metric?.Namespace} ${q.MetricStat?.Metric?.MetricName} ${q.MetricStat?.Stat}`,
        ),
      );
      expect(asked).toEqual([
        'AWS/ApplicationELB RejectedConnectionCount Sum',
        'AWS/ApplicationELB PeakLCUs Sum',
        'AWS/NetworkELB ProcessedBytes Sum',
      ]);
      expect(state.refused).toEqual([]);
      // Well-formed, empty results: each metric is there with no datapoint (what the rules read as 0 only where AWS
      // reports only non-zero values).
      expect(found.get('n')).toEqual({ ProcessedBytes: [] });
    } finally {
      await endpoint.close();
    }
  });
});

describe('A CloudWatch outage', () => {
  const lab = new Lab({
    name: 'cw',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 },
    backends: [{ name: 'b1', slots: 16 }],
    idleTimeoutMs: 30_000,
    trafficWindowMs: 15_000,
  });
  let endpoints: LabEndpoints;
  let clients: { ec2: EC2Client; cloudwatch: CloudWatchClient; elbv2: ElasticLoadBalancingV2Client };
  beforeAll(async () => {
    endpoints = await lab.start();
    clients = {
      ec2: new EC2Client({ region: 'us-east-1', endpoint: endpoints.ec2Url, credentials }),
      cloudwatch: new CloudWatchClient({
        region: 'us-east-1',
        endpoint: endpoints.cloudwatchUrl,
        credentials,
        maxAttempts: 2,
      }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1', endpoint: endpoints.elbUrl, credentials }),
    };
  });
  afterAll(async () => {
    for (const c of Object.values(clients ?? {})) c.destroy();
    await lab.stop();
  });

  it('leaves nodes and backends observed, names the failure, and is observation-failed cloudwatch after M of N cycles, then recovered', async () => {
    const config = lab.monitorConfig(endpoints.dnsServer);
    const deps = {
      dns: createDnsLookup(config.dns),
      enisFor: () => createEniLookup(clients.ec2),
      now: () => new Date(),
      capacity: {
        metricsFor: () => createMetricsLookup(clients.cloudwatch),
        reservationsFor: () => createReservationLookup(clients.elbv2),
      },
    };
    const state = emptyMemory();
    const cycle = async (minute: number, failing: boolean) => {
      if (failing)
        lab.cloudwatchState.failNext.push(
          ...Array.from({ length: 2 }, () => ({
            code: 'InternalFailure',
            status: 500,
            message: 'Internal service error',
          })),
        );
      const [snapshot] = await snapshotConfigured(config, deps);
      const sample = toCycleSample(
        snapshot!,
        new Date(Date.parse('2026-11-27T10:00:00Z') + minute * 60_000).toISOString(),
      );
      // Only the failure's own events: the lab's pre-opened connections come and go with the wall clock (a loaded
      // machine sees them change).
      const events = detectCycle(state, sample, 'cw', options).filter(
        (e) => e.kind === 'observation-failed' || e.kind === 'recovered',
      );
      return { snapshot: snapshot!, sample, events: events.map((e) => [e.kind, e.status, e.details.source]) };
    };
    const first = await cycle(0, true);
    expect(first.snapshot.observation.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    expect(first.snapshot.backends.map((b) => [b.name, b.report.error])).toEqual([['b1', null]]);
    expect(first.snapshot.observation.errors).toEqual([
      {
        source: 'cloudwatch',
        message: expect.stringMatching(/^CloudWatch GetMetricData: InternalFailure: Internal service error/),
      },
    ]);
    expect(first.sample.failures).toEqual({ cloudwatch: expect.stringContaining('InternalFailure') });
    expect(first.sample.capacity?.metrics).toBeUndefined(); // never a zero in its place
    expect((await cycle(1, true)).events).toEqual([['observation-failed', 'firing', 'cloudwatch']]);
    await cycle(2, false);
    expect((await cycle(3, false)).events).toEqual([['recovered', 'event', 'cloudwatch']]);
    expect(lab.cloudwatchState.refused).toEqual([]);
  });
});
