import type { ChainedEvent, LoadBalancerState } from '../detect/state';
import type { PrewarmTarget } from '../detect/rules';

/** A stored event: the chained record, and when it was published (not part of the hash). */
export interface StoredEvent {
  record: ChainedEvent;
  publishedAt: string | null;
  /** Where it lives, for `verify` to name (a file path, a table key). */
  location: string;
}

/** A stored observation of one cycle (kept for the report; expires after the TTL). */
export interface StoredObservation {
  loadBalancer: string;
  at: string;
  /** The cycle's snapshot (nodes and backends) as JSON-able data. */
  snapshot: unknown;
}

/**
 * The state and audit store: one port, two adapters (a local directory for the
 * CLI, DynamoDB on Lambda). Writes that race are settled by versions: `putState`
 * succeeds only if the stored version is still `expectedVersion`.
 */
export interface Store {
  /** Where the store lives, for messages. */
  readonly description: string;
  getState(loadBalancer: string): Promise<{ state: LoadBalancerState; version: number } | null>;
  /** Write the state if its version is still `expectedVersion` (0: not stored yet). False on conflict. */
  putState(loadBalancer: string, state: LoadBalancerState, expectedVersion: number): Promise<boolean>;
  /** Append a chained event; idempotent on its sequence number and id. Also queues it in the outbox. */
  appendEvent(record: ChainedEvent): Promise<void>;
  listEvents(loadBalancer?: string): Promise<StoredEvent[]>;
  listLoadBalancers(): Promise<string[]>;
  /** Events not yet published. */
  listOutbox(): Promise<ChainedEvent[]>;
  /** Take the right to publish an event for `leaseMs`; false if someone else holds it. */
  claimOutbox(id: string, claimant: string, now: Date, leaseMs: number): Promise<boolean>;
  releaseOutbox(id: string): Promise<void>;
  markPublished(record: ChainedEvent, at: Date, messageId: string | null): Promise<void>;
  putObservation(observation: StoredObservation, ttlDays: number): Promise<void>;
  listObservations(loadBalancer: string, from?: string, to?: string): Promise<StoredObservation[]>;
  putPrewarm(target: PrewarmTarget): Promise<void>;
  listPrewarms(loadBalancer?: string): Promise<PrewarmTarget[]>;
}

/** A store write conflict that did not settle after retries. */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}
