import type { LoadBalancerIdentity } from '../config/identity';
import { emptyMemory, GENESIS_HASH, type ChainedEvent, type DiscoveryMemory, type RulesMemory } from '../detect/state';
import { DISCOVERY_LEDGER } from './keys';
import type { RecoveredRecord } from './store';

// A stored state holds three parts, each with one owner: the rules' memory (what `decide` reads: detect/state.ts),
// the ledger's head (the commit's: chain heads, events not yet drained, what the ledger vouches for), and the cycle's
// metadata (when it last ran, which observation it stored last, whose state it is).

/** The ledger's head of one record: the chain heads and what the commit keeps between cycles. */
export interface LedgerHead {
  /** The audit chain's head: last sequence number and hash. */
  chain: { seq: number; hash: string };
  /** Events decided but not yet appended to the audit trail (the commit point is the state write). */
  pending: ChainedEvent[];
  /**
   * The head of the stored observations' chain: the last committed one's sequence, hash and expiry (absent: none yet).
   */
  observationChain?: { seq: number; hash: string; expiresAt: string };
  /**
   * Pre-warm target id → its digest when a cycle first read it: a target changed or removed later shows in `verify`.
   */
  prewarmDigests?: Record<string, string>;
  /**
   * Set when the stored state did not read (or was edited) and this one was rebuilt: until the next commit announces
   * it.
   */
  recovered?: RecoveredRecord;
}

/** The cycle's metadata: written by the cycle (shared/cycle/record.ts), read by reports and the seal's checks. */
export interface CycleMeta {
  lastCycleAt: string | null;
  lastTlsAt: string | null;
  /** The last observation stored for reports: its content key and time (null: none yet). */
  observed?: { key: string; at: string } | null;
  /** Whose state this is, as the last cycle's configuration said: for reports and audits. */
  identity?: Pick<LoadBalancerIdentity, 'account' | 'region' | 'name' | 'arn'>;
}

/** A stored state: the three parts, `memory` the rules' (a load balancer's, or discovery's). */
export interface StateRecord<M> {
  memory: M;
  head: LedgerHead;
  meta: CycleMeta;
}

/** A load balancer's stored state. */
export type LoadBalancerState = StateRecord<RulesMemory>;

/** A head with nothing chained yet. */
export function emptyHead(): LedgerHead {
  return { chain: { seq: 0, hash: GENESIS_HASH }, pending: [] };
}

/** The state of a load balancer never seen before. */
export function emptyState(): LoadBalancerState {
  return { memory: emptyMemory(), head: emptyHead(), meta: { lastCycleAt: null, lastTlsAt: null, observed: null } };
}

/** Whether a record is discovery's own (its memory is discovery's, and it is no load balancer). */
export function isDiscoveryLedger(lb: string): boolean {
  return lb === DISCOVERY_LEDGER;
}

/** The empty state of a record: discovery's, or a load balancer's. */
export function emptyStateOf(lb: string): StateRecord<RulesMemory | DiscoveryMemory> {
  return isDiscoveryLedger(lb) ? { ...emptyState(), memory: { conditions: {} } } : emptyState();
}
