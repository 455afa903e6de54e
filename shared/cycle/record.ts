import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { classifyDeliveryError, retryDelayMs } from '../alerts/delivery';
import { describeError } from '../errors';
import { SinkError, type AlertSink } from '../alerts/sinks';
import type { Config } from '../config/schema';
import { loadBalancerKey } from '../config/identity';
import { makeEvent, type ElbEvent } from '../detect/events';
import { detectCycle, detectTls, type RuleOptions } from '../detect/rules';
import { toCycleSample, toTlsSample } from '../detect/sample';
import { emptyState, type ChainedEvent, type CycleSample, type LoadBalancerState } from '../detect/state';
import { chainEvents, chainObservation, prewarmHash, recordHash } from '../store/chain';
import { StoreConflictError, StoreRecordCorruptError, type OutboxEntry, type RecoveredRecord, type Store, type StoredEvent, type StoredObservation } from '../store/store';
import { wasSkipped } from '../nodes/observation';
import { isPast } from './deadline';
import type { CompactSnapshot, LoadBalancerSnapshot } from './snapshot';
import { REPORTED_ONLY_WHEN_NON_ZERO } from '../capacity/cloudwatch';
import type { BackendTls } from './tls-round';

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
  /** Told what each outbox flush did (for metrics: published, retried, undeliverable). */
  onFlush?: (result: FlushResult) => void;
  /** Each load balancer's audit-chain head after its commit this cycle (the anchor a log line carries). */
  onHead?: (loadBalancer: string, head: { seq: number; hash: string }) => void;
  /**
   * The cycle's end (epoch ms, on `now`'s clock): no commit or publish starts after
   * it. What is left stays for the next cycle (observations are taken again;
   * queued alerts stay queued, unclaimed).
   */
  finishBy?: number | undefined;
}

/** The rule options from the configuration. */
export function ruleOptions(config: Config): RuleOptions {
  return {
    confirm: config.detect.confirm,
    tlsConfirm: config.detect.tlsConfirm,
    repeatAfterMs: config.detect.repeatAfterMinutes * 60_000,
    pressureShare: config.detect.pressureShare,
    certWarningDays: config.backendProbe.certWarningDays,
    capacity: { surgeQueueShare: config.capacity.surgeQueueShare, idleDays: config.capacity.idleDays, idleShare: config.capacity.idleShare },
  };
}

/**
 * Decide a load balancer's events and commit them with its state in one
 * versioned write (the commit point), then append them to the audit trail and
 * the outbox. A cycle already recorded (a retried invocation with the same cycle
 * time) decides nothing again; a write that loses a race re-reads and decides again.
 */
export async function commitEvents(
  store: Store,
  lb: string,
  /** The events of this commit; `recovered` when the stored state did not parse and was rebuilt (see storeRecordCorrupt). */
  decide: (state: LoadBalancerState, recovered?: RecoveredRecord) => ElbEvent[],
  options: {
    /** Whether the decision left nothing worth writing (saves a write per quiet cycle). */
    unchanged?: (before: LoadBalancerState, after: LoadBalancerState) => boolean;
    /** Told the audit chain's head once committed (or unchanged): what a cycle's log line carries as its anchor. */
    onHead?: (head: { seq: number; hash: string }) => void;
    /** Written after the decision and before the state (the commit): a record the new state's chain head names. */
    beforeCommit?: () => Promise<void>;
  } = {},
): Promise<ChainedEvent[]> {
  const { unchanged = () => false, onHead, beforeCommit } = options;
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.getState(lb);
    const state = current?.state ?? emptyState();
    const before = structuredClone(state);
    const events = decide(state, current?.recovered);
    if (current && events.length === 0 && state.pending.length === 0 && unchanged(before, state)) {
      onHead?.(current.state.chain);
      return [];
    }
    const { chained, head } = chainEvents(events, state.chain);
    state.chain = head;
    state.pending = [...state.pending, ...chained];
    const version = current?.version ?? 0;
    const bytes = Buffer.byteLength(JSON.stringify(state));
    if (bytes > MAX_STATE_BYTES) {
      throw new StateTooLargeError(`the state of ${lb} would be ${Math.round(bytes / 1024)} KB, over the ${MAX_STATE_BYTES / 1024} KB elbscope keeps under DynamoDB's 400 KB item limit (samples × nodes: lower detect.confirm.n); not recorded`);
    }
    await beforeCommit?.();
    if (await store.putState(lb, state, version)) {
      onHead?.(head);
      // Only when there is something to move; the state just written needs no re-read.
      if (state.pending.length > 0) await drainPending(store, lb, { state, version: version + 1 });
      return chained;
    }
  }
  throw new StoreConflictError(`${store.description}: the state of ${lb} kept changing under 8 attempts to write it`);
}

/**
 * The event that says a stored record did not parse and was moved aside
 * (critical: the rules' memory of this load balancer starts again from a baseline).
 */
export function storeRecordCorrupt(lb: string, recovered: RecoveredRecord, at: string): ElbEvent {
  return makeEvent({
    kind: 'store-record-corrupt', status: 'event', severity: 'critical', loadBalancer: lb, az: null, backend: null, from: null, to: null, at,
    scope: recovered.location,
    summary: `${lb}: stored state did not parse (${recovered.reason}); moved aside to ${recovered.movedTo}, the rules start again from a baseline`,
    details: { ...recovered },
  });
}

/**
 * The largest state elbscope writes, local or DynamoDB alike: DynamoDB refuses
 * items over 400 KB, and the same cap everywhere keeps the CLI and the functions
 * alike. With at most 500 nodes an observation, it holds ~40 samples of 500 nodes.
 */
export const MAX_STATE_BYTES = 350 * 1024;

/** A state that would not fit: named, the load balancer not recorded, the others carry on. */
export class StateTooLargeError extends Error {
  override name = 'StateTooLargeError';
}

/** Move committed events from the state into the audit trail and outbox (idempotent; also recovers a crash). */
export async function drainPending(store: Store, lb: string, known?: { state: LoadBalancerState; version: number }): Promise<void> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = attempt === 0 && known ? known : await store.getState(lb);
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
  // Load balancers have their own state items: record them side by side, a bounded number at once.
  const limit = pLimit(config.concurrency);
  const perLb = await Promise.all(
    snapshots.map((snapshot) =>
      limit(async () => {
        const lb = snapshot.name;
        // Not observed (the cycle ran out of time): nothing to decide on; the next cycle observes it.
        if (wasSkipped(snapshot.observation)) return [];
        if (isPast(deps.finishBy, deps.now)) {
          deps.warn?.(`${lb}: not recorded: the cycle's time ran out before its commit; the next cycle observes it again`);
          return [];
        }
        try {
          return await recordOne(lb, snapshot);
        } catch (err) {
          // One load balancer's store trouble (a full disk, a record that does not parse) never stops another's.
          deps.warn?.(`${lb}: not recorded: ${describeError(err)}; the next cycle tries again`, { error: describeError(err) });
          return [];
        }
      }),
    ),
  );
  const flushed = await flushOutbox(deps); // not inside `onFlush?.(…)`: that skips its argument when unset
  deps.onFlush?.(flushed);
  return perLb.flat();

  /** One load balancer: pre-warm targets, the commit (state and events), the stored observation. */
  async function recordOne(lb: string, snapshot: LoadBalancerSnapshot): Promise<ChainedEvent[]> {
    const prewarms = await deps.store.listPrewarms(lb);
    const sample = toCycleSample(snapshot, cycleAt);
    const compact = compactSnapshot(snapshot);
    // What the nodes, the pages and AWS's distress metrics show decides whether to store; LCUs ride along
    // (they change every minute; the window a stored observation carries covers the minutes between stores).
    const metrics = compact.capacity?.metrics ?? {};
    const distress = REPORTED_ONLY_WHEN_NON_ZERO.map((m) => metrics[m] ?? null);
    const key = createHash('sha256').update(JSON.stringify({ ...compact, capacity: distress })).digest('hex').slice(0, 16);
    let observation: StoredObservation | null = null;
    const events = await commitEvents(
      deps.store,
      lb,
      (state, recovered) => {
        observation = null;
        const corrupt = recovered ? [storeRecordCorrupt(lb, recovered, cycleAt)] : [];
        if (state.lastCycleAt !== null && state.lastCycleAt >= cycleAt) return corrupt; // recorded already
        // Observations for reports: when what they show changed, and every observationEveryMinutes anyway.
        const last = state.observed ?? null;
        if (!last || last.key !== key || Date.parse(cycleAt) - Date.parse(last.at) >= config.store.observationEveryMinutes * 60_000) {
          state.observed = { key, at: cycleAt };
          // Chained, the head kept in the state: a stored observation changed, removed or inserted shows in `verify`.
          const chained = chainObservation(state.observationChain, { loadBalancer: lb, at: cycleAt, snapshot: compact }, config.store.observationTtlDays);
          state.observationChain = chained.head;
          observation = chained.record;
        }
        const { account, region, name, arn } = snapshot.identity;
        state.identity = { account, region, name, arn };
        // Pre-warm targets are written outside any commit: the first cycle that reads one vouches for its content.
        for (const target of prewarms) if (target.loadBalancer === lb) (state.prewarmDigests ??= {})[target.id] ??= prewarmHash(target);
        return [...corrupt, ...detectCycle(state, sample, lb, options, prewarms)];
      },
      {
        unchanged: (before, after) => sameDecisionInputs(before, after, options.pressureShare),
        onHead: (head) => deps.onHead?.(lb, head),
        // Before the commit: a crash between leaves a record one past the head, which the retried cycle rewrites.
        beforeCommit: async () => {
          if (observation) await deps.store.putObservation(observation, config.store.observationTtlDays);
        },
      },
    );
    return events;
  }
}

/**
 * Whether a cycle changed nothing the rules decide on: the same confirmed facts,
 * and a window of samples that all look alike (node sets, failing sources,
 * pre-open yes/no, pressure yes/no). Then the state need not be written; a retry
 * of such a cycle decides the same nothing again.
 */
export function sameDecisionInputs(before: LoadBalancerState, after: LoadBalancerState, pressureShare: number): boolean {
  const view = (s: CycleSample) =>
    JSON.stringify([
      s.perAz,
      Object.keys(s.failures).sort(),
      s.dnsAbsentAzs ?? [],
      s.capacityFlags ?? [],
      Object.entries(s.backends).sort().map(([b, v]) => [b, v.reading === null ? null : v.reading > 0, v.share === null ? null : v.share > pressureShare]),
    ]);
  const views = after.samples.map(view);
  if (views.some((v) => v !== views[0]) || before.samples.length !== after.samples.length) return false;
  const facts = (s: LoadBalancerState) => JSON.stringify([s.nodes, s.preopen, s.certs, s.firstSign, s.conditions, s.prewarm, s.chain, s.observed ?? null, s.kind ?? null, s.identity ?? null, capacityFacts(s), s.prewarmDigests ?? null]);
  return facts(before) === facts(after);
}

/**
 * The capacity memory that must reach the store: the reservation and its idle
 * clock. The metrics cursor is left out on purpose: a quiet cycle (nothing
 * spilling, queueing, rejected or above the reservation) need not be written, and
 * re-reading its quiet minutes next cycle finds them quiet again.
 */
function capacityFacts(s: LoadBalancerState): unknown {
  const c = s.capacity;
  return c ? [c.reservation, c.provisioned, c.reservedSince, c.peakSinceReserved] : null;
}

/** What a stored observation keeps for reports (a few hundred bytes, not the whole snapshot). */
export function compactSnapshot(snapshot: LoadBalancerSnapshot): CompactSnapshot {
  return {
    observation: {
      azs: snapshot.observation.azs,
      nodes: snapshot.observation.nodes.map((n) => ({ ip: n.ip, hostname: n.hostname, az: n.az, eniId: n.eniId, state: n.state })),
      errors: snapshot.observation.errors,
    },
    backends: snapshot.backends.map((b) => ({ name: b.name, reading: b.report.reading, error: b.report.error })),
    ...chartedCapacity(snapshot),
  };
}

/** The capacity metrics a report charts: distress (Classic) and LCUs (ALB/NLB). */
export const CHARTED_METRICS = ['SurgeQueueLength', 'SpilloverCount', 'RejectedConnectionCount', 'PeakLCUs', 'ConsumedLCUs'] as const;

function chartedCapacity(snapshot: LoadBalancerSnapshot): Pick<CompactSnapshot, 'capacity'> {
  const metrics = snapshot.capacity?.metrics;
  if (!metrics) return {};
  const charted = Object.fromEntries(CHARTED_METRICS.filter((m) => metrics[m] !== undefined).map((m) => [m, metrics[m] as [string, number][]]));
  return { capacity: { metrics: charted, reservedLcu: snapshot.capacity?.reservation?.capacityUnits ?? null } };
}

/** Record one TLS probe round, grouped by load balancer, then publish. */
export async function recordTls(config: Config, results: BackendTls[], at: string, deps: RecordDeps): Promise<ChainedEvent[]> {
  const options = ruleOptions(config);
  const all: ChainedEvent[] = [];
  for (const lbConfig of config.loadBalancers) {
    const lb = loadBalancerKey(lbConfig);
    const mine = results.filter((r) => r.loadBalancer === lbConfig.dnsName);
    if (mine.length === 0) continue;
    const sample = toTlsSample(mine, at);
    try {
      all.push(
        ...(await commitEvents(deps.store, lb, (state, recovered) => {
          const corrupt = recovered ? [storeRecordCorrupt(lb, recovered, at)] : [];
          if (state.lastTlsAt !== null && state.lastTlsAt >= at) return corrupt;
          return [...corrupt, ...detectTls(state, sample, lb, options)];
        })),
      );
    } catch (err) {
      // As in recordCycle: one load balancer's store trouble never stops another's.
      deps.warn?.(`${lb}: TLS round not recorded: ${describeError(err)}; the next round tries again`, { error: describeError(err) });
    }
  }
  const flushed = await flushOutbox(deps); // not inside `onFlush?.(…)`: that skips its argument when unset
  deps.onFlush?.(flushed);
  return all;
}

/** What one flush of the outbox did. */
export interface FlushResult {
  published: string[];
  /** Transient failures: still queued, tried again after a backoff. */
  failed: { id: string; error: string; attempts: number; notBefore: string }[];
  /** Permanent failures: marked undeliverable with the error, kept in the audit trail, not retried. */
  undeliverable: { id: string; error: string }[];
  /** Queued events not tried this time: their backoff has not run out, or the cycle's time has. */
  waiting: string[];
  /** Outbox entries with no sound event behind them in the audit trail: taken out, never published. */
  rejected: string[];
}

/**
 * Publish every event in the outbox, oldest first: claim it, publish, mark it
 * published. A transient failure (throttling, 5xx, network) is released and tried
 * again after a backoff; a permanent one (SNS refuses the request, the topic or
 * its key is gone, access denied) marks the event undeliverable, once. Nothing
 * is dropped, and an event marked published is never published again. `only`
 * limits the flush to some event ids (`elbscope redeliver`).
 */
export async function flushOutbox(deps: RecordDeps, only?: ReadonlySet<string>): Promise<FlushResult> {
  const result: FlushResult = { published: [], failed: [], undeliverable: [], waiting: [], rejected: [] };
  for (const entry of await deps.store.listOutbox()) {
    const id = entry.record.id;
    if (only && !only.has(id)) continue;
    if (isPast(deps.finishBy, deps.now)) {
      result.waiting.push(id); // unclaimed: the next flush takes it
      continue;
    }
    if (entry.notBefore !== null && Date.parse(entry.notBefore) > deps.now().getTime()) {
      result.waiting.push(id);
      continue;
    }
    if (!(await deps.store.claimOutbox(entry.record.id, deps.claimant, deps.now(), deps.leaseMs ?? 120_000))) continue;
    // What is published is the chained event in the audit trail, never the outbox's copy of it.
    const stored = await chainedEventOf(deps, entry);
    if (stored === null) {
      // No sound event behind it (a forged entry, or its event changed or removed): never an alert.
      await deps.store.discardOutbox(entry.record.id);
      result.rejected.push(entry.record.id);
      continue;
    }
    // Queued again by a re-drain while another writer published it: drop the copy, never publish twice
    // (a receipt that does not read closes it too: a second publish is worse than a question `verify` asks).
    if (stored.publishedAt || stored.receipt?.unreadable) {
      await deps.store.discardOutbox(entry.record.id);
      continue;
    }
    const event = stored.record;
    let published: { messageId: string | null };
    try {
      published = await deps.sink.publish(event, entry.delivered);
    } catch (err) {
      const failure = classifyDeliveryError(err, deps.sink.description);
      if (failure.permanent) {
        await deps.store.markUndeliverable(event, deps.now(), failure.reason);
        result.undeliverable.push({ id: event.id, error: failure.reason });
        deps.warn?.(`alert ${event.id} (${event.summary}) is undeliverable: ${failure.reason}; it stays in the audit trail (elbscope events --undelivered) and is not retried until \`elbscope redeliver --id ${event.id}\``, { error: failure.reason, code: failure.code });
      } else {
        const attempts = entry.attempts + 1;
        const notBefore = new Date(deps.now().getTime() + retryDelayMs(attempts)).toISOString();
        // The sinks that did accept keep their copy: the retry goes to the others only.
        const delivered = err instanceof SinkError ? err.delivered : entry.delivered;
        await deps.store.deferOutbox(event.id, { attempts, notBefore, lastError: failure.reason, delivered });
        result.failed.push({ id: event.id, error: failure.reason, attempts, notBefore });
        deps.warn?.(`publishing ${event.id} failed (attempt ${attempts}): ${failure.reason}; retried after ${notBefore}`, { error: failure.reason, code: failure.code });
      }
      continue;
    }
    // Outside the publish's try: a store failure here is not a delivery failure (it must not queue a second publish).
    await deps.store.markPublished(event, deps.now(), published.messageId);
    result.published.push(event.id);
  }
  return result;
}

/**
 * The audit trail's own copy of an outbox entry's event, when it is sound: stored at
 * the entry's place in the chain, with the same id and hash, and its content still
 * hashing to it. Null (said in a warning) when there is none: an entry someone wrote
 * or edited in the outbox is never published as an alert.
 */
async function chainedEventOf(deps: RecordDeps, entry: OutboxEntry): Promise<StoredEvent | null> {
  const copy = entry.record;
  const stored = await deps.store.getEvent(copy.loadBalancer, copy.seq).catch((err: unknown) => {
    if (err instanceof StoreRecordCorruptError) return null;
    throw err;
  });
  const sound = stored !== null && stored.record.id === copy.id && recordHash(stored.record) === stored.record.hash;
  if (!sound) {
    deps.warn?.(`outbox entry ${copy.id} has no sound event behind it at #${copy.seq} of ${copy.loadBalancer}'s audit trail (forged, or the event was changed or removed): not published; \`elbscope verify\` names the break`, { eventId: copy.id });
    return null;
  }
  if (copy.hash !== stored.record.hash || recordHash(copy) !== copy.hash) {
    deps.warn?.(`outbox entry ${copy.id} differs from its chained event (it was edited): the chained event is what is published`, { eventId: copy.id });
  }
  return stored;
}
