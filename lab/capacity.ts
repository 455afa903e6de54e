import { NLB_MBPS_PER_LCU } from '../shared/capacity/cloudwatch';
import type { Reservation } from '../shared/capacity/reservation';
import type { Clock, ClockTimer } from '../shared/clock';
import type { MetricQuery, MetricSource } from './cloudwatch/server';
import type { LabElb } from './elb';

/** One minute of the lab load balancer's own numbers (what its CloudWatch serves). */
interface Minute {
  requests: number;
  spillover: number;
  surgeMax: number;
  /** Per-second LCUs: their peak, and their sum / 60 (the LCUs the minute consumed). */
  lcuPeak: number;
  lcuSum: number;
  newConnections: number;
  activeSum: number;
  seconds: number;
}

/** Requests one node forwards per second before the rest waits in the surge queue (the lab's model). */
const DEFAULT_NODE_RPS = 20;
/** A Classic ELB's surge queue holds at most 1,024 requests (AWS). */
const SURGE_MAX = 1024;
/**
 * An ALB LCU covers 25 new connections a second (AWS pricing's first dimension);
 * the lab counts one connection per request, and the same for an NLB's flows (800
 * new TCP flows/s per NLCU would make the lab's LCUs invisible): a model, said so.
 */
const REQUESTS_PER_LCU = 25;
/**
 * Bytes the lab's NLB processes a request: an NLB LCU is 2.2 Mbps (AWS), so 25
 * requests a second of 11,000 bytes are one LCU, as for the ALB above, and
 * AWS's "(bytes per min)*8/60/(10^6)/2.2" of a minute gives its average LCUs.
 */
export const NLB_BYTES_PER_REQUEST = (NLB_MBPS_PER_LCU * 1e6) / 8 / REQUESTS_PER_LCU;

/**
 * The lab load balancer's capacity, second by second on the lab's clock: the load
 * offered (its real requests, plus synthetic load a scenario adds), the nodes'
 * forwarding capacity (`nodeRps` per advertised node), the surge queue that takes
 * the excess (1,024 at most) and the spillover beyond it (Classic), LCUs from the
 * request rate (ALB PeakLCUs; an NLB's ProcessedBytes, which AWS measures its reserved
 * LCUs by), and an LCU reservation's life (ALB/NLB). Its numbers are
 * what the lab's CloudWatch and ELB API serve: the ground truth tests compare with.
 */
export class LabCapacity {
  private readonly minutes = new Map<number, Minute>();
  private queue = 0;
  private synthetic = 0;
  private realThisSecond = 0;
  private timer: ClockTimer | null = null;
  private readonly timers = new Set<ClockTimer>();
  reservation: Reservation | null = null;

  constructor(
    private readonly elb: LabElb,
    private readonly clock: Clock,
    readonly nodeRps = DEFAULT_NODE_RPS,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => this.tick(), 1000);
  }

  stop(): void {
    this.timer?.cancel();
    for (const t of this.timers) t.cancel();
  }

  /** A request reached a node (real traffic). */
  request(): void {
    this.realThisSecond++;
  }

  /** Add (or remove, negative) synthetic offered load, in requests a second. */
  offer(rps: number): void {
    this.synthetic = Math.max(0, this.synthetic + rps);
  }

  /**
   * Reserve `lcu` LCUs (ALB/NLB): every AZ pending, provisioned after `provisionAfterMs`, as ModifyCapacityReservation
   * then AWS do.
   */
  reserve(lcu: number, provisionAfterMs: number): void {
    const azs = [...new Set(this.elb.nodes.map((n) => n.az))].sort();
    const perAz = Math.ceil(lcu / Math.max(azs.length, 1));
    const zone = (state: 'pending' | 'provisioned') =>
      Object.fromEntries(
        azs.map((az) => [az, { state, reason: null, effectiveUnits: state === 'provisioned' ? perAz : 0 }]),
      );
    this.reservation = { capacityUnits: lcu, decreaseRequestsRemaining: 4, azs: zone('pending') };
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      if (this.reservation?.capacityUnits === lcu) this.reservation = { ...this.reservation, azs: zone('provisioned') };
    }, provisionAfterMs);
    this.timers.add(t);
  }

  /** The surge queue right now (ground truth for tests). */
  surgeQueue(): number {
    return this.queue;
  }

  private tick(): void {
    const offered = this.realThisSecond + this.synthetic;
    this.realThisSecond = 0;
    const capacity = this.nodeRps * Math.max(1, this.elb.nodes.filter((n) => n.advertised).length);
    let spill = 0;
    if (this.elb.kind === 'classic') {
      this.queue = Math.max(0, this.queue + offered - capacity);
      if (this.queue > SURGE_MAX) {
        spill = this.queue - SURGE_MAX;
        this.queue = SURGE_MAX;
      }
    }
    // The second that just ended belongs to the minute it started in.
    const start = Math.floor((this.clock.now() - 1000) / 60_000) * 60_000;
    const m = this.minutes.get(start) ?? {
      requests: 0,
      spillover: 0,
      surgeMax: 0,
      lcuPeak: 0,
      lcuSum: 0,
      newConnections: 0,
      activeSum: 0,
      seconds: 0,
    };
    const lcu = offered / REQUESTS_PER_LCU;
    m.requests += offered;
    m.spillover += spill;
    m.surgeMax = Math.max(m.surgeMax, this.queue);
    m.lcuPeak = Math.max(m.lcuPeak, lcu);
    m.lcuSum += lcu / 60;
    m.newConnections += offered;
    m.activeSum += offered;
    m.seconds++;
    this.minutes.set(start, m);
  }

  /** The lab's CloudWatch source: this load balancer's minutes, as CloudWatch would report them. */
  readonly source: MetricSource = (q: MetricQuery) => {
    if (!this.isMine(q)) return [];
    const out: [number, number][] = [];
    for (const [start, m] of this.minutes) {
      if (start < q.start || start >= q.end) continue;
      const v = this.value(q.metricName, m);
      // SurgeQueueLength, SpilloverCount, RejectedConnectionCount are reported only when non-zero (AWS).
      if (v === null || (v === 0 && REPORTED_WHEN_NON_ZERO.has(q.metricName))) continue;
      out.push([start, v]);
    }
    return out;
  };

  private isMine(q: MetricQuery): boolean {
    if (this.elb.kind === 'classic')
      return q.namespace === 'AWS/ELB' && q.dimensions.LoadBalancerName === this.elb.options.name;
    const arn = this.elb.arn ?? '';
    const dimension = arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
    return (
      q.namespace === (this.elb.kind === 'application' ? 'AWS/ApplicationELB' : 'AWS/NetworkELB') &&
      q.dimensions.LoadBalancer === dimension
    );
  }

  private value(metric: string, m: Minute): number | null {
    switch (metric) {
      case 'SurgeQueueLength':
        return m.surgeMax;
      case 'SpilloverCount':
        return m.spillover;
      case 'RequestCount':
        return m.requests;
      case 'HealthyHostCount':
        return 1;
      case 'UnHealthyHostCount':
        return 0;
      case 'HTTPCode_ELB_5XX':
      case 'HTTPCode_ELB_5XX_Count':
      case 'TCP_ELB_Reset_Count':
        return m.spillover;
      case 'RejectedConnectionCount':
        return 0;
      case 'ActiveConnectionCount':
        return m.activeSum;
      case 'ActiveFlowCount':
        return m.seconds === 0 ? 0 : m.activeSum / m.seconds;
      case 'NewConnectionCount':
      case 'NewFlowCount':
        return m.newConnections;
      case 'ConsumedLCUs':
        return round(m.lcuSum);
      // An ALB's, published only while an LCU reservation is in place: one datapoint a minute (its per-minute Sum).
      case 'PeakLCUs':
        return this.elb.kind === 'application' && this.reservation ? round(m.lcuPeak) : null;
      // An NLB's (no PeakLCUs): reported only when traffic flows, as every ELB metric.
      case 'ProcessedBytes':
        return this.elb.kind === 'network' && m.requests > 0 ? m.requests * NLB_BYTES_PER_REQUEST : null;
      default:
        return null;
    }
  }
}

const REPORTED_WHEN_NON_ZERO = new Set(['SurgeQueueLength', 'SpilloverCount', 'RejectedConnectionCount']);

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
