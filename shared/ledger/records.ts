/**
 * The primitives the ledger is written over: a keyed record store with
 * conditional writes. Each adapter (a local directory, a DynamoDB table, memory)
 * implements only these, and is handed to the ledger by a factory (localStore,
 * dynamoDbStore, memoryStore); the rules — commit, audit trail, outbox, claims,
 * receipts — are written once, in ledger.ts, commit.ts and flush.ts. Ids are the
 * ledger's (keys.ts): an adapter stores them as given and orders them as strings;
 * formats an earlier elbscope stored are read in one place (upgrade.ts).
 */

/** What a record is, which names where it lives. */
export type RecordKind = 'state' | 'event' | 'receipt' | 'outbox' | 'observation' | 'prewarm';

/**
 * The kinds written with `putIfVersion` (read back with their version). The others
 * are written once (`putIfAbsent`) or replaced whole (`put`); they read as version 1.
 */
export const VERSIONED_KINDS: ReadonlySet<RecordKind> = new Set(['state', 'outbox']);

/**
 * A record's key: its kind, the load balancer it belongs to (null: the store's own,
 * the outbox), and its id within them (an event's sequence number, an observation's
 * time, an event id for receipts and outbox entries, a pre-warm target's id).
 */
export interface RecordKey {
  kind: RecordKind;
  lb: string | null;
  id: string;
}

/** A record as read: its id, its JSON value, its version, where it lives (for messages). */
export interface ReadRecord {
  id: string;
  /** Undefined: the record holds no value where this version keeps it (an earlier elbscope's item: see `legacy`). */
  value: unknown;
  version: number;
  location: string;
  /**
   * Attributes an earlier elbscope kept beside the value (DynamoDB event items held
   * their publish receipt so); empty for records this version wrote.
   */
  legacy: Record<string, unknown>;
}

/** A record that is not JSON, as a query met it. */
export interface CorruptRecord {
  id: string;
  location: string;
  reason: string;
}

/** Options of a write. */
export interface WriteOptions {
  /** Epoch seconds after which the record may be dropped (DynamoDB TTL, the local store's pruning). */
  expiresAt?: number;
}

/**
 * The store's primitives. A write either happens whole or not at all; conditional
 * writes answer `false` when their condition does not hold (never a partial write).
 * A record that is not JSON is a StoreRecordCorruptError naming it.
 */
export interface Records {
  /** Where the records live, for messages. */
  readonly description: string;
  /** The record at `key`, or null. */
  get(key: RecordKey): Promise<ReadRecord | null>;
  /** Write if the stored version is `expectedVersion` (0: none stored); the new version is `expectedVersion + 1`. */
  putIfVersion(key: RecordKey, value: unknown, expectedVersion: number): Promise<boolean>;
  /** Create the record if there is none; false when there is one. */
  putIfAbsent(key: RecordKey, value: unknown, options?: WriteOptions): Promise<boolean>;
  /** Create or replace the record. */
  put(key: RecordKey, value: unknown, options?: WriteOptions): Promise<void>;
  /**
   * A load balancer's records of one kind, in id order (ids compared as strings, as
   * the ledger made them: keys.ts pads the ones that sort by number); `from`
   * and `to` bound the ids (inclusive). `corrupt` gets each record that is not JSON
   * (the others are still returned); without it such a record throws.
   */
  query(
    kind: RecordKind,
    lb: string | null,
    range?: { from?: string; to?: string },
    corrupt?: (bad: CorruptRecord) => void,
  ): Promise<ReadRecord[]>;
  /**
   * Delete the record (if `expectedVersion` is given, only while it has that version); false when the condition failed.
   */
  delete(key: RecordKey, expectedVersion?: number): Promise<boolean>;
  /**
   * Move a record aside, kept for a person (a state that does not parse): copied to
   * a name beside it, then deleted. Returns where it went.
   */
  quarantine(key: RecordKey, at: Date): Promise<string>;
  /** Every load balancer that has records. */
  loadBalancers(): Promise<string[]>;
  /**
   * Whether the store drops a record itself once its `expiresAt` passed (DynamoDB's
   * TTL, on AWS's clock); else the ledger judges expiry and calls `expire`.
   */
  readonly expiresOnItsOwn: boolean;
  /**
   * A load balancer's record ids of one kind, in id order, without reading the records (`newest`: only the last that
   * many).
   */
  ids(kind: RecordKind, lb: string, options?: { newest?: number }): Promise<string[]>;
  /** Remove these records of a load balancer: the ledger judged them expired (the local directory's pruning). */
  expire(kind: RecordKind, lb: string, ids: readonly string[]): Promise<void>;
}
