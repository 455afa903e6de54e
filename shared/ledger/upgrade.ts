import type { StateRecord } from './state';
import { eventId } from './keys';
import type { CorruptRecord, ReadRecord, RecordKey, RecordKind, Records } from './records';
import {
  deliveredList,
  isRulesMemory,
  stateShape,
  EVENT_SHAPE,
  parseStored,
  StoreRecordCorruptError,
  type DeliveryError,
} from './store';

// Every stored format an earlier elbscope wrote, read as the current one — here and
// nowhere else. The adapters store records as they are given and the ledger reads
// only the current formats; what an upgrade must still read is:
//
// - event ids padded to 8 digits (the local directory before the ledger made the ids:
//   `events/00000001.json`); today's are 10 (keys.ts), as DynamoDB's always were;
// - DynamoDB items that kept their value in `record` instead of `data` (events and
//   outbox entries before the ledger);
// - a state record that is the bare state (DynamoDB before the ledger), not `{ state }`;
// - an outbox entry that is the bare event (before versions, claims and backoff);
// - an outbox entry's `delivered` list of sink names (before per-sink states);
// - an event item's receipt kept on the item itself (DynamoDB: `publishedAt`,
//   `messageId`, `undeliverableAt`, `deliveryError`), before receipts were records;
// - a flat state (before the state split): the rules' memory, the ledger's head and the
//   cycle's metadata side by side in one object of 21 fields; discovery's kept a whole
//   load balancer's memory, of which only its conditions were ever used.
//
// What is written is always the current format; nothing here rewrites a record.

/** The width an earlier local directory padded event ids to. */
const LEGACY_EVENT_ID_DIGITS = 8;

/**
 * `records` as the ledger reads them: every record in the current format. Reads find
 * an event under the id an earlier store gave it; listings give today's ids, in order;
 * an event is never created beside the same place stored under an earlier id.
 */
export function upgradedRecords(records: Records): Records {
  const upgraded = (kind: RecordKind, found: ReadRecord): ReadRecord => ({
    ...found,
    id: currentId(kind, found.id),
    value: storedValue(found),
  });
  const legacyOf = async (key: RecordKey): Promise<ReadRecord | null> => {
    const alias = legacyEventId(key);
    return alias === null ? null : records.get({ ...key, id: alias });
  };
  return {
    get description() {
      return records.description;
    },
    get expiresOnItsOwn() {
      return records.expiresOnItsOwn;
    },
    async get(key) {
      const found = (await records.get(key)) ?? (await legacyOf(key));
      return found && upgraded(key.kind, found);
    },
    async putIfAbsent(key, value, options) {
      // Present under its earlier id (readable or not): a second record of one place would fork the trail.
      const earlier = await legacyOf(key).catch((err: unknown) => {
        if (err instanceof StoreRecordCorruptError) return err;
        throw err;
      });
      return earlier === null && records.putIfAbsent(key, value, options);
    },
    putIfVersion: (key, value, expectedVersion) => records.putIfVersion(key, value, expectedVersion),
    put: (key, value, options) => records.put(key, value, options),
    async query(kind, lb, range, corrupt) {
      const out: ReadRecord[] = [];
      const bad = corrupt && ((r: CorruptRecord) => corrupt({ ...r, id: currentId(kind, r.id) }));
      for (const found of await records.query(kind, lb, range, bad)) {
        try {
          out.push(upgraded(kind, found));
        } catch (err) {
          if (!(err instanceof StoreRecordCorruptError) || !bad) throw err;
          bad({ id: found.id, location: err.location, reason: err.reason });
        }
      }
      return kind === 'event' ? inEventOrder(out) : out;
    },
    delete: (key, expectedVersion) => records.delete(key, expectedVersion),
    quarantine: (key, at) => records.quarantine(key, at),
    loadBalancers: () => records.loadBalancers(),
    async ids(kind, lb, options = {}) {
      if (kind !== 'event') return records.ids(kind, lb, options);
      const all = (await records.ids(kind, lb)).map((id) => currentId(kind, id)).sort();
      return options.newest === undefined ? all : all.slice(-options.newest);
    },
    expire: (kind, lb, ids) => records.expire(kind, lb, ids),
  };
}

/**
 * Events in chain order when ids of two widths meet (an upgraded local directory). One
 * place stored under both ids is listed twice: `verify` names it (`get` reads today's).
 */
function inEventOrder(found: ReadRecord[]): ReadRecord[] {
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** An id as today's ledger makes it (an event's, from any width of digits). */
function currentId(kind: RecordKind, id: string): string {
  return kind === 'event' && /^\d{1,16}$/.test(id) ? eventId(Number(id)) : id;
}

/** The id an earlier store kept an event under, when it differs from today's (null: none). */
function legacyEventId(key: RecordKey): string | null {
  if (key.kind !== 'event' || !/^\d+$/.test(key.id)) return null;
  const legacy = String(Number(key.id)).padStart(LEGACY_EVENT_ID_DIGITS, '0');
  return legacy === key.id ? null : legacy;
}

/** A record's value: its own, or (a DynamoDB item from before the ledger) the JSON in its `record` attribute. */
function storedValue(found: ReadRecord): unknown {
  if (found.value !== undefined) return found.value;
  return parseStored<unknown>(typeof found.legacy.record === 'string' ? found.legacy.record : '', found.location);
}

/**
 * The state in a state record, in three parts, and the value as stored (its digest is over that): `{ state }` of the
 * current format, or a flat state (before the split) as `{ state }` or (DynamoDB before the ledger) bare; else
 * StoreRecordCorruptError naming it. `discovery`: discovery's own record (its memory is discovery's).
 */
export function stateOf(found: ReadRecord, discovery: boolean): { state: StateRecord<unknown>; stored: unknown } {
  const value = found.value as { state?: unknown } | null;
  const wrapped = value !== null && typeof value === 'object' ? value.state : undefined;
  const shape = stateShape(discovery);
  if (shape.test(wrapped)) return { state: wrapped, stored: wrapped };
  if (isFlatState(wrapped)) return { state: splitFlat(wrapped, discovery), stored: wrapped };
  if (isFlatState(found.value)) return { state: splitFlat(found.value, discovery), stored: found.value };
  throw new StoreRecordCorruptError(found.location, `not ${shape.what}`);
}

/** A state as an elbscope before the split stored it: memory, head and metadata in one object. */
type FlatState = Record<string, unknown> & { chain: { seq: number; hash: string }; pending: unknown[] };

function isFlatState(v: unknown): v is FlatState {
  if (!isRulesMemory(v)) return false;
  const { chain, pending } = v as unknown as Record<string, unknown>;
  const head = chain as { seq?: unknown; hash?: unknown } | null;
  return (
    Array.isArray(pending) &&
    typeof head === 'object' &&
    head !== null &&
    Number.isSafeInteger(head.seq) &&
    typeof head.hash === 'string'
  );
}

/** A flat state's fields sorted into the three parts (discovery's memory: its conditions, all it used). */
function splitFlat(flat: FlatState, discovery: boolean): StateRecord<unknown> {
  const {
    chain,
    pending,
    observationChain,
    prewarmDigests,
    recovered,
    lastCycleAt,
    lastTlsAt,
    observed,
    identity,
    ...memory
  } = flat;
  const present = (fields: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return {
    memory: discovery ? { conditions: memory.conditions } : memory,
    head: {
      chain,
      pending,
      ...present({ observationChain, prewarmDigests, recovered }),
    } as StateRecord<unknown>['head'],
    meta: {
      lastCycleAt: typeof lastCycleAt === 'string' ? lastCycleAt : null,
      lastTlsAt: typeof lastTlsAt === 'string' ? lastTlsAt : null,
      ...present({ observed, identity }),
    },
  };
}

/**
 * An outbox entry's stored fields: an entry from before versions was the bare event (it becomes an entry nothing was
 * delivered for yet); anything else as it is.
 */
export function outboxFields(value: Record<string, unknown>): Record<string, unknown> {
  return EVENT_SHAPE.test(value) ? { record: value, sinks: {}, attempts: 0, notBefore: null, lastError: null } : value;
}

/**
 * The sinks an entry names in its `delivered` list (an earlier elbscope kept only that, and may still note into it
 * while both run during a deploy): each has the event.
 */
export function legacyDelivered(value: Record<string, unknown>): string[] {
  return deliveredList(value.delivered);
}

/** The receipt an earlier elbscope kept on a DynamoDB event item (null: none). */
export function legacyReceipt(
  legacy: Record<string, unknown>,
): { publishedAt: string | null; messageId: string | null; deliveryError: DeliveryError | null } | null {
  if (typeof legacy.publishedAt === 'string')
    return {
      publishedAt: legacy.publishedAt,
      messageId: typeof legacy.messageId === 'string' ? legacy.messageId : null,
      deliveryError: null,
    };
  if (typeof legacy.undeliverableAt === 'string')
    return {
      publishedAt: null,
      messageId: null,
      deliveryError: { at: legacy.undeliverableAt, error: String(legacy.deliveryError ?? '') },
    };
  return null;
}
