import { ElbscopeError } from '../errors';
import type { ChainedEvent, LoadBalancerState } from '../detect/state';
import type { PrewarmTarget } from '../detect/rules';

/** A stored event: the chained record, and when it was published (not part of the hash). */
export interface StoredEvent {
  record: ChainedEvent;
  publishedAt: string | null;
  /** Set when a sink refused the event for good (not part of the hash): when, and the error. */
  deliveryError: DeliveryError | null;
  /** Where it lives, for `verify` to name (a file path, a table key). */
  location: string;
}

/** A permanent delivery failure kept beside the event. */
export interface DeliveryError {
  at: string;
  error: string;
}

/** An event waiting in the outbox, with its transient failures so far. */
export interface OutboxEntry {
  record: ChainedEvent;
  /** Failed attempts so far (0: never tried). */
  attempts: number;
  /** Not to be tried before this time (backoff after a transient failure); null: now. */
  notBefore: string | null;
  lastError: string | null;
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
  /**
   * The state and its version. A stored state that does not parse is moved aside
   * (kept for a person) and replaced by a fresh one that continues the audit chain
   * from its last stored record; `recovered` names what was found and where it went.
   */
  getState(loadBalancer: string): Promise<{ state: LoadBalancerState; version: number; recovered?: RecoveredRecord } | null>;
  /** Write the state if its version is still `expectedVersion` (0: not stored yet). False on conflict. */
  putState(loadBalancer: string, state: LoadBalancerState, expectedVersion: number): Promise<boolean>;
  /** Append a chained event; idempotent on its sequence number and id. Also queues it in the outbox. */
  appendEvent(record: ChainedEvent): Promise<void>;
  listEvents(loadBalancer?: string): Promise<StoredEvent[]>;
  listLoadBalancers(): Promise<string[]>;
  /** Events not yet published, oldest first. */
  listOutbox(): Promise<OutboxEntry[]>;
  /** Take the right to publish an event for `leaseMs`; false if someone else holds it. */
  claimOutbox(id: string, claimant: string, now: Date, leaseMs: number): Promise<boolean>;
  releaseOutbox(id: string): Promise<void>;
  markPublished(record: ChainedEvent, at: Date, messageId: string | null): Promise<void>;
  /** A transient failure: keep the event queued, not to be tried before `retry.notBefore`; releases the claim. */
  deferOutbox(id: string, retry: { attempts: number; notBefore: string; lastError: string }): Promise<void>;
  /** A permanent failure: mark the stored event undeliverable with the error and take it out of the outbox. */
  markUndeliverable(record: ChainedEvent, at: Date, error: string): Promise<void>;
  /** Queue a stored event again, now (`elbscope redeliver`): clears an undeliverable mark and any backoff. */
  requeue(record: ChainedEvent): Promise<void>;
  putObservation(observation: StoredObservation, ttlDays: number): Promise<void>;
  listObservations(loadBalancer: string, from?: string, to?: string): Promise<StoredObservation[]>;
  putPrewarm(target: PrewarmTarget): Promise<void>;
  listPrewarms(loadBalancer?: string): Promise<PrewarmTarget[]>;
}

/** A stored record that did not parse: where it was, why, and where it was moved. */
export interface RecoveredRecord {
  location: string;
  reason: string;
  movedTo: string;
}

/** A stored record that does not parse, named (file path or table key); one line for a person. */
export class StoreRecordCorruptError extends ElbscopeError {
  override name = 'StoreRecordCorruptError';
  constructor(readonly location: string, readonly reason: string) {
    super(`${location}: stored record does not parse (${reason})`);
  }
}

/** Parse a stored record's JSON, or throw StoreRecordCorruptError naming it. Empty (a disk-full write) counts as corrupt. */
export function parseStored<T>(text: string, location: string): T {
  try {
    if (text.trim() === '') throw new Error('empty: a write that did not finish');
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StoreRecordCorruptError(location, err instanceof Error ? err.message.split('\n')[0] ?? 'not JSON' : 'not JSON');
  }
}

/** A store write conflict that did not settle after retries. */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}
