import { ElbscopeError } from '../errors';
import type { ChainedEvent, RulesMemory } from '../detect/state';
import type { StateRecord } from './state';
import { DISCOVERY_LEDGER } from './keys';
import type { PrewarmTarget } from '../detect/rules';
import type { Sealer, SealStatus, StateSeal } from './seal';

/** A stored event: the chained record, and when it was published (not part of the hash). */
export interface StoredEvent {
  record: ChainedEvent;
  publishedAt: string | null;
  /** Set when a sink refused the event for good (not part of the hash): when, and the error. */
  deliveryError: DeliveryError | null;
  /** Where it lives, for `verify` to name (a file path, a table key). */
  location: string;
  /** Where its receipt lives, and why that receipt does not belong to it (edited, another event's), for `verify`. */
  receipt?: { location: string; unsound?: string; unreadable?: true; seal?: SealStatus };
}

/** Events (or entries holding one) in the order they happened: time, then place in the chain. */
export function byEventTime(a: { record: ChainedEvent }, b: { record: ChainedEvent }): number {
  return a.record.at.localeCompare(b.record.at) || a.record.seq - b.record.seq;
}

/** A permanent delivery failure kept beside the event. */
export interface DeliveryError {
  at: string;
  error: string;
}

/** An event waiting in the outbox, with each sink's delivery of it so far. */
export interface OutboxEntry {
  record: ChainedEvent;
  /**
   * Each sink's delivery state, by the sink's description (a sink absent: not tried
   * yet). Sinks are independent: each has its own backoff and failure, none waits
   * for another. An entry from before per-sink states reads its `delivered` list as
   * delivered states and has no other: every other sink tries it at once.
   */
  sinks: Record<string, SinkDelivery>;
  /** Summary for older readers and counts: the most failed attempts of a sink still failing (0: none is). */
  attempts: number;
  /** Summary: the earliest next try of a sink still failing; null: none is failing. */
  notBefore: string | null;
  lastError: string | null;
  /** Summary: the sinks that have accepted the event. */
  delivered: string[];
  /**
   * With a key: the marks read as not there — a sink marked delivered or given up
   * without a seal that verifies (edited, or written without the key), for `verify`
   * to name. That sink is sent the alert again (a repeat beats a silenced alert).
   */
  untrusted?: { sink: string; reason: string }[];
}

/**
 * One sink's delivery of a queued event. The marks that stop a sink being sent it
 * (delivered, given up) carry, with a key, a keyed seal over the event, the sink and
 * the mark (shared/ledger/ledger.ts sinkMarkSubject); one without a seal that
 * verifies is not trusted. A failing state needs none: it only delays the sink.
 */
export type SinkDelivery =
  /** Accepted (`at` null: noted by an elbscope that kept no time); SNS's message id is kept for the receipt. */
  | { state: 'delivered'; at: string | null; messageId: string | null; seal?: string }
  /** Failed transiently `attempts` times since `since`; tried again from `notBefore`. */
  | { state: 'failing'; since: string; attempts: number; notBefore: string; lastError: string }
  /** Refused for good: never tried again by itself (`elbscope redeliver` queues the event afresh). */
  | { state: 'gave-up'; at: string; error: string; seal?: string };

/**
 * What a round of delivery leaves on an entry it does not close: each sink's state
 * (merged over the stored ones sink by sink; the summary follows from them), or — as
 * an earlier elbscope wrote it — the summary alone with the sinks that accepted.
 */
export type OutboxRetry =
  | { sinks: Readonly<Record<string, SinkDelivery>> }
  | { attempts: number; notBefore: string; lastError: string; delivered?: readonly string[] };

/**
 * The sink names stored on an outbox entry. Anything that is not a list of strings
 * reads as none: the event then goes to every sink again (a repeated console line is
 * better than a lost alert).
 */
export function deliveredList(value: unknown): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]).slice(0, 16) : [];
}

/** A stored observation of one cycle (kept for the report; expires after the TTL). */
export interface StoredObservation {
  loadBalancer: string;
  at: string;
  /** The cycle's snapshot (nodes and backends) as JSON-able data. */
  snapshot: unknown;
  /**
   * Its place in the load balancer's observation chain (absent on observations
   * stored before the chain): sequence, the previous record's hash and expiry (so a
   * missing predecessor can be told expired from deleted), its own expiry, its hash.
   */
  seq?: number;
  prevHash?: string;
  prevExpiresAt?: string | null;
  expiresAt?: string;
  hash?: string;
  /** The keyed seal over its place and hash (absent: from before keys). Not part of the hash. */
  seal?: string;
}

/**
 * The state and audit store as the cycles, the CLI and reports use it, implemented
 * once by the ledger (shared/ledger/ledger.ts) over an adapter's primitives (a local
 * directory for the CLI, DynamoDB on Lambda), built by a factory (localStore,
 * dynamoDbStore, memoryStore). Ten methods: the state (read, write), the audit trail
 * (append, one event, a load balancer's trail), and three families that take a
 * discriminated operation — the outbox, observations, pre-warm targets. Writes that
 * race are settled by versions: `putState` succeeds only if the stored version is
 * still `expectedVersion`.
 */
export interface Store {
  /** Where the store lives, for messages. */
  readonly description: string;
  /** The keyed seal its records are written and checked with (null: none, records as before keys). */
  readonly sealer: Sealer | null;
  /** Every load balancer that has records (discovery's own records are no load balancer's: not listed). */
  listLoadBalancers(): Promise<string[]>;
  /** Refuse (SealUnavailableError) a key that matches none of the store's seals: a wrong key. */
  checkKey(): Promise<void>;
  /**
   * The state and its version. 'repair' (a cycle): a stored state that does not parse is moved aside (kept for a
   * person) and replaced by a fresh one that continues the audit chain from its last stored record; `recovered` names
   * what was found and where it went. 'read' (verify, reports): never moved aside nor rebuilt (`recovered.movedTo`
   * empty: still in place).
   */
  getState<M = RulesMemory>(loadBalancer: string, mode?: StateMode): Promise<StateRead<M> | null>;
  /** Write the state if its version is still `expectedVersion` (0: not stored yet). False on conflict. */
  putState(loadBalancer: string, state: StateRecord<unknown>, expectedVersion: number): Promise<boolean>;
  /** Append a chained event; idempotent on its sequence number and id. Also queues it in the outbox. */
  appendEvent(record: ChainedEvent): Promise<void>;
  /**
   * The stored event at place `seq` of a load balancer's audit chain, with its
   * receipt (null: none there). Asked after a claim: an outbox entry is published
   * only as the chained event it copies, and not when that event was published
   * already (a re-drain racing a publisher can queue it again; an undeliverable mark
   * does not count: a `redeliver` queues the event while the mark is still there).
   */
  getEvent(loadBalancer: string, seq: number): Promise<StoredEvent | null>;
  /**
   * A load balancer's events with their receipts, and the receipts kept for no stored
   * event (where they live, by the event id they are kept under): what `verify` and
   * reports audit, from one read.
   */
  listTrail(loadBalancer: string): Promise<Trail>;
  /** The outbox (OutboxOp): list, claim, note, defer, release, discard, published, undeliverable, requeue. */
  outbox<O extends OutboxOp>(op: O): Promise<OutboxAnswer<O>>;
  /** Observations (ObservationOp): put one, list a load balancer's. */
  observations<O extends ObservationOp>(op: O): Promise<ObservationAnswer<O>>;
  /** Pre-warm targets (PrewarmOp): put one, list the trusted ones, audit them all. */
  prewarms<O extends PrewarmOp>(op: O): Promise<PrewarmAnswer<O>>;
}

/** How a state is read: by a cycle, repaired when it does not hold; by a reader, as it is. */
export type StateMode = 'repair' | 'read';

/**
 * A stored state as read: the state, its version, what was recovered, what its seal says. `M` is the memory's type: a
 * load balancer's rules' (RulesMemory), or discovery's under DISCOVERY_LEDGER (DiscoveryMemory).
 */
export interface StateRead<M = RulesMemory> {
  state: StateRecord<M>;
  version: number;
  recovered?: RecoveredRecord;
  seal?: StateSeal;
}

/** A load balancer's audit trail: its events with their receipts, and receipts kept for no stored event. */
export interface Trail {
  events: StoredEvent[];
  strayReceipts: { eventId: string; location: string }[];
}

/** What can be done to the outbox. */
export type OutboxOp =
  /** Events not yet published, oldest first. */
  | { op: 'list' }
  /**
   * Take the right to publish an event for `leaseMs`, answering the entry as it was claimed (null: someone else holds
   * it, or it is gone): each sink's state as the last publisher left it.
   */
  | { op: 'claim'; id: string; claimant: string; now: Date; leaseMs: number }
  /**
   * Sinks' delivery states so far, merged sink by sink onto the entry while the claim is held: an acceptance is noted
   * before the next sink is tried (a crash then repeats none that is noted).
   */
  | { op: 'note'; id: string; sinks: Readonly<Record<string, SinkDelivery>> }
  /** A round of delivery that leaves sinks to try later: keep the event queued with each sink's state; releases the claim. */
  | { op: 'defer'; id: string; retry: OutboxRetry }
  /** Give up the claim, nothing else changed. */
  | { op: 'release'; id: string }
  /** Take an entry out without touching the event (it was delivered already, or has no sound event). */
  | { op: 'discard'; id: string }
  /** Every sink accepted: write the event's receipt, then take it out of the outbox. */
  | { op: 'published'; record: ChainedEvent; at: Date; messageId: string | null }
  /** A permanent failure: mark the stored event undeliverable with the error and take it out of the outbox. */
  | { op: 'undeliverable'; record: ChainedEvent; at: Date; error: string }
  /** Queue a stored event again, now (`elbscope redeliver`): clears an undeliverable mark and any backoff. */
  | { op: 'requeue'; record: ChainedEvent };

/** What each outbox operation answers. */
export type OutboxAnswer<O extends OutboxOp> = O extends { op: 'list' }
  ? OutboxEntry[]
  : O extends { op: 'claim' }
    ? OutboxEntry | null
    : undefined;

/** What can be done to observations. */
export type ObservationOp =
  /** Store a cycle's observation, kept `ttlDays` (expiry: shared/ledger/expiry.ts). */
  | { op: 'put'; observation: StoredObservation; ttlDays: number }
  /** A load balancer's observations, oldest first, between two times (inclusive). */
  | { op: 'list'; lb: string; from?: string; to?: string };

/** What each observation operation answers. */
export type ObservationAnswer<O extends ObservationOp> = O extends { op: 'list' } ? StoredObservation[] : undefined;

/** What can be done to pre-warm targets. */
export type PrewarmOp =
  /** Store a target (once: a second with its id is a StoreConflictError). */
  | { op: 'put'; target: PrewarmTarget }
  /** The targets the cycles act on (with a key: the trusted ones), of one load balancer or all, oldest first. */
  | { op: 'list'; lb?: string }
  /** Every target of a load balancer as stored, with what its seal says. */
  | { op: 'audit'; lb: string };

/** What each pre-warm operation answers. */
export type PrewarmAnswer<O extends PrewarmOp> = O extends { op: 'list' }
  ? PrewarmTarget[]
  : O extends { op: 'audit' }
    ? { target: PrewarmTarget; seal: SealStatus }[]
    : undefined;

/**
 * Every stored event, of one load balancer (or discovery's record) or of all: each load balancer's trail in turn, then
 * discovery's.
 */
export async function listEvents(
  store: Pick<Store, 'listLoadBalancers' | 'listTrail'>,
  lb?: string,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  const all = lb ? [lb] : [...(await store.listLoadBalancers()), DISCOVERY_LEDGER];
  for (const name of all) out.push(...(await store.listTrail(name)).events);
  return out;
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
  constructor(
    readonly location: string,
    readonly reason: string,
  ) {
    super(`${location}: stored record does not parse (${reason})`);
  }
}

/**
 * Parse a stored record's JSON and check its shape, or throw StoreRecordCorruptError
 * naming it. Empty (a disk-full write), cut-off, and JSON of the wrong shape
 * (`null`, an array, a number where a sequence belongs) all count as corrupt.
 */
export function parseStored<T>(text: string, location: string, shape?: RecordShape<T>): T {
  let value: unknown;
  try {
    if (text.trim() === '') throw new Error('empty: a write that did not finish');
    value = JSON.parse(text);
  } catch (err) {
    throw new StoreRecordCorruptError(
      location,
      err instanceof Error ? (err.message.split('\n')[0] ?? 'not JSON') : 'not JSON',
    );
  }
  if (shape && !shape.test(value)) throw new StoreRecordCorruptError(location, `not ${shape.what}`);
  return value as T;
}

/** What a stored record must look like to be used. */
export interface RecordShape<T> {
  what: string;
  test(value: unknown): value is T;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: Record<string, unknown>, keys: string[]) => keys.every((k) => typeof v[k] === 'string');

/** An event record of the audit chain. */
export const EVENT_SHAPE: RecordShape<ChainedEvent> = {
  what: 'an event record (id, seq, hash, kind, at, summary)',
  test: (v): v is ChainedEvent =>
    isObject(v) &&
    Number.isSafeInteger(v.seq) &&
    strings(v, ['id', 'hash', 'prevHash', 'kind', 'status', 'loadBalancer', 'at', 'summary', 'fingerprint']) &&
    isObject(v.details),
};

/**
 * A state in the current format: its three parts (shared/ledger/state.ts), the memory a load balancer's rules' or, for
 * `discovery`, discovery's. Earlier formats are read in upgrade.ts.
 */
export function stateShape(discovery: boolean): RecordShape<StateRecord<unknown>> {
  return {
    what: 'a state (memory, head with chain and pending, meta)',
    test: (v): v is StateRecord<unknown> =>
      isObject(v) &&
      isObject(v.meta) &&
      isHead(v.head) &&
      (discovery ? isObject(v.memory) && isObject(v.memory.conditions) : isRulesMemory(v.memory)),
  };
}

function isHead(h: unknown): boolean {
  return (
    isObject(h) &&
    Array.isArray(h.pending) &&
    isObject(h.chain) &&
    Number.isSafeInteger(h.chain.seq) &&
    typeof h.chain.hash === 'string'
  );
}

/** The rules' memory of a load balancer (a flat state of an earlier elbscope holds its fields too). */
export function isRulesMemory(m: unknown): m is RulesMemory {
  return (
    isObject(m) &&
    Array.isArray(m.samples) &&
    Array.isArray(m.tlsSamples) &&
    ['preopen', 'certs', 'firstSign', 'conditions', 'prewarm'].every((k) => isObject(m[k])) &&
    (m.nodes === null || isObject(m.nodes))
  );
}

/** A pre-warm target. */
export const PREWARM_SHAPE: RecordShape<PrewarmTarget> = {
  what: 'a pre-warm target (id, loadBalancer, nodesPerAz, requestedAt; lcu a whole number when set)',
  test: (v): v is PrewarmTarget =>
    isObject(v) &&
    strings(v, ['id', 'loadBalancer', 'requestedAt']) &&
    Number.isSafeInteger(v.nodesPerAz) &&
    (v.lcu === undefined || v.lcu === null || (Number.isSafeInteger(v.lcu) && (v.lcu as number) > 0)),
};

/** A stored observation (the compact snapshot reports draw). */
export const OBSERVATION_SHAPE: RecordShape<StoredObservation> = {
  what: 'an observation (at, snapshot with azs, nodes, backends)',
  test: (v): v is StoredObservation => {
    if (!isObject(v) || !strings(v, ['at', 'loadBalancer']) || !isObject(v.snapshot)) return false;
    const { observation, backends } = v.snapshot;
    return (
      isObject(observation) && isObject(observation.azs) && Array.isArray(observation.nodes) && Array.isArray(backends)
    );
  },
};

/** Any JSON object (receipts, backoff records: their fields are read with defaults). */
export const OBJECT_SHAPE: RecordShape<Record<string, unknown>> = { what: 'a JSON object', test: isObject };

/**
 * A store write whose condition did not hold: a conflict that did not settle after retries, or a record that exists
 * already.
 */
export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}
