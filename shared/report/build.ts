import type { ChainedEvent, RulesMemory } from '../detect/state';
import type { LedgerHead, LoadBalancerState } from '../ledger/state';
import {
  prewarmHash,
  verifyChain,
  verifyObservations,
  verifyOutbox,
  verifyPrewarms,
  verifyReceipts,
  type ChainBreak,
  type ObservationCheck,
  type PrewarmCheck,
  type ReceiptCheck,
} from '../ledger/chain';
import { auditSeals, type SealCheck } from '../ledger/seal-audit';
import { SealUnavailableError } from '../ledger/seal';
import {
  StoreRecordCorruptError,
  type OutboxEntry,
  type Store,
  type StoredEvent,
  type StoredObservation,
  type StateRead,
} from '../ledger/store';
import type { PrewarmTarget } from '../detect/rules';
import type { CompactSnapshot } from '../cycle/snapshot';

/** Everything a support-case report says about one load balancer over a window. */
export interface ReportData {
  loadBalancer: string;
  /** Account, region, name, ARN and kind as the last recorded cycle said (null: no cycle recorded yet). */
  identity:
    | (NonNullable<LoadBalancerState['meta']['identity']> & { kind: LoadBalancerState['memory']['kind'] | null })
    | null;
  from: string | null;
  to: string | null;
  generatedAt: string;
  events: (Pick<
    ChainedEvent,
    'seq' | 'id' | 'at' | 'kind' | 'status' | 'severity' | 'az' | 'backend' | 'from' | 'to' | 'summary'
  > & { published: string | null; deliveryError: string | null })[];
  /** Alerts of the window a sink refused for good (`elbscope events --undelivered`). */
  undelivered: number;
  /** Nodes per AZ at each stored observation. */
  nodesPerAz: { at: string; azs: Record<string, { provisioned: number; advertised: number }> }[];
  /** Every node IP seen, with its EC2 host name and when it was seen first and last. */
  nodes: {
    ip: string;
    hostname: string | null;
    az: string | null;
    eniId: string | null;
    firstSeen: string;
    lastSeen: string;
  }[];
  /**
   * AWS's capacity signals (CloudWatch) per metric, each datapoint once: `[minute, value]`,
   * oldest first. A metric read with no datapoint in a minute was 0 there (AWS reports
   * SurgeQueueLength, SpilloverCount and RejectedConnectionCount only when non-zero).
   */
  aws: Record<string, [string, number][]>;
  /** The LCUs reserved, as each stored observation saw them (ALB/NLB; null: none). */
  reservedLcu: { at: string; lcu: number | null }[];
  /** R per backend at each stored observation (null: the page could not be read). */
  reading: { at: string; backends: Record<string, number | null> }[];
  prewarms: {
    id: string;
    caseId: string | null;
    requestedAt: string;
    nodesPerAz: number;
    lcu: number | null;
    total: number | null;
    deadline: string | null;
    outcome: 'complete' | 'overdue' | 'pending';
    completedAt: string | null;
    durationMs: number | null;
  }[];
  /** TLS findings: the TLS events of the window. */
  tls: ReportData['events'];
  /**
   * The audit chain: verified or not, and its head (the hash an alert of the last event carries); and the stored
   * observations' chain.
   */
  chain: {
    intact: boolean;
    records: number;
    firstBreak: ChainBreak | null;
    head: { seq: number; hash: string } | null;
    observations?: ObservationCheck;
    prewarms?: PrewarmCheck;
    receipts?: ReceiptCheck;
    seals?: SealCheck;
  };
  /** Stored observations further apart than this mean cycles were missed: charts leave a gap there. */
  gapAfterMs: number;
}

const TLS_KINDS = new Set(['cert-expiring', 'cert-changed', 'tls-failed']);

/** The events on their way to a receipt: queued in the outbox, or committed in the state and not yet drained. */
function onTheirWay(outbox: OutboxEntry[], state: { head: LedgerHead } | null): Set<string> {
  return new Set([...outbox.map((e) => e.record.id), ...(state?.head.pending ?? []).map((e) => e.id)]);
}

/** What `verify` and a report check of one load balancer, from one read of its records. */
export interface LoadBalancerAudit {
  events: StoredEvent[];
  /** The stored state (the memory a load balancer's, or discovery's: only its kind is read). */
  state: StateRead<Partial<RulesMemory>> | null;
  prewarms: PrewarmTarget[];
  /** Every stored observation, or the record that does not parse. */
  observations: StoredObservation[] | StoreRecordCorruptError;
  /** Hashes of stored observations no commit took (a crash, a lost race): left out of reports. */
  offChain: Set<string>;
  chain: ChainBreak | null;
  observationCheck: ObservationCheck;
  prewarmCheck: PrewarmCheck;
  receiptCheck: ReceiptCheck;
  outbox: ChainBreak | null;
  /** The keyed seals (absent: the store has no key; its records are read as before keys). */
  sealCheck?: SealCheck;
  /** The first of those breaks (null: everything holds). */
  firstBreak: ChainBreak | null;
}

/**
 * Read a load balancer's records once and check every one of them: the audit chain,
 * the observations' chain, the pre-warm digests, the receipts and the outbox copies.
 * `outbox` may be read once for several load balancers. A trail whose event records
 * do not parse is a StoreRecordCorruptError naming the record.
 */
export async function auditLoadBalancer(
  store: Store,
  loadBalancer: string,
  now: Date,
  outbox?: OutboxEntry[],
): Promise<LoadBalancerAudit> {
  let stateUnchecked: string | null = null;
  // A key that matches none of the store's seals is said as such (one line), not as every record forged.
  await store.checkKey();
  const [trail, audited, state, observations, queued] = await Promise.all([
    store.listTrail(loadBalancer),
    // Every target as stored (the cycles act on the trusted ones only): an edited or forged one is named.
    store.prewarms({ op: 'audit', lb: loadBalancer }),
    // A state that would be rebuilt, with no key to seal the new one: its seal is not checked (said), nothing is moved.
    store.getState<Partial<RulesMemory>>(loadBalancer, 'read').catch((err: unknown) => {
      if (!(err instanceof SealUnavailableError)) throw err;
      stateUnchecked = err.message;
      return null;
    }),
    readObservations(store, loadBalancer),
    outbox ?? store.outbox({ op: 'list' }),
  ]);
  const prewarms = audited.map((a) => a.target);
  const { events, strayReceipts } = trail;
  const offChain = new Set<string>();
  const observationCheck = checkObservations(
    loadBalancer,
    observations,
    state?.state.head.observationChain ?? null,
    now,
    offChain,
  );
  const prewarmCheck = verifyPrewarms(loadBalancer, prewarms, state?.state.head.prewarmDigests);
  const receiptCheck = verifyReceipts(loadBalancer, events, onTheirWay(queued, state?.state ?? null), strayReceipts);
  const chain = verifyChain(loadBalancer, events, state?.state.head.chain ?? null);
  const outboxBreak = verifyOutbox(loadBalancer, events, queued, state?.state.head.pending ?? []);
  const sealCheck = store.sealer
    ? await auditSeals(loadBalancer, store.sealer, {
        events,
        observations: Array.isArray(observations) ? observations : null,
        prewarms: audited,
        prewarmDigests: state?.state.head.prewarmDigests,
        prewarmHash,
        state: stateUnchecked !== null ? { unchecked: stateUnchecked } : state?.seal,
      })
    : undefined;
  const firstBreak =
    chain ??
    observationCheck.firstBreak ??
    prewarmCheck.firstBreak ??
    receiptCheck.firstBreak ??
    outboxBreak ??
    sealCheck?.firstBreak ??
    null;
  return {
    events,
    state,
    prewarms,
    observations,
    offChain,
    chain,
    observationCheck,
    prewarmCheck,
    receiptCheck,
    outbox: outboxBreak,
    ...(sealCheck ? { sealCheck } : {}),
    firstBreak,
  };
}

/** Gather a report from the store: events, stored observations, pre-warm targets, and the chain check. */
export async function buildReport(
  store: Store,
  loadBalancer: string,
  window: { from?: string; to?: string },
  now: Date,
  options: { observationEveryMinutes?: number } = {},
): Promise<ReportData> {
  const inWindow = (at: string) => (!window.from || at >= window.from) && (!window.to || at <= window.to);
  const audit = await auditLoadBalancer(store, loadBalancer, now);
  const {
    events: stored,
    prewarms,
    state,
    observations: all,
    offChain,
    observationCheck,
    prewarmCheck,
    receiptCheck,
    sealCheck,
    firstBreak,
  } = audit;
  // Every observation is read once, to verify the chain; the window's are those, less any a commit never took
  // (a crash, a lost race). (When one does not parse, the window's are read on their own, as before the chain:
  // a bad record outside the window still leaves a report.)
  const observations = (
    Array.isArray(all)
      ? all.filter((o) => inWindow(o.at))
      : await store.observations({ op: 'list', lb: loadBalancer, from: window.from, to: window.to })
  ).filter((o) => !offChain.has(o.hash ?? ''));
  const events = stored
    .filter((e) => inWindow(e.record.at))
    .map(({ record: r, publishedAt, deliveryError }) => ({
      seq: r.seq,
      id: r.id,
      at: r.at,
      kind: r.kind,
      status: r.status,
      severity: r.severity,
      az: r.az,
      backend: r.backend,
      from: r.from,
      to: r.to,
      summary: r.summary,
      published: publishedAt,
      deliveryError: deliveryError?.error ?? null,
    }));

  const nodesPerAz: ReportData['nodesPerAz'] = [];
  const reading: ReportData['reading'] = [];
  const nodes = new Map<string, ReportData['nodes'][number]>();
  const aws = new Map<string, Map<string, number>>();
  const reservedLcu: ReportData['reservedLcu'] = [];
  for (const { at, snapshot } of observations) {
    const snap = snapshot as CompactSnapshot;
    // Overlapping windows repeat datapoints: each minute once (the later read wins, as CloudWatch's latest word).
    for (const [metric, points] of Object.entries(snap.capacity?.metrics ?? {})) {
      const series = aws.get(metric) ?? new Map<string, number>();
      for (const [t, v] of points) if (inWindow(t)) series.set(t, v);
      aws.set(metric, series);
    }
    if (snap.capacity) reservedLcu.push({ at, lcu: snap.capacity.reservedLcu });
    nodesPerAz.push({ at, azs: snap.observation.azs });
    reading.push({ at, backends: Object.fromEntries(snap.backends.map((b) => [b.name, b.reading])) });
    for (const n of snap.observation.nodes) {
      const seen = nodes.get(n.ip);
      if (seen) {
        seen.lastSeen = at;
        seen.hostname ??= n.hostname;
        seen.az ??= n.az;
        seen.eniId ??= n.eniId;
      } else nodes.set(n.ip, { ip: n.ip, hostname: n.hostname, az: n.az, eniId: n.eniId, firstSeen: at, lastSeen: at });
    }
  }
  const allEvents = stored.map((s) => s.record);
  const identity = state?.state.meta.identity;
  return {
    loadBalancer,
    identity: identity ? { ...identity, kind: state?.state.memory.kind ?? null } : null,
    from: window.from ?? null,
    to: window.to ?? null,
    generatedAt: now.toISOString(),
    events,
    undelivered: events.filter((e) => e.deliveryError !== null).length,
    nodesPerAz,
    nodes: [...nodes.values()].sort(
      (a, b) => (a.az ?? '').localeCompare(b.az ?? '') || a.firstSeen.localeCompare(b.firstSeen),
    ),
    reading,
    aws: Object.fromEntries(
      [...aws].map(([metric, series]) => [metric, [...series].sort((a, b) => (a[0] < b[0] ? -1 : 1))]),
    ),
    reservedLcu,
    prewarms: prewarms.map((t) => {
      const done = allEvents.find((e) => e.kind === 'prewarm-complete' && e.details.targetId === t.id);
      const overdue = allEvents.some((e) => e.kind === 'prewarm-overdue' && e.details.targetId === t.id);
      return {
        id: t.id,
        caseId: t.caseId,
        requestedAt: t.requestedAt,
        nodesPerAz: t.nodesPerAz,
        lcu: t.lcu ?? null,
        total: t.total,
        deadline: t.deadline,
        outcome: done ? 'complete' : overdue ? 'overdue' : 'pending',
        completedAt: done?.at ?? null,
        durationMs: (done?.details.durationMs as number | undefined) ?? null,
      };
    }),
    tls: events.filter((e) => TLS_KINDS.has(e.kind)),
    // Seals the key could not check leave the audit unproven: never "intact".
    chain: {
      intact: firstBreak === null && !sealCheck?.unchecked,
      records: stored.length,
      firstBreak,
      observations: observationCheck,
      prewarms: prewarmCheck,
      receipts: receiptCheck,
      ...(sealCheck ? { seals: sealCheck } : {}),
      head:
        state?.state.head.chain && state.state.head.chain.seq > 0
          ? { seq: state.state.head.chain.seq, hash: state.state.head.chain.hash }
          : null,
    },
    // Observations are stored at least every observationEveryMinutes (15): half as long again without one is a gap.
    gapAfterMs: (options.observationEveryMinutes ?? 15) * 1.5 * 60_000,
  };
}

/** Every stored observation of a load balancer, or the record that does not parse. */
export async function readObservations(
  store: Store,
  loadBalancer: string,
): Promise<StoredObservation[] | StoreRecordCorruptError> {
  try {
    return await store.observations({ op: 'list', lb: loadBalancer });
  } catch (err) {
    if (!(err instanceof StoreRecordCorruptError)) throw err;
    return err;
  }
}

/** Check a load balancer's stored observations against their chain (a record that does not parse is a break, named). */
export function checkObservations(
  loadBalancer: string,
  all: StoredObservation[] | StoreRecordCorruptError,
  head: NonNullable<Parameters<typeof verifyObservations>[2]> | null,
  now: Date,
  offChain?: Set<string>,
): ObservationCheck {
  if (all instanceof StoreRecordCorruptError) {
    return {
      verified: 0,
      unchained: 0,
      expired: 0,
      uncommitted: 0,
      firstBreak: {
        loadBalancer,
        seq: 0,
        id: null,
        location: all.location,
        reason: `stored observation does not parse (${all.reason})`,
      },
    };
  }
  return verifyObservations(
    loadBalancer,
    all.map((record) => ({ record, location: `observation of ${record.at}` })),
    head,
    now,
    offChain,
  );
}

/** "12 verified (3 expired, 1 from before the chain)" */
export function observationsLine(c: ObservationCheck): string {
  const extra = [
    c.expired ? `${c.expired} expired` : '',
    c.unchained ? `${c.unchained} from before the chain, not verifiable` : '',
    c.uncommitted
      ? `${c.uncommitted} written for a commit that did not happen (a crash, or a writer that lost a race), not counted`
      : '',
  ].filter(Boolean);
  return `${c.verified} verified${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** "2 vouched for (1 recorded since the last cycle)" */
export function prewarmsLine(c: PrewarmCheck): string {
  return `${c.vouched} vouched for${c.unvouched ? ` (${c.unvouched} recorded since the last cycle, not yet)` : ''}`;
}

/** What the receipts check found, in words. */
export function receiptsLine(check: ReceiptCheck): string {
  return `receipts: ${check.closed} delivered or refused for good${check.waiting > 0 ? `, ${check.waiting} on their way` : ''}`;
}
