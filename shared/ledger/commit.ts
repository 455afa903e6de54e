import { makeEvent, type ElbEvent } from '../detect/events';
import type { ChainedEvent, RulesMemory } from '../detect/state';
import type { PrewarmTarget } from '../detect/rules';
import { canonicalJson } from '../canonical-json';
import { chainEvents, chainObservation, prewarmHash } from './chain';
import type { StaleStateSetAside } from './ledger';
import { SealUnavailableError } from './seal';
import { emptyStateOf, type CycleMeta, type LedgerHead, type StateRecord } from './state';
import { StoreConflictError, type RecoveredRecord, type Store } from './store';

// The commit and the drain: how decided events reach the audit trail and the
// outbox, the same over every store (the rules of what is stored live in ledger.ts).
// The commit owns the order (decide, chain, seal, observation, state, drain), the
// ledger's head (the chains, pending events, pre-warm digests) and the announcement
// of a state that had to be rebuilt; a caller decides on the memory and metadata only.

/** What a decision hands the commit besides its events (all optional: a bare list of events is a decision too). */
export interface Decision {
  events: ElbEvent[];
  /** An observation to store for reports, chained by the commit and written before the state that names it. */
  observation?: { loadBalancer: string; at: string; snapshot: unknown; ttlDays: number };
  /** Pre-warm targets the decision read: the first commit that reads one vouches for its content (its digest). */
  prewarms?: readonly PrewarmTarget[];
}

/** The parts of a state a decision reads and writes: the rules' memory and the cycle's metadata (not the head). */
export type DecisionState<M> = Omit<StateRecord<M>, 'head'>;

/** A record's audit-chain head, and its stored observations' chain head (none stored yet: absent). */
export interface ChainHeads {
  seq: number;
  hash: string;
  observations?: { seq: number; hash: string };
}

/** How a commit is made: when, and what makes a decision worth no write. */
export interface CommitOptions<M> {
  /** The time of the decision: the recovery announcement's. */
  at: string;
  /**
   * Whether the decision left the memory as good as it was (saves a write per quiet cycle); the head and the
   * metadata (but its times) must be unchanged too. Absent: every decision is written.
   */
  unchanged?: (before: M, after: M) => boolean;
  /** Told the chain heads once committed (or unchanged): what a cycle's log line carries as its anchors. */
  onHead?: (heads: ChainHeads) => void;
}

/**
 * Decide a record's events and commit them with its state in one versioned write
 * (the commit point), then append them to the audit trail and the outbox. A state
 * that had to be rebuilt (its stored one did not read) is announced first, once, by
 * this commit (store-record-corrupt), whatever the decision. A write that loses a
 * race re-reads and decides again. `M`: the memory's type (a load balancer's rules',
 * or discovery's under DISCOVERY_LEDGER).
 */
export async function commitEvents<M = RulesMemory>(
  store: Store,
  lb: string,
  decide: (state: DecisionState<M>) => ElbEvent[] | Decision,
  options: CommitOptions<M>,
): Promise<ChainedEvent[]> {
  const { unchanged, onHead } = options;
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.getState<M>(lb);
    // A state whose seal cannot be checked now (the key is unreachable) is not decided on: the next cycle tries again.
    if (current?.seal !== undefined && typeof current.seal === 'object')
      throw new SealUnavailableError(current.seal.unchecked);
    const state = current?.state ?? (emptyStateOf(lb) as StateRecord<M>);
    const before = structuredClone(state);
    const { head } = state;
    const decided = decide(state);
    const decision = Array.isArray(decided) ? { events: decided } : decided;
    // Announced once: the note goes with this commit.
    const recovered = current?.recovered;
    const events = recovered ? [storeRecordCorrupt(lb, recovered, options.at), ...decision.events] : decision.events;
    delete head.recovered;
    const observation = decision.observation && observe(head, decision.observation);
    for (const target of decision.prewarms ?? [])
      if (target.loadBalancer === lb) (head.prewarmDigests ??= {})[target.id] ??= prewarmHash(target);
    if (
      current &&
      !recovered &&
      unchanged &&
      events.length === 0 &&
      head.pending.length === 0 &&
      sameHeadAndMeta(before, state) &&
      unchanged(before.memory, state.memory)
    ) {
      onHead?.(headsOf(current.state.head));
      return [];
    }
    const { chained, head: chain } = chainEvents(events, head.chain);
    // Each event sealed over its place and hash (one MAC each, at once): the trail can then not be rewritten without
    // the key.
    await sealAll(store, chained);
    head.chain = chain;
    head.pending = [...head.pending, ...chained];
    const version = current?.version ?? 0;
    const bytes = Buffer.byteLength(JSON.stringify(state));
    if (bytes > MAX_STATE_BYTES) {
      throw new StateTooLargeError(
        `the state of ${lb} would be ${Math.round(bytes / 1024)} KB, over the ${MAX_STATE_BYTES / 1024} KB elbscope keeps under DynamoDB's 400 KB item limit (samples × nodes: lower detect.confirm.n); not recorded`,
      );
    }
    // Before the state: a crash between leaves a record one past the head, which the retried cycle rewrites.
    if (observation)
      await store.observations({ op: 'put', observation: observation.record, ttlDays: observation.ttlDays });
    if (await store.putState(lb, state, version)) {
      // The head told is the one the store holds after the drain: a stale state's is replaced there (drainPending).
      const final = { state: state as StateRecord<unknown>, chained };
      try {
        // Only when there is something to move; the state just written needs no re-read.
        if (head.pending.length > 0) await drainPending(store, lb, { state, version: version + 1 }, final);
      } finally {
        onHead?.(headsOf(final.state.head));
      }
      return final.chained;
    }
  }
  throw new StoreConflictError(`${store.description}: the state of ${lb} kept changing under 8 attempts to write it`);
}

/** The decision's observation chained after the head's (the head moves on). */
function observe(head: LedgerHead, observation: NonNullable<Decision['observation']>) {
  const { ttlDays, ...stored } = observation;
  const chained = chainObservation(head.observationChain, stored, ttlDays);
  head.observationChain = chained.head;
  return { record: chained.record, ttlDays };
}

/** The chain heads a state names. */
function headsOf(head: LedgerHead): ChainHeads {
  const o = head.observationChain;
  return { ...head.chain, ...(o ? { observations: { seq: o.seq, hash: o.hash } } : {}) };
}

/** Whether a decision left the ledger's head and the cycle's metadata as they were (its times aside: they move). */
function sameHeadAndMeta(before: StateRecord<unknown>, after: StateRecord<unknown>): boolean {
  const held = ({ lastCycleAt: _c, lastTlsAt: _t, ...meta }: CycleMeta) => meta;
  return canonicalJson([before.head, held(before.meta)]) === canonicalJson([after.head, held(after.meta)]);
}

/** Each event sealed over its place and hash, when the store has a key. */
async function sealAll(store: Store, chained: ChainedEvent[]): Promise<void> {
  const sealer = store.sealer;
  if (sealer)
    await Promise.all(
      chained.map(
        async (e) =>
          (e.seal = await sealer.seal({ kind: 'event', lb: e.loadBalancer, id: String(e.seq), digest: e.hash })),
      ),
    );
}

/**
 * The event that says a stored record did not parse and was moved aside
 * (critical: the rules' memory of this load balancer starts again from a baseline).
 */
function storeRecordCorrupt(lb: string, recovered: RecoveredRecord, at: string): ElbEvent {
  return recoveryEvent(lb, recovered, at, 'the rules start again from a baseline');
}

/** A critical `store-record-corrupt` event: what was wrong with the stored state, where it went, and `after` what. */
function recoveryEvent(lb: string, recovered: RecoveredRecord, at: string, after: string): ElbEvent {
  return makeEvent({
    kind: 'store-record-corrupt',
    status: 'event',
    severity: 'critical',
    loadBalancer: lb,
    az: null,
    backend: null,
    from: null,
    to: null,
    at,
    scope: recovered.location,
    summary: `${lb}: stored state could not be used (${recovered.reason}); moved aside to ${recovered.movedTo}, ${after}`,
    details: { ...recovered },
  });
}

/**
 * The largest state elbscope writes, local or DynamoDB alike: DynamoDB refuses
 * items over 400 KB, and the same cap everywhere keeps the CLI and the functions
 * alike. With at most 500 nodes an observation, it holds ~40 samples of 500 nodes.
 */
const MAX_STATE_BYTES = 350 * 1024;

/** A state that would not fit: named, the load balancer not recorded, the others carry on. */
class StateTooLargeError extends Error {
  override name = 'StateTooLargeError';
}

/**
 * Move committed events from the state into the audit trail and outbox (idempotent; also recovers a crash).
 * A state behind its own chain (rolled back) is replaced as it is found (replaceStale); `final` is then told
 * the state written and the events re-chained.
 */
async function drainPending(
  store: Store,
  lb: string,
  known?: { state: StateRecord<unknown>; version: number },
  final?: { state: StateRecord<unknown>; chained: ChainedEvent[] },
): Promise<void> {
  let next: { state: StateRecord<unknown>; version: number } | null = known ?? null;
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = next ?? (await store.getState<unknown>(lb));
    next = null;
    if (!current || current.state.head.pending.length === 0) return;
    try {
      for (const record of current.state.head.pending) await store.appendEvent(record);
    } catch (err) {
      const replaced = err instanceof StoreConflictError ? await replaceStale(store, lb, current) : undefined;
      if (replaced === undefined) throw err;
      if (replaced && final) Object.assign(final, { state: replaced.state, chained: replaced.state.head.pending });
      next = replaced; // null: the state changed meanwhile; read it again
      continue;
    }
    const done = new Set(current.state.head.pending.map((e) => e.id));
    current.state.head.pending = current.state.head.pending.filter((e) => !done.has(e.id));
    if (await store.putState(lb, current.state, current.version)) return;
  }
}

/** A store that can move a stale state aside (the ledger: Ledger.setAsideStale). */
interface SetsAsideStale {
  setAsideStale(lb: string, version: number): Promise<StaleStateSetAside | null>;
}

/**
 * A pending event's place holds another event: the state is behind the chain it
 * wrote (an older copy written back — a rollback, or a restored backup). Committing
 * on it forks the trail and every later drain fails on the same place, silencing
 * every alert after it. It is moved aside (kept for a person), and a state that keeps
 * its memory (the rules' facts are old, not false: changes since are decided again,
 * a repeat rather than a silence) but continues the stored chains is written with its
 * pending events re-chained after the stored head, announced by one critical event.
 * Undefined: the conflict was not that (the error stands); null: the state changed
 * meanwhile (read it again).
 */
async function replaceStale(
  store: Store,
  lb: string,
  current: { state: StateRecord<unknown>; version: number },
): Promise<{ state: StateRecord<unknown>; version: number } | null | undefined> {
  const pending = current.state.head.pending;
  const held = await Promise.all(pending.map((e) => store.getEvent(lb, e.seq)));
  const clash = pending.find((e, i) => held[i] !== null && held[i]?.record.id !== e.id);
  if (!clash || !('setAsideStale' in store)) return undefined;
  const aside = await (store as Store & SetsAsideStale).setAsideStale(lb, current.version);
  if (!aside) return null;
  const reason = `state behind its chain (rolled back?): its event #${clash.seq} is not the one stored there, the stored chain runs to #${aside.chain.seq}`;
  // Those stored as themselves (a drain before the fork) stay where they are; the others move after the stored head.
  const carried = pending
    .filter((e, i) => held[i]?.record.id !== e.id)
    .map(({ seq: _s, prevHash: _p, hash: _h, seal: _x, ...event }) => event as ElbEvent);
  // biome-ignore lint/complexity/useMathMinMax: ISO timestamps are strings; Math.max would make them NaN.
  const at = carried.reduce((t, e) => (e.at > t ? e.at : t), carried[0]?.at ?? new Date().toISOString());
  const { chained, head } = chainEvents(
    [
      staleStateEvent(lb, { location: aside.location, reason, movedTo: aside.movedTo }, aside.chain.seq, at),
      ...carried,
    ],
    aside.chain,
  );
  await sealAll(store, chained);
  const state = structuredClone(current.state);
  state.head = { ...state.head, chain: head, pending: chained };
  delete state.head.recovered;
  if (aside.observationChain) state.head.observationChain = aside.observationChain;
  else delete state.head.observationChain;
  return (await store.putState(lb, state, 0)) ? { state, version: 1 } : null;
}

/**
 * The event that says a stored state was behind its chain and was replaced (critical: it may have been rolled back on
 * purpose).
 */
function staleStateEvent(lb: string, recovered: RecoveredRecord, storedHead: number, at: string): ElbEvent {
  return recoveryEvent(
    lb,
    recovered,
    at,
    `the chain continues after #${storedHead} and the rules keep the state's memory`,
  );
}
