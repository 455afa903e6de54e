import type { Clock } from '../clock';
import type { Config } from '../config/schema';
import { ElbscopeError } from '../errors';
import type { ChainedEvent } from '../detect/state';
import type { FlushResult } from '../ledger/flush';
import type { CycleDeps } from './observe-configured';
import { type ChainHeads, type RecordDeps, recordCycle } from './record';
import { type LoadBalancerSnapshot, snapshotConfigured } from './snapshot';
import type { BackendTls } from './tls-round';

/**
 * Where a cycle's figures go: CloudWatch embedded metrics in the functions (cloudWatchCycleMetrics), OpenMetrics
 * for `--metrics-listen` (the OpenMetrics class has this shape). Data out: nothing it does changes the cycle.
 */
export interface CycleMetrics {
  /** One cycle's snapshots, and how long observing them took (the wall clock's milliseconds). */
  cycle(snapshots: LoadBalancerSnapshot[], durationMs: number): void;
  /** A TLS round's results; `keyOf` names a result's load balancer (its key) from the DNS name it carries. */
  tls(results: BackendTls[], keyOf: (dnsName: string) => string): void;
  /** What one flush of the outbox delivered. */
  delivery(result: FlushResult): void;
}

/**
 * What a run records through and tells its figures to: the store, the sinks, the clock, who claims the outbox
 * (RecordDeps, less what the runner sets itself: its deadline and what recording tells it), and the metrics.
 */
export interface RunDeps {
  record: Omit<RecordDeps, 'onFlush' | 'onHead' | 'finishBy'>;
  metrics?: CycleMetrics | undefined;
}

/**
 * A cycle's deadlines on the clock `now` (epoch ms; cycleDeadlines computes them from a budget): no load balancer
 * or backend is started after `startBy`, no commit or publish after `finishBy`. Absent: none.
 */
export interface CycleBounds {
  startBy?: number | undefined;
  finishBy?: number | undefined;
  /**
   * The timer that ends waiting for a recording still under way OVERDUE_GRACE_MS after `finishBy` (a store or sink
   * whose calls hang): the cycle returns it as unrecorded. Absent: no such bound.
   */
  timer?: Pick<Clock, 'setTimeout'> | undefined;
}

/** How long after `finishBy` a recording may still run before the cycle stops waiting for it. */
const OVERDUE_GRACE_MS = 1_000;

/** A recording that outlived its cycle's deadline (a store or sink whose calls hang): what was not stored waits. */
class CycleOverdueError extends ElbscopeError {
  override name = 'CycleOverdueError';
}

/** What one cycle did, for its caller to log, print or return. */
export interface CycleRun {
  at: string;
  /** Every configured load balancer's snapshot, each carrying its key and identity (never paired by position). */
  snapshots: LoadBalancerSnapshot[];
  /** The events committed this cycle (those of a load balancer that could not be recorded are not among them). */
  events: ChainedEvent[];
  /** Each load balancer's audit-chain heads after its commit (the anchors a cycle's line carries). */
  heads: ReadonlyMap<string, ChainHeads>;
  /** What the outbox flush delivered; null when recording stopped before it. */
  flushed: FlushResult | null;
  /**
   * What stopped recording or flushing (one load balancer's store trouble does not: recordCycle says it and goes
   * on): the caller's to judge. A scheduled function throws it, so the invocation fails and is retried; `watch`
   * says it and observes again next cycle. Absent when all was recorded.
   */
  unrecorded?: unknown;
}

/**
 * One cycle, the same for the scheduled functions and `watch`: observe every configured load balancer (nodes,
 * status pages, capacity) → metrics → sample, decide, commit, store the observation (recordCycle, through the
 * ledger) → flush the outbox to the sinks → delivery metrics. It calls nothing of its caller's: what happened is
 * returned, and a failure to record is returned too (CycleRun.unrecorded), never left half-said.
 */
export async function runCycle(
  config: Config,
  at: string,
  deps: CycleDeps,
  run: RunDeps,
  bounds: CycleBounds = {},
): Promise<CycleRun> {
  // Measured on the wall clock: how long the observation really took, whatever clock the cycle runs on.
  const started = performance.now();
  const snapshots = await snapshotConfigured(config, { ...deps, startBy: bounds.startBy });
  run.metrics?.cycle(snapshots, performance.now() - started);
  const heads = new Map<string, ChainHeads>();
  let flushed: FlushResult | null = null;
  let overdue: { cancel(): void } | undefined;
  try {
    const recording = recordCycle(config, snapshots, at, {
      ...run.record,
      finishBy: bounds.finishBy,
      onHead: (lb, head) => heads.set(lb, head),
      onFlush: (result) => {
        flushed = result;
        run.metrics?.delivery(result);
      },
    });
    const { finishBy, timer } = bounds;
    const events =
      finishBy === undefined || timer === undefined
        ? await recording
        : await Promise.race([
            recording,
            new Promise<never>((_, reject) => {
              const ms = Math.max(0, finishBy - run.record.now().getTime()) + OVERDUE_GRACE_MS;
              overdue = timer.setTimeout(
                () =>
                  reject(
                    new CycleOverdueError(
                      `cycle ${at}: recording still under way ${OVERDUE_GRACE_MS} ms after its deadline (a store or sink that does not answer); what was not stored is recorded by the next cycle`,
                    ),
                  ),
                ms,
              );
            }),
          ]);
    return { at, snapshots, events, heads, flushed };
  } catch (err) {
    return { at, snapshots, events: [], heads, flushed, unrecorded: err };
  } finally {
    overdue?.cancel();
  }
}
