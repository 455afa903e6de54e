import { spawnSync } from 'node:child_process';
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
import { AWS_METRIC_UNITS, negotiateFormat, OpenMetrics, serveMetrics } from '../../../shared/metrics/openmetrics';
import { METRICS } from '../../../shared/capacity/cloudwatch';
import { localStore } from '../../../shared/store/local';
import { runElbscope } from '../../helpers/cli';
import { requireBinary } from '../../helpers/servers';

// Prometheus's own checker (Debian package `prometheus`, installed by .ci/run): in CI a missing one fails the test.
const promtool = requireBinary(['promtool']);
/** What Prometheus's scraper sends (scrape.go, acceptHeader with OpenMetrics enabled). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

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
      // Prometheus asks for OpenMetrics: it gets it, ending with `# EOF`.
      const res = await fetch(server.url, { headers: { accept: PROMETHEUS_ACCEPT } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(res.headers.get('vary')).toBe('Accept');
      const text = await res.text();
      expect(text.endsWith('\n# EOF\n')).toBe(true);
      const page = samples(text);

      // A plain scrape (curl, an agent that does not ask) gets the text format 0.0.4, the same samples, and
      // Prometheus's own checker finds nothing in it.
      const plainPage = async () => {
        const plain = await fetch(server.url);
        expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        return plain.text();
      };
      const plainText = await plainPage();
      expect(plainText).not.toContain('# EOF');
      expect(samples(plainText)).toEqual(page);
      const check = (input: string) => {
        const r = spawnSync(promtool as string, ['check', 'metrics'], { input, encoding: 'utf8', timeout: 30_000 });
        return { status: r.status, findings: `${r.stdout}${r.stderr}` };
      };
      if (promtool) {
        expect(check(plainText)).toEqual({ status: 0, findings: '' });
        // …where the OpenMetrics page read as text has counters (`x` declared, `x_total` sampled) wanting help.
        expect(check(text).findings).toContain('elbscope_alerts_sent_total no help text');
      }
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
      // One unit per family: with every CloudWatch metric elbscope reads on the page, each is in the family of its
      // unit, the CloudWatch name kept as the label, and the page still passes promtool.
      const everyMetric = Object.fromEntries(
        Object.values(METRICS).flatMap((k) => k.metrics.map((m): [string, [string, number][]] => [m.name, [['t', 7]]])),
      );
      metrics.cycle([{ ...seen[0]!, capacity: { metrics: everyMetric } }], 5);
      const withAws = await plainPage();
      const aws = [...samples(withAws).keys()].filter((k) => k.startsWith('elbscope_aws_'));
      expect(aws).toHaveLength(Object.keys(everyMetric).length);
      for (const key of aws) {
        const [, unit, metric] = /^elbscope_aws_([a-z]+)\{load_balancer="prom",metric="(\w+)"\}$/.exec(key) ?? [];
        expect(AWS_METRIC_UNITS[metric ?? ''], key).toBe(unit);
      }
      if (promtool) expect(check(withAws)).toEqual({ status: 0, findings: '' });
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('negotiates as client_golang does: OpenMetrics only when the Accept header prefers it, else the text format', () => {
    expect(negotiateFormat(undefined)).toBe('text');
    expect(negotiateFormat('*/*')).toBe('text');
    expect(negotiateFormat(PROMETHEUS_ACCEPT)).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text')).toBe('openmetrics');
    expect(negotiateFormat('text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5')).toBe('text');
    expect(negotiateFormat('text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.9')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=0')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=2.0.0')).toBe('text');
    expect(negotiateFormat('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily')).toBe('text');
  });

  it('gives every CloudWatch metric elbscope reads a unit, so none is left off the page', () => {
    const read = Object.values(METRICS).flatMap((k) => k.metrics.map((m) => m.name));
    for (const name of read) expect(AWS_METRIC_UNITS[name], name).toBeDefined();
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
