import pLimit, { type LimitFunction } from 'p-limit';
import type { BackendConfig, Config } from '../config/schema';
import { attributeReading, type ReadingAttribution } from '../backends/attribute';
import { probeBackend } from '../backends/probe';
import type { BackendReport } from '../backends/report';
import { probeTls, type TlsFinding } from '../backends/tls-probe';
import type { Observation } from '../nodes/observation';
import { observeConfigured, type CycleDeps } from './observe-configured';

/** One backend in a cycle: its status page, and whose pre-opened connections those are. */
export interface BackendSnapshot {
  name: string;
  report: BackendReport;
  /** R per node of this load balancer (null when the page has no per-client table). */
  readingByNode: ReadingAttribution | null;
}

/** Everything one cycle saw of one load balancer. */
export interface LoadBalancerSnapshot {
  observation: Observation;
  backends: BackendSnapshot[];
}

/** The part of a snapshot that is stored for reports. */
export interface CompactSnapshot {
  observation: Pick<Observation, 'azs' | 'errors'> & { nodes: Pick<Observation['nodes'][number], 'ip' | 'hostname' | 'az' | 'eniId' | 'state'>[] };
  backends: { name: string; reading: number | null; error: string | null }[];
}

/** A backend's display name: configured, else the host of its status URL or TLS target. */
export function backendName(backend: BackendConfig): string {
  if (backend.name) return backend.name;
  if (backend.statusUrl) return new URL(backend.statusUrl).host;
  return backend.tls?.target ?? 'backend';
}

/**
 * One cycle: every load balancer's nodes and, in the same cycle, every backend's
 * status page (a bounded number of fetches at once across all load balancers).
 */
export async function snapshotConfigured(config: Config, deps: CycleDeps): Promise<LoadBalancerSnapshot[]> {
  const fetchLimit = pLimit(config.backendProbe.concurrency);
  const perHost = new Map<string, LimitFunction>();
  const [observations, reports] = await Promise.all([
    observeConfigured(config, deps),
    Promise.all(config.loadBalancers.map((lb) => probeBackends(lb.backends, config, fetchLimit, perHost))),
  ]);
  return observations.map((observation, i) => ({
    observation,
    backends: (reports[i] ?? []).map(({ name, report }) => ({
      name,
      report,
      readingByNode: attributeReading(report.readingByClient, observation.nodes),
    })),
  }));
}

function probeBackends(backends: BackendConfig[], config: Config, limit: LimitFunction, perHost: Map<string, LimitFunction>) {
  const { timeoutMs, maxBytes } = config.backendProbe;
  return Promise.all(
    backends
      .filter((b) => b.statusUrl !== undefined)
      .map((b) => {
        const host = new URL(b.statusUrl as string).host;
        let hostLimit = perHost.get(host);
        if (!hostLimit) perHost.set(host, (hostLimit = pLimit(config.backendProbe.perHost)));
        const run = hostLimit;
        // The host's bound outside the global one: a busy host does not hold global slots while it waits.
        return run(() =>
          limit(async () => ({
            name: backendName(b),
            report: await probeBackend(b.statusUrl as string, { limits: { timeoutMs, maxBytes }, acceptFilterNone: b.acceptFilterNone }),
          })),
        );
      }),
  );
}

/** One TLS finding, with the load balancer and backend it belongs to. */
export interface BackendTls {
  loadBalancer: string;
  backend: string;
  finding: TlsFinding;
}

/** Probe the TLS target of every configured backend that has one. */
export async function probeConfiguredTls(config: Config, now: () => Date): Promise<BackendTls[]> {
  const limit = pLimit(config.backendProbe.concurrency);
  const { timeoutMs, certWarningDays } = config.backendProbe;
  const jobs = config.loadBalancers.flatMap((lb) =>
    lb.backends.flatMap((b) => {
      const tls = b.tls;
      if (!tls) return [];
      return [
        limit(async () => {
          const finding = await probeTls(tls.target, { servername: tls.servername, pinSha256: tls.pinSha256, timeoutMs, now });
          if (finding.daysLeft !== null && finding.daysLeft >= 0 && finding.daysLeft <= certWarningDays) {
            finding.findings.push(`certificate expires in ${finding.daysLeft} days (${finding.validTo})`);
          }
          return { loadBalancer: lb.dnsName, backend: backendName(b), finding };
        }),
      ];
    }),
  );
  return Promise.all(jobs);
}
