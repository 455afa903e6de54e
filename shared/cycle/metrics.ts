import type { LoadBalancerSnapshot } from './snapshot';

/** The part of Powertools Metrics elbscope uses; a port so tests can record the calls. */
export interface MetricsPort {
  singleMetric(): {
    addDimension(name: string, value: string): void;
    addMetric(name: string, unit: 'Count', value: number): void;
  };
}

/**
 * CloudWatch metrics of one cycle (embedded metric format through Powertools):
 * NodesProvisioned / NodesAdvertised per load balancer and AZ, Reading per
 * backend. A value that could not be observed is not emitted (no silent zero).
 */
export function emitCycleMetrics(metrics: MetricsPort, names: string[], snapshots: LoadBalancerSnapshot[]): void {
  snapshots.forEach((snapshot, i) => {
    const lb = names[i] ?? snapshot.observation.loadBalancer;
    for (const [az, count] of Object.entries(snapshot.observation.azs)) {
      for (const [metric, value] of [['NodesProvisioned', count.provisioned], ['NodesAdvertised', count.advertised]] as const) {
        const m = metrics.singleMetric();
        m.addDimension('LoadBalancer', lb);
        m.addDimension('AZ', az);
        m.addMetric(metric, 'Count', value);
      }
    }
    for (const backend of snapshot.backends) {
      if (backend.report.reading === null) continue;
      const m = metrics.singleMetric();
      m.addDimension('LoadBalancer', lb);
      m.addDimension('Backend', backend.name);
      m.addMetric('Reading', 'Count', backend.report.reading);
    }
  });
}
