import type { AlertSink } from '../alerts/sinks';
import { loadBalancerName, type Config } from '../config/schema';
import type { ElbEvent } from '../detect/events';
import { detectCycle, detectTls, type RuleOptions } from '../detect/rules';
import { toCycleSample, toTlsSample } from '../detect/sample';
import { emptyState, type ChainedEvent, type LoadBalancerState } from '../detect/state';
import { describeError } from '../errors';
import { chainEvents } from '../store/chain';
import { StoreConflictError, type Store } from '../store/store';
import type { BackendTls, LoadBalancerSnapshot } from './snapshot';

/** What recording a cycle needs. */
export interface RecordDeps {
  store: Store;
  sink: AlertSink;
  now: () => Date;
  /** Who is publishing (a request id, a process id), for outbox claims. */
  claimant: string;
  /** How long a claim on an outbox event lasts: longer than one publish may take. */
  leaseMs?: number;
  warn?: (message: string, data?: Record<string, unknown>) => void;
}

/** The rule options from the configuration. */
export function ruleOptions(config: Config): RuleOptions {
  return {
    confirm: config.detect.confirm,
    tlsConfirm: config.detect.tlsConfirm,
    repeatAfterMs: config.detect.repeatAfterMinutes * 60_000,
    pressureShare: config.detect.pressureShare,
    certWarningDays: config.backendProbe.certWarningDays,
  };
}

/**
 * Decide a load balancer's events and commit them with its state in one
 * versioned write (the commit point), then append them to the audit trail and
 * the outbox. A cycle already recorded (a retried invocation with the same cycle
 * time) decides nothing again; a write that loses a race re-reads and decides again.
 */
export async function commitEvents(store: Store, lb: string, decide: (state: LoadBalancerState) => ElbEvent[]): Promise<ChainedEvent[]> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.getState(lb);
    const state = current?.state ?? emptyState();
    const events = decide(state);
    const { chained, head } = chainEvents(events, state.chain);
    state.chain = head;
    state.pending = [...state.pending, ...chained];
    if (await store.putState(lb, state, current?.version ?? 0)) {
      await drainPending(store, lb);
      return chained;
    }
  }
  throw new StoreConflictError(`${store.description}: the state of ${lb} kept changing under 8 attempts to write it`);
}

/** Move committed events from the state into the audit trail and outbox (idempotent; also recovers a crash). */
export async function drainPending(store: Store, lb: string): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.getState(lb);
    if (!current || current.state.pending.length === 0) return;
    for (const record of current.state.pending) await store.appendEvent(record);
    const done = new Set(current.state.pending.map((e) => e.id));
    current.state.pending = current.state.pending.filter((e) => !done.has(e.id));
    if (await store.putState(lb, current.state, current.version)) return;
  }
}

/** Record one observation cycle: observations, events, then publish what is in the outbox. */
export async function recordCycle(config: Config, snapshots: LoadBalancerSnapshot[], cycleAt: string, deps: RecordDeps): Promise<ChainedEvent[]> {
  const options = ruleOptions(config);
  const all: ChainedEvent[] = [];
  for (const [i, snapshot] of snapshots.entries()) {
    const lbConfig = config.loadBalancers[i];
    if (!lbConfig) continue;
    const lb = loadBalancerName(lbConfig);
    await deps.store.putObservation({ loadBalancer: lb, at: cycleAt, snapshot }, config.store.observationTtlDays);
    const prewarms = await deps.store.listPrewarms(lb);
    const sample = toCycleSample(snapshot, cycleAt);
    all.push(
      ...(await commitEvents(deps.store, lb, (state) => {
        if (state.lastCycleAt !== null && state.lastCycleAt >= cycleAt) return []; // recorded already
        return detectCycle(state, sample, lb, options, prewarms);
      })),
    );
  }
  await flushOutbox(deps);
  return all;
}

/** Record one TLS probe round, grouped by load balancer, then publish. */
export async function recordTls(config: Config, results: BackendTls[], at: string, deps: RecordDeps): Promise<ChainedEvent[]> {
  const options = ruleOptions(config);
  const all: ChainedEvent[] = [];
  for (const lbConfig of config.loadBalancers) {
    const lb = loadBalancerName(lbConfig);
    const mine = results.filter((r) => r.loadBalancer === lbConfig.dnsName);
    if (mine.length === 0) continue;
    const sample = toTlsSample(mine, at);
    all.push(
      ...(await commitEvents(deps.store, lb, (state) => {
        if (state.lastTlsAt !== null && state.lastTlsAt >= at) return [];
        return detectTls(state, sample, lb, options);
      })),
    );
  }
  await flushOutbox(deps);
  return all;
}

/**
 * Publish every event in the outbox, oldest first: claim it, publish, mark it
 * published. A failed publish is released and retried by the next cycle, so no
 * alert is lost; an event already marked is never published again.
 */
export async function flushOutbox(deps: RecordDeps): Promise<{ published: string[]; failed: { id: string; error: string }[] }> {
  const published: string[] = [];
  const failed: { id: string; error: string }[] = [];
  for (const event of await deps.store.listOutbox()) {
    if (!(await deps.store.claimOutbox(event.id, deps.claimant, deps.now(), deps.leaseMs ?? 120_000))) continue;
    try {
      const { messageId } = await deps.sink.publish(event);
      await deps.store.markPublished(event, deps.now(), messageId);
      published.push(event.id);
    } catch (err) {
      await deps.store.releaseOutbox(event.id);
      failed.push({ id: event.id, error: describeError(err) });
      deps.warn?.(`publishing ${event.id} to ${deps.sink.description} failed; the next cycle retries it`, { error: describeError(err) });
    }
  }
  return { published, failed };
}
