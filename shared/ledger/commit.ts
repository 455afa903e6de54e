import { makeEvent, type ElbEvent } from '../detect/events';
import { emptyState, type ChainedEvent, type LoadBalancerState } from '../detect/state';
import { chainEvents } from './chain';
import type { StaleStateSetAside } from './ledger';
import { SealUnavailableError } from './seal';
import { StoreConflictError, type RecoveredRecord, type Store } from './store';

// The commit and the drain: how decided events reach the audit trail and the
// outbox, the same over every store (the rules of what is stored live in ledger.ts).

/**
 * Decide a load balancer's events and commit them with its state in one
 * versioned write (the commit point), then append them to the audit trail and
 * the outbox. A cycle already recorded (a retried invocation with the same cycle
 * time) decides nothing again; a write that loses a race re-reads and decides again.
 */
export async function commitEvents(
  store: Store,
  lb: string,
  /**
   * The events of this commit; `recovered` when the stored state did not parse and was rebuilt (see
   * storeRecordCorrupt).
   */
  decide: (state: LoadBalancerState, recovered?: RecoveredRecord) => ElbEvent[],
  options: {
    /** Whether the decision left nothing worth writing (saves a write per quiet cycle). */
    unchanged?: (before: LoadBalancerState, after: LoadBalancerState) => boolean;
    /** Told the audit chain's head once committed (or unchanged): what a cycle's log line carries as its anchor. */
    onHead?: (head: { seq: number; hash: string }, state: LoadBalancerState) => void;
    /** Written after the decision and before the state (the commit): a record the new state's chain head names. */
    beforeCommit?: () => Promise<void>;
  } = {},
): Promise<ChainedEvent[]> {
  const { unchanged = () => false, onHead, beforeCommit } = options;
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = await store.getState(lb);
    // A state whose seal cannot be checked now (the key is unreachable) is not decided on: the next cycle tries again.
    if (current?.seal !== undefined && typeof current.seal === 'object')
      throw new SealUnavailableError(current.seal.unchecked);
    const state = current?.state ?? emptyState();
    const before = structuredClone(state);
    const events = decide(state, current?.recovered);
    // Announced (by the decision) once: the note goes with this commit.
    delete state.recovered;
    if (
      current &&
      !current.recovered &&
      events.length === 0 &&
      state.pending.length === 0 &&
      unchanged(before, state)
    ) {
      onHead?.(current.state.chain, current.state);
      return [];
    }
    const { chained, head } = chainEvents(events, state.chain);
    // Each event sealed over its place and hash (one MAC each, at once): the trail can then not be rewritten without
    // the key.
    const sealer = store.sealer;
    if (sealer)
      await Promise.all(
        chained.map(
          async (e) =>
            (e.seal = await sealer.seal({ kind: 'event', lb: e.loadBalancer, id: String(e.seq), digest: e.hash })),
        ),
      );
    state.chain = head;
    state.pending = [...state.pending, ...chained];
    const version = current?.version ?? 0;
    const bytes = Buffer.byteLength(JSON.stringify(state));
    if (bytes > MAX_STATE_BYTES) {
      throw new StateTooLargeError(
        `the state of ${lb} would be ${Math.round(bytes / 1024)} KB, over the ${MAX_STATE_BYTES / 1024} KB elbscope keeps under DynamoDB's 400 KB item limit (samples × nodes: lower detect.confirm.n); not recorded`,
      );
    }
    await beforeCommit?.();
    if (await store.putState(lb, state, version)) {
      // The head told is the one the store holds after the drain: a stale state's is replaced there (drainPending).
      const final = { state, chained };
      try {
        // Only when there is something to move; the state just written needs no re-read.
        if (state.pending.length > 0) await drainPending(store, lb, { state, version: version + 1 }, final);
      } finally {
        onHead?.(final.state.chain, final.state);
      }
      return final.chained;
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
    summary: `${lb}: stored state could not be used (${recovered.reason}); moved aside to ${recovered.movedTo}, the rules start again from a baseline`,
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
  known?: { state: LoadBalancerState; version: number },
  final?: { state: LoadBalancerState; chained: ChainedEvent[] },
): Promise<void> {
  let next: { state: LoadBalancerState; version: number } | null = known ?? null;
  for (let attempt = 0; attempt < 8; attempt++) {
    const current = next ?? (await store.getState(lb));
    next = null;
    if (!current || current.state.pending.length === 0) return;
    try {
      for (const record of current.state.pending) await store.appendEvent(record);
    } catch (err) {
      const replaced = err instanceof StoreConflictError ? await replaceStale(store, lb, current) : undefined;
      if (replaced === undefined) throw err;
      if (replaced && final) Object.assign(final, { state: replaced.state, chained: replaced.state.pending });
      next = replaced; // null: the state changed meanwhile; read it again
      continue;
    }
    const done = new Set(current.state.pending.map((e) => e.id));
    current.state.pending = current.state.pending.filter((e) => !done.has(e.id));
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
  current: { state: LoadBalancerState; version: number },
): Promise<{ state: LoadBalancerState; version: number } | null | undefined> {
  const pending = current.state.pending;
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
  const sealer = store.sealer;
  if (sealer)
    await Promise.all(
      chained.map(
        async (e) =>
          (e.seal = await sealer.seal({ kind: 'event', lb: e.loadBalancer, id: String(e.seq), digest: e.hash })),
      ),
    );
  const state: LoadBalancerState = { ...structuredClone(current.state), chain: head, pending: chained };
  delete state.recovered;
  if (aside.observationChain) state.observationChain = aside.observationChain;
  else delete state.observationChain;
  return (await store.putState(lb, state, 0)) ? { state, version: 1 } : null;
}

/**
 * The event that says a stored state was behind its chain and was replaced (critical: it may have been rolled back on
 * purpose).
 */
function staleStateEvent(lb: string, recovered: RecoveredRecord, storedHead: number, at: string): ElbEvent {
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
    summary: `${lb}: stored state could not be used (${recovered.reason}); moved aside to ${recovered.movedTo}, the chain continues after #${storedHead} and the rules keep the state's memory`,
    details: { ...recovered },
  });
}
