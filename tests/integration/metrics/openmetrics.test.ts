import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { watchLoop } from '../../../cli/commands/watch';
import { Lab, type LabEndpoints } from '../../../lab/lab';
import { createMetricsLookup } from '../../../shared/capacity/cloudwatch';
import type { LoadBalancerSnapshot } from '../../../shared/cycle/snapshot';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';
import { OpenMetrics, serveMetrics } from '../../../shared/metrics/openmetrics';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';

// `--metrics-listen`: the lab watched for a cycle, /metrics scraped over HTTP, and
// every sample on the page checked against the snapshot of that same cycle.
const credentials = { accessKeyId: 'lab', secretAccessKey: 'lab' };
const lab = new Lab({
  name: 'prom',
  region: 'us-east-1',
  nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 1 },
  backends: [
    { name: 'b1', slots: 16 },
    { name: 'b2', slots: 64 },
  ],
  idleTimeoutMs: 30_000,
  trafficWindowMs: 15_000,
});
let endpoints: LabEndpoints;
let ec2: EC2Client;
let cloudwatch: CloudWatchClient;
beforeAll(async () => {
  endpoints = await lab.start();
  ec2 = new EC2Client({ region: 'us-east-1', endpoint: endpoints.ec2Url, credentials });
  cloudwatch = new CloudWatchClient({ region: 'us-east-1', endpoint: endpoints.cloudwatchUrl, credentials });
  await lab.settled();
});
afterAll(async () => {
  ec2.destroy();
  cloudwatch.destroy();
  await lab.stop();
});

/** The page as `[name{labels}, value]` pairs (OpenMetrics text; comments left out). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('OpenMetrics on --metrics-listen', () => {
  it('serves the cycle as OpenMetrics: nodes per AZ, R and workers per backend, up, failures, with Prometheus names and labels', async () => {
    const config = lab.monitorConfig(endpoints.dnsServer);
    const metrics = new OpenMetrics();
    const server = await serveMetrics(metrics, '127.0.0.1', 0);
    try {
      let seen: LoadBalancerSnapshot[] = [];
      const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-prom-')));
      const deps = {
        dns: createDnsLookup(config.dns),
        enisFor: () => createEniLookup(ec2),
        now: () => new Date(),
        capacity: { metricsFor: () => createMetricsLookup(cloudwatch), reservationsFor: null },
      };
      await watchLoop(
        config,
        deps,
        {
          store,
          sink: { description: 'none', publish: async () => undefined } as never,
          now: deps.now,
          claimant: 'test',
        },
        {
          interval: 1000,
          cycles: 1,
          tlsEveryMs: 3_600_000,
          signal: new AbortController().signal,
          metrics,
          print: (_c, snapshots) => (seen = snapshots),
        },
      );
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      const text = await res.text();
      expect(text.trimEnd().endsWith('# EOF')).toBe(true);
      const page = samples(text);
      const [s] = seen;
      expect(s?.observation.azs).toEqual({
        'us-east-1a': { provisioned: 2, advertised: 2 },
        'us-east-1b': { provisioned: 1, advertised: 1 },
      });
      for (const [az, c] of Object.entries(s!.observation.azs)) {
        expect(page.get(`elbscope_nodes{load_balancer="prom",az="${az}",state="provisioned"}`)).toBe(c.provisioned);
        expect(page.get(`elbscope_nodes{load_balancer="prom",az="${az}",state="advertised"}`)).toBe(c.advertised);
      }
      for (const b of s!.backends) {
        expect(b.report.error).toBeNull();
        expect(page.get(`elbscope_backend_reading_connections{load_balancer="prom",backend="${b.name}"}`)).toBe(
          b.report.reading,
        );
        expect(page.get(`elbscope_backend_busy_workers{load_balancer="prom",backend="${b.name}"}`)).toBe(b.report.busy);
        expect(page.get(`elbscope_backend_idle_workers{load_balancer="prom",backend="${b.name}"}`)).toBe(b.report.idle);
        expect(page.get(`elbscope_backend_worker_slots{load_balancer="prom",backend="${b.name}"}`)).toBe(
          b.report.slots,
        );
      }
      expect(page.get('elbscope_backend_worker_slots{load_balancer="prom",backend="b2"}')).toBe(64);
      expect(page.get('elbscope_up{load_balancer="prom"}')).toBe(1);
      expect(page.get('elbscope_observation_failures_total{source="dns"}')).toBe(0);
      expect(page.get('elbscope_cycle_duration_seconds')).toBeGreaterThan(0);
      // Prometheus naming: the elbscope_ prefix, snake_case, counters ending _total, a unit in the name where there is
      // one.
      for (const key of page.keys()) expect(key).toMatch(/^elbscope_[a-z_]+(\{([a-z_]+="[^"]*",?)*\})?$/);
      expect([...page.keys()].filter((k) => k.includes('_total')).every((k) => /_total(\{|$)/.test(k))).toBe(true);

      // The Grafana dashboard charts what the page has: every metric family its queries name is declared
      // (a counter family `x` is sampled as `x_total`).
      const dashboard = JSON.parse(
        readFileSync(new URL('../../../deploy/grafana/elbscope-dashboard.json', import.meta.url), 'utf8'),
      );
      const families = new Set(
        [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => (m[2] === 'counter' ? `${m[1]}_total` : m[1])),
      );
      const queried = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
        p.targets.flatMap((t) => t.expr.match(/elbscope_[a-z_]+/g) ?? []),
      );
      expect(queried.length).toBeGreaterThan(6);
      for (const name of queried) expect(families, name).toContain(name);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('refuses a listen address that is not HOST:PORT, and one it cannot bind, in one line', async () => {
    const bad = await runElbscope(['watch', '--lb', 'x-1.us-east-1.elb.amazonaws.com', '--metrics-listen', '9464']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(
      /--metrics-listen <host:port>' argument '9464' is invalid\. "9464" is not HOST:PORT/,
    );
    const taken = await serveMetrics(new OpenMetrics(), '127.0.0.1', 0);
    try {
      const port = new URL(taken.url).port;
      const busy = await runElbscope([
        'watch',
        '--lb',
        'x-1.us-east-1.elb.amazonaws.com',
        '--cycles',
        '1',
        '--store',
        mkdtempSync(join(tmpdir(), 'elbscope-prom-')),
        '--metrics-listen',
        `127.0.0.1:${port}`,
      ]);
      expect(busy.code).toBe(2);
      expect(busy.stderr.trim()).toBe(`elbscope: --metrics-listen 127.0.0.1:${port}: cannot listen there (EADDRINUSE)`);
    } finally {
      await taken.close();
    }
  });
});
