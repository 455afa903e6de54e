import { Ledger, type LedgerOptions } from '../ledger/ledger';
import type { CorruptRecord, ReadRecord, RecordKey, RecordKind, Records, WriteOptions } from '../ledger/records';
import { parseStored, StoreRecordCorruptError } from '../ledger/store';

/** One stored record: its text as written (so a test can leave one that does not parse), its version, its expiry. */
interface Held {
  text: string;
  version: number;
  expiresAt?: number;
  /** Attributes an earlier elbscope kept beside the value (a DynamoDB item's), for upgrade tests. */
  legacy?: Record<string, unknown>;
}

/**
 * The record primitives in memory: what the ledger's rules are tested over without a
 * file system or DynamoDB (tests/unit/ledger). Values are kept as JSON text, read back
 * as a store reads them (a record that does not parse is a StoreRecordCorruptError);
 * ids are kept as given and ordered as strings, as every adapter orders them.
 */
export class MemoryRecords implements Records {
  readonly description = 'memory store';
  /** Records by kind, load balancer and id. */
  private readonly held = new Map<string, Held>();
  /** Records moved aside (quarantine), by where they went. */
  readonly quarantined = new Map<string, string>();

  /** `expiresOnItsOwn`: act as a store with an expiry of its own (DynamoDB's TTL) — the ledger then prunes nothing. */
  constructor(readonly expiresOnItsOwn = false) {}

  /** Write a record's text as it is, whatever it holds (a test's damage, or an earlier elbscope's format). */
  raw(key: RecordKey, text: string, options: { version?: number; legacy?: Record<string, unknown> } = {}): void {
    this.held.set(place(key), {
      text,
      version: options.version ?? 1,
      ...(options.legacy ? { legacy: options.legacy } : {}),
    });
  }

  /** A record's expiry as written (epoch seconds), for tests of expiry. */
  expiryOf(key: RecordKey): number | undefined {
    return this.held.get(place(key))?.expiresAt;
  }

  async get(key: RecordKey): Promise<ReadRecord | null> {
    const held = this.held.get(place(key));
    return held ? read(key, held) : null;
  }

  async putIfVersion(key: RecordKey, value: unknown, expectedVersion: number): Promise<boolean> {
    const held = this.held.get(place(key));
    if ((held?.version ?? 0) !== expectedVersion) return false;
    this.held.set(place(key), { text: JSON.stringify(value), version: expectedVersion + 1 });
    return true;
  }

  async putIfAbsent(key: RecordKey, value: unknown, options: WriteOptions = {}): Promise<boolean> {
    if (this.held.has(place(key))) return false;
    await this.put(key, value, options);
    return true;
  }

  async put(key: RecordKey, value: unknown, options: WriteOptions = {}): Promise<void> {
    this.held.set(place(key), {
      text: JSON.stringify(value),
      version: 1,
      ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
    });
  }

  async query(
    kind: RecordKind,
    lb: string | null,
    range: { from?: string; to?: string } = {},
    corrupt?: (bad: CorruptRecord) => void,
  ): Promise<ReadRecord[]> {
    const out: ReadRecord[] = [];
    for (const id of this.idsOf(kind, lb)) {
      if ((range.from !== undefined && id < range.from) || (range.to !== undefined && id > range.to)) continue;
      const key = { kind, lb, id };
      try {
        out.push(read(key, this.held.get(place(key)) as Held));
      } catch (err) {
        if (!(err instanceof StoreRecordCorruptError) || !corrupt) throw err;
        corrupt({ id, location: err.location, reason: err.reason });
      }
    }
    return out;
  }

  async delete(key: RecordKey, expectedVersion?: number): Promise<boolean> {
    const held = this.held.get(place(key));
    if (expectedVersion !== undefined && (held?.version ?? 0) !== expectedVersion) return false;
    this.held.delete(place(key));
    return true;
  }

  async quarantine(key: RecordKey, at: Date): Promise<string> {
    const movedTo = `${place(key)}.corrupt-${at.toISOString()}`;
    this.quarantined.set(movedTo, this.held.get(place(key))?.text ?? '');
    this.held.delete(place(key));
    return movedTo;
  }

  async loadBalancers(): Promise<string[]> {
    const names = new Set<string>();
    for (const k of this.held.keys()) {
      const [, lb] = k.split('\n');
      if (lb) names.add(lb);
    }
    return [...names].sort();
  }

  async ids(kind: RecordKind, lb: string, options: { newest?: number } = {}): Promise<string[]> {
    const ids = this.idsOf(kind, lb);
    return options.newest === undefined ? ids : ids.slice(-options.newest);
  }

  async expire(kind: RecordKind, lb: string, ids: readonly string[]): Promise<void> {
    for (const id of ids) this.held.delete(place({ kind, lb, id }));
  }

  /** A kind's ids of a load balancer, in string order. */
  private idsOf(kind: RecordKind, lb: string | null): string[] {
    const prefix = `${kind}\n${lb ?? ''}\n`;
    return [...this.held.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .sort();
  }
}

/** The ledger over records in memory (tests of its rules). */
export function memoryStore(records: Records = new MemoryRecords(), options: LedgerOptions = {}): Ledger {
  return new Ledger(records, options);
}

const place = (key: RecordKey) => `${key.kind}\n${key.lb ?? ''}\n${key.id}`;

/** A held record as read back. */
function read(key: RecordKey, held: Held): ReadRecord {
  const location = `memory ${key.kind}/${key.lb ?? '-'}/${key.id}`;
  return {
    id: key.id,
    value: held.text === '' && held.legacy ? undefined : parseStored<unknown>(held.text, location),
    version: held.version,
    location,
    legacy: held.legacy ?? {},
  };
}
