import { createHash } from 'node:crypto';
import type { PrewarmTarget } from '../detect/rules';
import { emptyState, type ChainedEvent, type LoadBalancerState } from '../detect/state';
import { canonicalJson, observationHeadOf } from '../store/chain';
import {
  byEventTime, BARE_STATE_SHAPE, deliveredList, EVENT_SHAPE, OBJECT_SHAPE, OBSERVATION_SHAPE, PREWARM_SHAPE, StoreConflictError, StoreRecordCorruptError,
  type DeliveryError, type OutboxEntry, type OutboxRetry, type RecordShape, type RecoveredRecord, type Store, type StoredEvent, type StoredObservation,
} from '../store/store';
import type { ReadRecord, RecordKey, Records } from './records';

/**
 * The ledger: the state, the audit trail, receipts, the outbox with its claims,
 * observations and pre-warm targets — written once, over an adapter's primitives
 * (`Records`). Every rule about what is written when lives here; the adapters only
 * store records.
 */
export class Ledger implements Store {
  readonly description: string;

  constructor(readonly records: Records) {
    this.description = records.description;
  }

  async getState(lb: string, attempt = 0): Promise<{ state: LoadBalancerState; version: number; recovered?: RecoveredRecord } | null> {
    const key = stateKey(lb);
    try {
      const found = await this.records.get(key);
      if (found === null) return null;
      const state = stateOf(found);
      const digest = (found.value as { digest?: unknown }).digest;
      if (digest !== undefined && digest !== stateDigest(state)) throw new StoreRecordCorruptError(found.location, 'its content does not match the digest written with it (it was edited)');
      return { state, version: found.version, ...(state.recovered ? { recovered: state.recovered } : {}) };
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError) || attempt > 0) throw err;
      // Kept for a person; a fresh state continues the chains from their last stored records, and is
      // written at once, saying what happened: whoever reads next (a cycle, or `verify`) finds it, and the
      // next commit announces it (store-record-corrupt) and clears the note.
      const movedTo = await this.records.quarantine(key, new Date());
      const state = emptyState();
      state.chain = await this.chainHead(lb);
      const observationHead = observationHeadOf(await this.listObservations(lb).catch(() => []));
      if (observationHead) state.observationChain = observationHead;
      state.recovered = { location: err.location, reason: err.reason, movedTo };
      if (!(await this.putState(lb, state, 0))) return this.getState(lb, attempt + 1); // another reader rebuilt it first
      return { state, version: 1, recovered: state.recovered };
    }
  }

  /** The last sound stored event's place in the chain (the genesis when there is none); a corrupt one is verify's to name. */
  private async chainHead(lb: string): Promise<{ seq: number; hash: string }> {
    const stored = await this.records.query('event', lb, {}, () => undefined);
    for (const found of stored.reverse()) {
      if (EVENT_SHAPE.test(found.value)) return { seq: found.value.seq, hash: found.value.hash };
    }
    return emptyState().chain;
  }

  async putState(lb: string, state: LoadBalancerState, expectedVersion: number): Promise<boolean> {
    return this.records.putIfVersion(stateKey(lb), { state, digest: stateDigest(state) }, expectedVersion);
  }

  async appendEvent(record: ChainedEvent): Promise<void> {
    const key = eventKey(record.loadBalancer, record.seq);
    if (!(await this.records.putIfAbsent(key, record))) {
      const existing = await this.records.get(key);
      const stored = existing && shaped(existing, EVENT_SHAPE);
      if (stored?.id !== record.id) throw new StoreConflictError(`${existing?.location ?? key.id}: sequence ${record.seq} already holds event ${String(stored?.id)}, not ${record.id}`);
      // Appended before (a crash may have come between this write and the outbox's): queue it all the same,
      // unless it was published or marked undeliverable since (a receipt is only ever written after the event).
      if (closes(await this.receiptOf(record, existing?.legacy ?? {}))) return;
    }
    // Queued already: left as it is (its claim and backoff belong to it; a second writer must not publish it too).
    await this.records.putIfAbsent(outboxKey(record.id), freshEntry(record));
  }

  async getEvent(lb: string, seq: number): Promise<StoredEvent | null> {
    const found = await this.records.get(eventKey(lb, seq));
    if (!found) return null;
    const record = shaped(found, EVENT_SHAPE);
    return storedEvent(record, found, await this.receiptOf(record, found.legacy));
  }

  /**
   * An event's receipt (published, or refused for good), or null: its own record,
   * else what an earlier elbscope kept beside the event. One that does not parse
   * still closes the event (never a second publish); `verify` names it.
   */
  private async receiptOf(record: ChainedEvent, legacy: Record<string, unknown>): Promise<Receipt | null> {
    try {
      const found = await this.records.get(receiptKey(record));
      return found ? receiptFrom(found, record) : legacyReceipt(legacy);
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError)) throw err;
      return unreadableReceipt(err.location, err.reason);
    }
  }

  async listLoadBalancers(): Promise<string[]> {
    return this.records.loadBalancers();
  }

  async listEvents(lb?: string): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (const name of lb ? [lb] : await this.listLoadBalancers()) out.push(...(await this.listTrail(name)).events);
    return out;
  }

  async listTrail(lb: string): Promise<{ events: StoredEvent[]; strayReceipts: { eventId: string; location: string }[] }> {
    const unreadable = new Map<string, Receipt>();
    const kept: { id: string; location: string }[] = [];
    const read = await this.records.query('receipt', lb, {}, (bad) => {
      kept.push(bad);
      unreadable.set(bad.id, unreadableReceipt(bad.location, bad.reason));
    });
    kept.push(...read);
    const receipts = new Map(read.map((r) => [r.id, r]));
    const events: StoredEvent[] = [];
    for (const found of await this.records.query('event', lb)) {
      const record = shaped(found, EVENT_SHAPE);
      const receipt = receipts.get(record.id);
      events.push(storedEvent(record, found, receipt ? receiptFrom(receipt, record) : (unreadable.get(record.id) ?? legacyReceipt(found.legacy))));
    }
    const stored = new Set(events.map((e) => e.record.id));
    const strayReceipts = kept.filter((r) => !stored.has(r.id)).map((r) => ({ eventId: r.id, location: r.location }));
    return { events, strayReceipts };
  }

  async listOutbox(): Promise<OutboxEntry[]> {
    const unreadable: string[] = [];
    const found = await this.records.query('outbox', null, {}, (bad) => unreadable.push(bad.id));
    const entries: OutboxEntry[] = [];
    for (const item of found) {
      const entry = entryOf(item.value);
      if (entry) entries.push(entry);
      else unreadable.push(item.id);
    }
    // The audit trail holds the event: an entry that does not read is queued again from there (the outbox copy is only a pointer to it).
    const trail = unreadable.length > 0 ? await this.listEvents() : [];
    for (const id of unreadable) {
      await this.records.quarantine(outboxKey(id), new Date());
      const stored = trail.find((e) => e.record.id === id);
      if (!stored || stored.publishedAt || stored.deliveryError) continue;
      const entry = freshEntry(stored.record);
      if (await this.records.putIfAbsent(outboxKey(id), entry)) entries.push(entry);
    }
    return entries.sort(byEventTime);
  }

  async claimOutbox(id: string, claimant: string, now: Date, leaseMs: number): Promise<boolean> {
    const found = await this.outboxRecord(id);
    if (!found) return false;
    const { value, version } = found;
    // A claim that does not read (a time that is not one) holds nothing.
    const until = Date.parse(String(value.claimUntil ?? ''));
    if (Number.isFinite(until) && until > now.getTime()) return false;
    return this.records.putIfVersion(outboxKey(id), { ...value, claimant, claimUntil: new Date(now.getTime() + leaseMs).toISOString() }, version);
  }

  async releaseOutbox(id: string): Promise<void> {
    await this.writeOutbox(id, (value) => value && withoutClaim(value));
  }

  async deferOutbox(id: string, retry: OutboxRetry): Promise<void> {
    await this.writeOutbox(id, (value) => value && { ...withoutClaim(value), attempts: retry.attempts, notBefore: retry.notBefore, lastError: retry.lastError, delivered: [...(retry.delivered ?? [])] });
  }

  async noteDelivered(id: string, delivered: readonly string[]): Promise<void> {
    await this.writeOutbox(id, (value) => value && { ...value, delivered: [...delivered] });
  }

  /**
   * Write an outbox entry as `next` makes it from the stored one (null: none queued;
   * `next` answering null: nothing to write — an entry published meanwhile by another
   * writer is left gone), settling races by its version.
   */
  private async writeOutbox(id: string, next: (value: Record<string, unknown> | null) => Record<string, unknown> | null): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const found = await this.outboxRecord(id);
      const value = next(found?.value ?? null);
      if (value === null || (await this.records.putIfVersion(outboxKey(id), value, found?.version ?? 0))) return;
    }
    throw new StoreConflictError(`${this.description}: outbox entry ${id} kept changing under 8 attempts to write it`);
  }

  /** An outbox entry's stored value and version (null: not queued; one that does not read counts as a value with nothing in it). */
  private async outboxRecord(id: string): Promise<{ value: Record<string, unknown>; version: number } | null> {
    const found = await this.records.get(outboxKey(id)).catch((err: unknown) => {
      if (err instanceof StoreRecordCorruptError) return { value: {}, version: 0 };
      throw err;
    });
    if (!found) return null;
    const value = OBJECT_SHAPE.test(found.value) ? found.value : {};
    // An entry from before versions was the bare event: its fields become the entry's.
    return { value: EVENT_SHAPE.test(value) ? { ...freshEntry(value) } : value, version: found.version };
  }

  async discardOutbox(id: string): Promise<void> {
    await this.records.delete(outboxKey(id));
  }

  async markPublished(record: ChainedEvent, at: Date, messageId: string | null): Promise<void> {
    await this.closeOutbox(record, { publishedAt: at.toISOString(), messageId, deliveryError: null });
  }

  async markUndeliverable(record: ChainedEvent, at: Date, error: string): Promise<void> {
    await this.closeOutbox(record, { publishedAt: null, messageId: null, deliveryError: { at: at.toISOString(), error } });
  }

  /** Write the event's receipt, then take it out of the outbox (a crash between leaves it queued; the receipt stops a second publish). */
  private async closeOutbox(record: ChainedEvent, receipt: Receipt): Promise<void> {
    await this.records.put(receiptKey(record), sealReceipt(record, receipt));
    await this.discardOutbox(record.id);
  }

  async requeue(record: ChainedEvent): Promise<void> {
    const found = await this.records.get(eventKey(record.loadBalancer, record.seq));
    if (!found || shaped(found, EVENT_SHAPE).id !== record.id) throw new StoreConflictError(`${found?.location ?? this.description}: event ${record.id} is not stored there`);
    const receipt = await this.receiptOf(record, found.legacy);
    if (receipt?.publishedAt) throw new StoreConflictError(`${receipt.location}: event ${record.id} was published already`);
    // Queued first (afresh: no backoff, delivered list or claim), mark cleared second: a crash between leaves it queued (and still marked), never lost.
    await this.writeOutbox(record.id, () => ({ ...freshEntry(record) }));
    await this.records.delete(receiptKey(record));
    // A mark an earlier elbscope kept beside the event stays there: a cleared receipt overrides it.
    if (legacyReceipt(found.legacy)) await this.records.put(receiptKey(record), sealReceipt(record, { publishedAt: null, messageId: null, deliveryError: null }));
  }

  async putObservation(observation: StoredObservation, ttlDays: number): Promise<void> {
    const atMs = Date.parse(observation.at);
    // Keyed by time and content: two writers' attempts at one cycle time never overwrite each other
    // (the one whose commit lost stays beside the chain as uncommitted; verify counts it so).
    const id = observation.hash ? `${observation.at}.${observation.hash.slice(0, 12)}` : observation.at;
    await this.records.put({ kind: 'observation', lb: observation.loadBalancer, id }, observation, { expiresAt: Math.floor(atMs / 1000) + ttlDays * 86_400 });
    // The TTL, where the store has none of its own: observations older than ttlDays go (ids sort by time).
    await this.records.expire('observation', observation.loadBalancer, new Date(atMs - ttlDays * 86_400_000).toISOString());
  }

  async listObservations(lb: string, from?: string, to?: string): Promise<StoredObservation[]> {
    // Ids are the time, then `.` and a hash: `~` after `to` takes every record of that time.
    const range = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to: `${to}~` }) };
    return (await this.records.query('observation', lb, range)).map((found) => shaped(found, OBSERVATION_SHAPE));
  }

  async putPrewarm(target: PrewarmTarget): Promise<void> {
    const key: RecordKey = { kind: 'prewarm', lb: target.loadBalancer, id: target.id };
    if (!(await this.records.putIfAbsent(key, target))) throw new StoreConflictError(`${this.description}: pre-warm target ${target.id} of ${target.loadBalancer} exists already`);
  }

  async listPrewarms(lb?: string): Promise<PrewarmTarget[]> {
    const out: PrewarmTarget[] = [];
    for (const name of lb ? [lb] : await this.listLoadBalancers()) for (const found of await this.records.query('prewarm', name)) out.push(shaped(found, PREWARM_SHAPE));
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }
}

const stateKey = (lb: string): RecordKey => ({ kind: 'state', lb, id: 'state' });
const eventKey = (lb: string, seq: number): RecordKey => ({ kind: 'event', lb, id: String(seq) });
const receiptKey = (record: Pick<ChainedEvent, 'loadBalancer' | 'id'>): RecordKey => ({ kind: 'receipt', lb: record.loadBalancer, id: record.id });
const outboxKey = (id: string): RecordKey => ({ kind: 'outbox', lb: null, id });

/** A record's value, if it has the shape; else StoreRecordCorruptError naming where it lives. */
function shaped<T>(found: ReadRecord, shape: RecordShape<T>): T {
  if (!shape.test(found.value)) throw new StoreRecordCorruptError(found.location, `not ${shape.what}`);
  return found.value;
}

/**
 * A state's digest, written beside it: an edit that does not recompute it is found
 * on the next read (the state is then moved aside and rebuilt, as one that does not
 * parse). Over the compact JSON, as read back (key order is kept).
 */
function stateDigest(state: LoadBalancerState): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

/** The rules' state in a state record: `{ state }`, or (DynamoDB, before the ledger) the bare state. */
function stateOf(found: ReadRecord): LoadBalancerState {
  const value = found.value as { state?: unknown } | null;
  if (value !== null && typeof value === 'object' && BARE_STATE_SHAPE.test(value.state)) return value.state;
  return shaped(found, BARE_STATE_SHAPE);
}

/** An outbox entry as stored: the event and what delivery did so far (an entry from before versions is the bare event). */
function entryOf(value: unknown): OutboxEntry | null {
  if (EVENT_SHAPE.test(value)) return freshEntry(value);
  if (!OBJECT_SHAPE.test(value) || !EVENT_SHAPE.test(value.record)) return null;
  // Backoff fields that do not read are only a backoff: tried again now.
  const attempts = Number.isSafeInteger(value.attempts) ? (value.attempts as number) : 0;
  const notBefore = typeof value.notBefore === 'string' && Number.isFinite(Date.parse(value.notBefore)) ? value.notBefore : null;
  return { record: value.record, attempts, notBefore, lastError: typeof value.lastError === 'string' ? value.lastError : null, delivered: deliveredList(value.delivered) };
}

/** An outbox entry's value with no claim on it. */
function withoutClaim({ claimant: _c, claimUntil: _u, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}

function freshEntry(record: ChainedEvent): OutboxEntry {
  return { record, attempts: 0, notBefore: null, lastError: null, delivered: [] };
}

/** An event's receipt: published (when, the message id), or refused for good; `location` where it lives. */
export interface Receipt {
  publishedAt: string | null;
  messageId: string | null;
  deliveryError: DeliveryError | null;
  location?: string;
  /** Set when the receipt does not belong to its event (edited, or moved from another): `verify` names it. */
  unsound?: string;
  /** It does not parse: it still closes the event. */
  unreadable?: true;
}

/**
 * A receipt as written: its fields, the event it closes (id, place, hash) and a
 * hash over all of them — an edited receipt, or one copied onto another event, no
 * longer hashes (`verify` names it).
 */
function sealReceipt(record: ChainedEvent, receipt: Receipt): Record<string, unknown> {
  const body = { eventId: record.id, seq: record.seq, eventHash: record.hash, publishedAt: receipt.publishedAt, messageId: receipt.messageId, deliveryError: receipt.deliveryError };
  return { ...body, hash: receiptHash(body) };
}

/** The hash a sealed receipt carries over its other fields. */
export function receiptHash(body: Record<string, unknown>): string {
  const { hash: _ignored, ...content } = body;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/**
 * A stored receipt of `record` read back; fields that do not read count as none (a
 * receipt that says nothing is no receipt). It still counts for delivery when its
 * seal does not hold (never a second publish), and `unsound` says why for `verify`.
 */
function receiptFrom(found: ReadRecord, record: ChainedEvent): Receipt {
  const location = found.location;
  if (!OBJECT_SHAPE.test(found.value)) return unreadableReceipt(location, 'not a JSON object');
  const value = found.value;
  const publishedAt = typeof value.publishedAt === 'string' ? value.publishedAt : null;
  const error = value.deliveryError as { at?: unknown; error?: unknown } | null | undefined;
  const deliveryError = error && typeof error.at === 'string' ? { at: error.at, error: String(error.error ?? '') } : null;
  if (!publishedAt && !deliveryError && value.hash === undefined) return unreadableReceipt(location, 'says neither when it was published nor why it cannot be');
  const unsound = receiptFault(value, record);
  return { publishedAt, messageId: typeof value.messageId === 'string' ? value.messageId : null, deliveryError, location, ...(unsound ? { unsound } : {}) };
}

/** Why a receipt does not belong to its event, or null (receipts from before seals are not judged). */
function receiptFault(value: Record<string, unknown>, record: ChainedEvent): string | null {
  if (value.hash === undefined && value.eventId === undefined) return null;
  if (value.hash !== receiptHash(value)) return 'its content does not hash to its seal (edited)';
  if (value.eventId !== record.id || value.seq !== record.seq || value.eventHash !== record.hash) return `it closes another event (${String(value.eventId)} #${String(value.seq)})`;
  return null;
}

/** A receipt that does not read: it closes its event all the same (a second publish is worse than a question), and says why. */
function unreadableReceipt(location: string, reason: string): Receipt {
  return { publishedAt: null, messageId: null, deliveryError: null, location, unsound: `does not read (${reason})`, unreadable: true };
}

/** Whether a receipt closes its event: published, refused for good, or unreadable (a cleared one does not). */
function closes(receipt: Receipt | null): boolean {
  return receipt !== null && (receipt.publishedAt !== null || receipt.deliveryError !== null || receipt.unreadable === true);
}

/** The receipt an earlier elbscope kept on a DynamoDB event item. */
function legacyReceipt(legacy: Record<string, unknown>): Receipt | null {
  if (typeof legacy.publishedAt === 'string') return { publishedAt: legacy.publishedAt, messageId: typeof legacy.messageId === 'string' ? legacy.messageId : null, deliveryError: null };
  if (typeof legacy.undeliverableAt === 'string') return { publishedAt: null, messageId: null, deliveryError: { at: legacy.undeliverableAt, error: String(legacy.deliveryError ?? '') } };
  return null;
}

/** A stored event with its receipt. */
function storedEvent(record: ChainedEvent, found: ReadRecord, receipt: Receipt | null): StoredEvent {
  const where = receipt?.location ? { receipt: { location: receipt.location, ...(receipt.unsound ? { unsound: receipt.unsound } : {}), ...(receipt.unreadable ? { unreadable: true as const } : {}) } } : {};
  return { record, location: found.location, publishedAt: receipt?.publishedAt ?? null, deliveryError: receipt?.deliveryError ?? null, ...where };
}
