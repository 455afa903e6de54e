import type { FlushResult } from '../ledger/flush';
import type { LoadBalancerSnapshot } from './snapshot';
import { failuresOf } from './sample';
import { wasSkipped } from '../nodes/observation';
import type { CycleMetrics } from './run';
import { tlsRoundFailures } from './tls-round';

/**
 * Every CloudWatch metric elbscope emits (namespace `elbscope`, embedded metric
 * format through Powertools, which adds the dimension `service=elbscope` to each),
 * named once: the code below, the dashboard (deploy/dashboard.cjs) and the alarms
 * (deploy/alarms.cjs) all read these names.
 */
export const METRIC = {
  /** Per load balancer and AZ: ENIs (provisioned) and nodes in DNS (advertised). */
  nodesProvisioned: 'NodesProvisioned',
  nodesAdvertised: 'NodesAdvertised',
  /** Per load balancer and backend: `R` slots on its status page. */
  reading: 'Reading',
  /** 1 per completed cycle (observe, worker batch, or TLS round): the heartbeat. */
  cycleCompleted: 'CycleCompleted',
  /**
   * Per source (dimension `Source`): load balancers (DNS, ENI, CloudWatch: metrics or alarms, Reservation) or targets
   * (StatusPage, TLS) that could not be observed this cycle; 0 when all were.
   */
  observationFailed: 'ObservationFailed',
  /** Per load balancer and backend: 1 when its status page could not be read (emitted only then). */
  backendScrapeFailed: 'BackendScrapeFailed',
  /** Load balancers a cycle did not observe because its time ran out (the next cycle does). */
  loadBalancersSkipped: 'LoadBalancersSkipped',
  /** Per outbox flush: alerts published, failed transiently (retried), refused for good (undeliverable). */
  alertsPublished: 'AlertsPublished',
  alertsDeliveryFailed: 'AlertsDeliveryFailed',
  alertsUndeliverable: 'AlertsUndeliverable',
} as const;

export const METRIC_NAMESPACE = 'elbscope';
/**
 * Values of the `Source` dimension of ObservationFailed.
 * @public deploy/metric-names.cjs reads it (through tsx) to make one alarm per source.
 */
export const OBSERVATION_SOURCES = ['DNS', 'ENI', 'StatusPage', 'TLS', 'CloudWatch', 'Reservation'] as const;
type ObservationSource = (typeof OBSERVATION_SOURCES)[number];

/** The part of Powertools Metrics elbscope uses; a port so tests can record the calls. */
export interface MetricsPort {
  singleMetric(): {
    addDimension(name: string, value: string): void;
    addMetric(name: string, unit: 'Count', value: number): void;
  };
}

function put(metrics: MetricsPort, name: string, value: number, dimensions: Record<string, string> = {}): void {
  const m = metrics.singleMetric();
  for (const [k, v] of Object.entries(dimensions)) m.addDimension(k, v);
  m.addMetric(name, 'Count', value);
}

/**
 * CloudWatch metrics of one cycle: nodes per load balancer and AZ, R per backend,
 * and the cycle's health (a completed cycle, failures by source, backends that
 * could not be read). A value that could not be observed is not emitted as a
 * number (no silent zero); its failure is counted instead.
 */
function emitCycleMetrics(metrics: MetricsPort, snapshots: LoadBalancerSnapshot[]): void {
  const failed: Record<Exclude<ObservationSource, 'TLS'>, number> = {
    DNS: 0,
    ENI: 0,
    StatusPage: 0,
    CloudWatch: 0,
    Reservation: 0,
  };
  let skipped = 0;
  for (const snapshot of snapshots) {
    if (wasSkipped(snapshot.observation)) {
      skipped++; // not a failure of DNS or EC2: the cycle's time ran out
      continue;
    }
    const lb = snapshot.name;
    for (const [az, count] of Object.entries(snapshot.observation.azs)) {
      put(metrics, METRIC.nodesProvisioned, count.provisioned, { LoadBalancer: lb, AZ: az });
      put(metrics, METRIC.nodesAdvertised, count.advertised, { LoadBalancer: lb, AZ: az });
    }
    for (const backend of snapshot.backends) {
      if (backend.report.error)
        put(metrics, METRIC.backendScrapeFailed, 1, { LoadBalancer: lb, Backend: backend.name });
      else if (backend.report.reading !== null)
        put(metrics, METRIC.reading, backend.report.reading, { LoadBalancer: lb, Backend: backend.name });
    }
    // The rules' own reading of what failed (a name that did not resolve, ENIs that could not be read).
    const failures = failuresOf(snapshot);
    if (failures.dns) failed.DNS++;
    if (failures.eni) failed.ENI++;
    // AWS's capacity signals (GetMetricData, the alarm calls, DescribeCapacityReservation): the stack alarms on them too.
    if (failures.cloudwatch) failed.CloudWatch++;
    if (failures.reservation) failed.Reservation++;
    failed.StatusPage += snapshot.backends.filter((b) => b.report.error).length;
  }
  for (const [source, n] of Object.entries(failed)) put(metrics, METRIC.observationFailed, n, { Source: source });
  put(metrics, METRIC.loadBalancersSkipped, skipped);
  put(metrics, METRIC.cycleCompleted, 1);
}

/** The TLS round's health: targets whose handshake failed (0 when none did). */
function emitTlsMetrics(metrics: MetricsPort, failedTargets: number): void {
  put(metrics, METRIC.observationFailed, failedTargets, { Source: 'TLS' satisfies ObservationSource });
}

/** What an outbox flush did, as counts (0s included, so alarms see data). */
function emitDeliveryMetrics(metrics: MetricsPort, result: FlushResult): void {
  put(metrics, METRIC.alertsPublished, result.published.length);
  put(metrics, METRIC.alertsDeliveryFailed, result.failed.length);
  put(metrics, METRIC.alertsUndeliverable, result.undeliverable.length);
}

/** The functions' CycleMetrics: the cycle's, the TLS round's and each flush's figures as CloudWatch metrics. */
export function cloudWatchCycleMetrics(metrics: MetricsPort): CycleMetrics {
  return {
    cycle: (snapshots) => emitCycleMetrics(metrics, snapshots),
    tls: (results) => emitTlsMetrics(metrics, tlsRoundFailures(results)),
    delivery: (result) => emitDeliveryMetrics(metrics, result),
  };
}
