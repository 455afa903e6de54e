import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, openMetricsContentType, type OpenMetricsContentType } from 'prom-client';
import type { LoadBalancerSnapshot } from '../cycle/snapshot';
import type { FlushResult } from '../ledger/flush';
import { tlsRoundFailures, type BackendTls } from '../cycle/tls-round';
import { failuresOf } from '../cycle/sample';
import { nameResolved, wasSkipped } from '../nodes/observation';

/**
 * elbscope's observations as OpenMetrics for Prometheus (prom-client), named as
 * Prometheus asks: an `elbscope_` prefix, base units in the name (`_seconds`),
 * `_total` on counters, snake_case labels. Gauges hold the last cycle's values;
 * a load balancer, AZ or backend that is gone from a cycle is gone from the page.
 */
export class OpenMetrics {
  readonly registry = new Registry<OpenMetricsContentType>();
  private readonly nodes: Gauge;
  private readonly reading: Gauge;
  private readonly busy: Gauge;
  private readonly idle: Gauge;
  private readonly slots: Gauge;
  private readonly certDays: Gauge;
  private readonly up: Gauge;
  private readonly cycleSeconds: Gauge;
  private readonly aws: Gauge;
  private readonly failures: Counter;
  private readonly sent: Counter;
  private readonly undeliverable: Counter;

  constructor() {
    this.registry.setContentType(openMetricsContentType);
    const registers = [this.registry];
    this.nodes = new Gauge({
      name: 'elbscope_nodes',
      help: 'Load balancer nodes per Availability Zone: provisioned (ENIs) and advertised (in DNS).',
      labelNames: ['load_balancer', 'az', 'state'],
      registers,
    });
    this.reading = new Gauge({
      name: 'elbscope_backend_reading_connections',
      help: "A backend's connections with no request yet (Apache R): pre-opened by a Classic ELB, or slow clients.",
      labelNames: ['load_balancer', 'backend'],
      registers,
    });
    this.busy = new Gauge({
      name: 'elbscope_backend_busy_workers',
      help: "A backend's busy worker slots, R included.",
      labelNames: ['load_balancer', 'backend'],
      registers,
    });
    this.idle = new Gauge({
      name: 'elbscope_backend_idle_workers',
      help: "A backend's idle worker slots.",
      labelNames: ['load_balancer', 'backend'],
      registers,
    });
    this.slots = new Gauge({
      name: 'elbscope_backend_worker_slots',
      help: "A backend's worker slots (Apache's scoreboard).",
      labelNames: ['load_balancer', 'backend'],
      registers,
    });
    this.certDays = new Gauge({
      name: 'elbscope_certificate_days_left',
      help: "Days until a backend's TLS certificate expires (negative: expired).",
      labelNames: ['load_balancer', 'backend'],
      registers,
    });
    this.up = new Gauge({
      name: 'elbscope_up',
      help: '1 when the last cycle saw the load balancer (its name resolved), 0 when it did not.',
      labelNames: ['load_balancer'],
      registers,
    });
    this.cycleSeconds = new Gauge({
      name: 'elbscope_cycle_duration_seconds',
      help: 'How long the last observation cycle took.',
      registers,
    });
    this.aws = new Gauge({
      name: 'elbscope_aws_metric',
      help: "The latest CloudWatch datapoint elbscope read of a load balancer's metric (SurgeQueueLength, SpilloverCount, PeakLCUs, …).",
      labelNames: ['load_balancer', 'metric'],
      registers,
    });
    this.failures = new Counter({
      name: 'elbscope_observation_failures',
      help: 'Observations that failed, by source (dns, eni, backend, cloudwatch, reservation, tls).',
      labelNames: ['source'],
      registers,
    });
    this.sent = new Counter({ name: 'elbscope_alerts_sent', help: 'Alerts published.', registers });
    this.undeliverable = new Counter({
      name: 'elbscope_alerts_undeliverable',
      help: 'Alerts a sink refused for good.',
      registers,
    });
    for (const source of ['dns', 'eni', 'backend', 'cloudwatch', 'reservation', 'tls'])
      this.failures.inc({ source }, 0);
    this.sent.inc(0);
    this.undeliverable.inc(0);
  }

  /** One cycle's snapshots (what the report and alerts come from) and how long the cycle took. */
  cycle(snapshots: LoadBalancerSnapshot[], durationMs: number): void {
    for (const g of [this.nodes, this.reading, this.busy, this.idle, this.slots, this.up, this.aws]) g.reset();
    this.cycleSeconds.set(durationMs / 1000);
    for (const s of snapshots) {
      if (wasSkipped(s.observation)) continue;
      const lb = s.name;
      this.up.set({ load_balancer: lb }, nameResolved(s.observation) ? 1 : 0);
      for (const [az, c] of Object.entries(s.observation.azs)) {
        this.nodes.set({ load_balancer: lb, az, state: 'provisioned' }, c.provisioned);
        this.nodes.set({ load_balancer: lb, az, state: 'advertised' }, c.advertised);
      }
      for (const b of s.backends) {
        const labels = { load_balancer: lb, backend: b.name };
        if (b.report.reading !== null) this.reading.set(labels, b.report.reading);
        if (b.report.busy !== null) this.busy.set(labels, b.report.busy);
        if (b.report.idle !== null) this.idle.set(labels, b.report.idle);
        if (b.report.slots !== null) this.slots.set(labels, b.report.slots);
      }
      for (const [metric, points] of Object.entries(s.capacity?.metrics ?? {})) {
        const last = points.at(-1);
        if (last) this.aws.set({ load_balancer: lb, metric }, last[1]);
      }
      // The rules' own reading of what failed, so the page and the alerts agree.
      const failures = failuresOf(s);
      for (const source of Object.keys(failures))
        this.failures.inc({ source: source.startsWith('backend:') ? 'backend' : source });
    }
  }

  /**
   * A TLS round: days left per backend certificate, the handshakes that failed, and the policy lookups that did (source
   * tls).
   */
  tls(results: BackendTls[], keyOf: (dnsName: string) => string): void {
    for (const r of results) {
      if (r.finding.daysLeft !== null)
        this.certDays.set({ load_balancer: keyOf(r.loadBalancer), backend: r.backend }, r.finding.daysLeft);
    }
    const failed = tlsRoundFailures(results);
    if (failed > 0) this.failures.inc({ source: 'tls' }, failed);
  }

  /** What an outbox flush delivered, and what a sink refused for good. */
  delivery(result: FlushResult): void {
    this.sent.inc(result.published.length);
    this.undeliverable.inc(result.undeliverable.length);
  }
}

/**
 * The metrics listener's limits, so no client (or crowd of them) can take the
 * process's file descriptors, memory or time; the numbers are in docs/metrics.md's
 * `--metrics-listen` section too:
 * - `maxConnections` 64 at most, an eighth of the soft descriptor limit (metricsConnectionCap): a scraper keeps one
 * keep-alive connection (a Prometheus HA
 *   pair, an agent and a curl are a handful); 64 is far below the common
 *   `ulimit -n 1024`, so DNS, backends and the store keep the rest. A connection past
 *   the cap is closed as soon as it is accepted (it never holds a descriptor).
 * - `headersTimeout` 10 s, `requestTimeout` 15 s: a scrape sends its request at once;
 *   a connection that sends nothing, or a request byte by byte, is closed (checked
 *   every `connectionsCheckingInterval`, 2 s).
 * - `idleTimeout` 30 s: a socket silent that long (between scrapes too) is closed;
 *   Prometheus scrapes every 15 to 60 s and reconnects when it must.
 * - `keepAliveTimeout` 20 s: a keep-alive connection waits that long for the next scrape.
 * - `maxHeaderSize` 8 KiB: a scrape's headers are a few hundred bytes (Node's default is 16 KiB).
 * - `maxRequestsPerSocket` 1,000: a connection is recycled now and then.
 */
export const METRICS_LIMITS = {
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 20_000,
  connectionsCheckingIntervalMs: 2_000,
  maxHeaderSize: 8 * 1024,
  maxRequestsPerSocket: 1_000,
} as const;

/**
 * The listener's connection cap under a soft descriptor limit `soft` (null: not known):
 * min(64, max(4, floor(soft / 8))) — an eighth of the descriptors at most, so the store,
 * DNS, sinks and AWS calls keep the other seven (under `ulimit -n 64`: 8 connections;
 * under the common 1,024: the full 64). Not known: 64.
 */
export function metricsConnectionCap(soft: number | null): number {
  if (soft === null || !Number.isFinite(soft)) return METRICS_LIMITS.maxConnections;
  return Math.min(METRICS_LIMITS.maxConnections, Math.max(4, Math.floor(soft / 8)));
}

/** This process's soft RLIMIT_NOFILE: Linux's /proc/self/limits "Max open files" (null elsewhere, or "unlimited"). */
export function softOpenFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | null {
  try {
    const soft = /^Max open files\s+(\d+)\s/m.exec(read())?.[1];
    return soft === undefined ? null : Number(soft);
  } catch {
    return null;
  }
}

/**
 * Serve `/metrics` (OpenMetrics text) on `host:port`, within METRICS_LIMITS (the connection cap: metricsConnectionCap);
 * anything else is a 404.
 */
export async function serveMetrics(
  metrics: OpenMetrics,
  host: string,
  port: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  const limits = { ...METRICS_LIMITS, maxConnections: metricsConnectionCap(softOpenFilesLimit()) };
  const server: Server = createServer(
    {
      maxHeaderSize: limits.maxHeaderSize,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('elbscope serves /metrics only\n');
        return;
      }
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    },
  );
  server.maxConnections = limits.maxConnections;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  // A silent socket is destroyed (no 'timeout' listener of ours: Node's default destroys it).
  server.setTimeout(limits.idleTimeoutMs);
  // A bad request (headers past maxHeaderSize: 431) or a reset: Node's own clientError handling answers and closes.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    // Open connections (a scraper's keep-alive, idle ones) would hold close() until their timeouts: dropped.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
