import pLimit, { type LimitFunction } from 'p-limit';
import type { BackendConfig, Config, LoadBalancerConfig } from '../config/schema';
import { configuredRegion, identityOf, loadBalancerKey, type LoadBalancerIdentity } from '../config/identity';
import { observedOwnName } from '../nodes/observe';
import { backendName } from './backend-name';
import { attributeReading, type ReadingAttribution } from '../backends/attribute';
import { probeBackend } from '../backends/probe';
import { emptyReport, type BackendReport } from '../backends/report';
import type { Observation } from '../nodes/observation';
import { isPast } from '../deadline';
import { observeConfigured, type CycleDeps } from './observe-configured';
import { observeCapacity } from '../capacity/observe';
import type { CapacityReading } from '../capacity/reading';
import type { MetricPoints } from '../capacity/cloudwatch';

/** One backend in a cycle: its status page, and whose pre-opened connections those are. */
interface BackendSnapshot {
  name: string;
  report: BackendReport;
  /** R per node of this load balancer (null when the page has no per-client table). */
  readingByNode: ReadingAttribution | null;
}

/** Everything one cycle saw of one load balancer. */
export interface LoadBalancerSnapshot {
  /**
   * The configured load balancer's name (`loadBalancerKey`: its state and store key).
   * Carried here so that what records, counts or prints a snapshot never pairs it
   * with the configuration by position.
   */
  name: string;
  /** Account, region, name, ARN and kind (from this cycle's evidence). */
  identity: LoadBalancerIdentity;
  observation: Observation;
  backends: BackendSnapshot[];
  /** What CloudWatch and the LCU reservation said this cycle (absent: not read). */
  capacity?: CapacityReading;
}

/** The part of a snapshot that is stored for reports. */
export interface CompactSnapshot {
  observation: Pick<Observation, 'azs' | 'errors'> & {
    nodes: Pick<Observation['nodes'][number], 'ip' | 'hostname' | 'az' | 'eniId' | 'state'>[];
  };
  backends: { name: string; reading: number | null; error: string | null }[];
  /**
   * CloudWatch datapoints of the cycle's window for the metrics a report charts, and the LCUs reserved (absent: none
   * read).
   */
  capacity?: { metrics: MetricPoints; reservedLcu: number | null };
}

/**
 * One cycle: every load balancer's nodes and, in the same cycle, every backend's
 * status page (a bounded number of fetches at once across all load balancers).
 */
export async function snapshotConfigured(config: Config, deps: CycleDeps): Promise<LoadBalancerSnapshot[]> {
  const fetchLimit = pLimit(config.backendProbe.concurrency);
  const perHost = new Map<string, LimitFunction>();
  const observed = observeConfigured(config, deps);
  // AWS's capacity signals once the nodes are seen (their kind says which metrics exist), beside the status pages.
  const capacityDeps = deps.capacity;
  const capacity = capacityDeps
    ? observed.then((o) => observeCapacity(config, o, deps.now(), capacityDeps))
    : Promise.resolve(null);
  const [observations, reports, readings] = await Promise.all([
    observed,
    Promise.all(config.loadBalancers.map((lb) => probeBackends(lb.backends, config, fetchLimit, perHost, deps))),
    capacity,
  ]);
  return observations.map((observation, i) => ({
    name: loadBalancerKey(config.loadBalancers[i] as LoadBalancerConfig),
    identity: identityFrom(config.loadBalancers[i] as LoadBalancerConfig, observation, config.region),
    observation,
    backends: (reports[i] ?? []).map(({ name, report }) => ({
      name,
      report,
      readingByNode: attributeReading(report.readingByClient, observation.nodes),
    })),
    ...withCapacity(observation, readings?.[i]),
  }));
}

/**
 * Its identity, with this cycle's evidence: the kind the observation found, and for a
 * name of the customer's (no "name" or "arn") the name and region of the load balancer
 * its CNAMEs led to (what its ENIs and metrics were asked by). The key stays the configured one.
 */
function identityFrom(
  lb: LoadBalancerConfig,
  observation: Observation,
  defaultRegion: string | undefined,
): LoadBalancerIdentity {
  const identity = identityOf(lb, observation.kind, defaultRegion);
  const own = lb.name || lb.arn ? null : observedOwnName(observation);
  if (!own?.name) return identity;
  return { ...identity, name: own.name, region: configuredRegion(lb) ?? own.region ?? identity.region };
}

/** A load balancer's capacity reading for its snapshot; its errors join the observation's (named, never zeros). */
function withCapacity(
  observation: Observation,
  read: Awaited<ReturnType<typeof observeCapacity>>[number] | undefined,
): { capacity?: CapacityReading } {
  if (!read) return {};
  observation.errors.push(...read.errors);
  return read.reading ? { capacity: read.reading } : {};
}

function probeBackends(
  backends: BackendConfig[],
  config: Config,
  limit: LimitFunction,
  perHost: Map<string, LimitFunction>,
  deps: Pick<CycleDeps, 'now' | 'startBy'>,
) {
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
          limit(async () => {
            if (isPast(deps.startBy, deps.now)) {
              return {
                name: backendName(b),
                report: {
                  ...emptyReport(b.statusUrl as string),
                  error: `skipped: the cycle ran out of time (start by ${new Date(deps.startBy as number).toISOString()})`,
                },
              };
            }
            return {
              name: backendName(b),
              report: await probeBackend(b.statusUrl as string, {
                limits: { timeoutMs, maxBytes, verifyTls: b.statusTlsVerify },
                acceptFilterNone: b.acceptFilterNone,
              }),
            };
          }),
        );
      }),
  );
}
