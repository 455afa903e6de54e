import type { LoadBalancerKind } from '../nodes/kind';
import type { MetricPoints } from './cloudwatch';
import type { Reservation } from './reservation';

/** What AWS said of a load balancer's capacity in one cycle (absent parts were not asked this cycle). */
export interface CapacityReading {
  /**
   * CloudWatch datapoints of the window read, per metric. A metric with `[]` had a
   * well-formed, empty result (0 only for REPORTED_ONLY_WHEN_NON_ZERO); a metric
   * missing here is unknown for the whole window.
   */
  metrics?: MetricPoints;
  /**
   * The window read: `[start, end)`, ISO; `trailingFrom`: the first minute of the
   * trailing window re-read for late datapoints (absent: `start`).
   */
  window?: { start: string; end: string; trailingFrom?: string };
  /**
   * The kind the metrics were read for (which metric is reserved-LCU use); absent in readings from before it was kept.
   */
  kind?: LoadBalancerKind;
  /**
   * Its CloudWatch alarms' states this cycle, per signal (capacity.mode "alarms"): what made elbscope read the
   * figures, kept with the observation for the audit.
   */
  alarms?: Record<string, { state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'unknown'; since: string | null }>;
  /** The LCU reservation (ALB/NLB); null: the load balancer has none to have (a Classic ELB). */
  reservation?: Reservation | null;
}
