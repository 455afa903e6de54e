import { createHash } from 'node:crypto';
import type { PrewarmTarget } from '../detect/rules';
import { GENESIS_HASH, type ChainedEvent, type RulesMemory } from '../detect/state';
import { emptyStateOf, isDiscoveryLedger, type StateRecord } from './state';
import { observationHeadOf, prewarmHash } from './chain';
import { canonicalJson } from '../canonical-json';
import {
  byEventTime,
  EVENT_SHAPE,
  OBJECT_SHAPE,
  OBSERVATION_SHAPE,
  PREWARM_SHAPE,
  StoreConflictError,
  StoreRecordCorruptError,
  type DeliveryError,
  type OutboxAnswer,
  type OutboxEntry,
  type OutboxOp,
  type OutboxRetry,
  type ObservationAnswer,
  type ObservationOp,
  type PrewarmAnswer,
  type PrewarmOp,
  type StateMode,
  type StateRead,
  type RecordShape,
  type SinkDelivery,
  type RecoveredRecord,
  type Store,
  type StoredEvent,
  type StoredObservation,
  type Trail,
  listEvents,
} from './store';
import type { ReadRecord, Records } from './records';
import { eventKey, observationKey, outboxKey, prewarmKey, receiptKey, stateKey } from './keys';
import { legacyDelivered, legacyReceipt, outboxFields, stateOf, upgradedRecords } from './upgrade';
import { ObservationExpiry } from './expiry';
import {
  Sealer,
  SealUnavailableError,
  sha256,
  type MacPort,
  type SealStatus,
  type SealSubject,
  type StateSeal,
} from './seal';

/**
 * The ledger: the state, the audit trail, receipts, the outbox with its claims,
 * observations and pre-warm targets — written once, over an adapter's primitives
 * (`Records`). Every rule about what is written when lives here; the adapters only
 * store records.
 */
export class Ledger implements Store {
  readonly description: string;
  /**
   * The keyed seal (null: none configured — records are written and read as before
   * keys, their SHA-256 hashes the only check). With one, every record written is
   * sealed, and a record whose seal is missing or wrong is never trusted.
   */
  readonly sealer: Sealer | null;

  /** The adapter's records as the ledger reads them: earlier formats upgraded (shared/ledger/upgrade.ts). */
  readonly records: Records;

  constructor(records: Records, options: LedgerOptions = {}) {
    this.records = upgradedRecords(records);
    this.description = records.description;
    this.sealer = options.seal ? new Sealer(gated(options.seal, () => this.checkKey())) : null;
  }

  private keyMatched = false;

  /**
   * Refuse a key that matches none of the store's seals (SealUnavailableError, one line):
   * with a wrong key every sealed record would read as forged, a state be moved aside and
   * sealed anew with it. Checked once per process: each load balancer's state, then its
   * events (newest first), receipts, observations and pre-warm targets, until one seal
   * verifies (with the right key, the first). No seals at all, or a key that cannot be
   * used now: nothing to refuse here.
   */
  async checkKey(): Promise<void> {
    const sealer = this.sealer;
    if (!sealer || this.keyMatched) return;
    let seen = 0;
    for (const lb of await this.records.loadBalancers()) {
      for await (const { subject, seal } of this.sealedRecords(lb)) {
        const status = await sealer.check(subject, seal);
        if (status === 'sealed' || status === 'unknown') {
          this.keyMatched = status === 'sealed';
          return;
        }
        seen++;
      }
    }
    this.keyMatched = seen === 0; // no seal yet: this key makes the first ones
    if (seen > 0)
      throw new SealUnavailableError(
        `seal: the ${sealer.port.description} does not match this store's seals (wrong key?): none of the ${seen} seals checked verifies with it; nothing was judged and nothing written`,
      );
  }

  /**
   * A load balancer's records that carry a seal, each with what the seal is over (the state first, then the newest
   * events).
   */
  private async *sealedRecords(lb: string): AsyncGenerator<{ subject: SealSubject; seal: string }> {
    const sealOf = (found: ReadRecord | null) =>
      found && OBJECT_SHAPE.test(found.value) && typeof found.value.seal === 'string' ? found.value : null;
    const query = (kind: 'event' | 'receipt' | 'observation' | 'prewarm') =>
      this.records.query(kind, lb, {}, () => undefined).catch(() => []);
    const state = sealOf(await this.records.get(stateKey(lb)).catch(() => null));
    if (state)
      yield {
        subject: { kind: 'state', lb, id: 'state', digest: String(state.digest ?? '') },
        seal: state.seal as string,
      };
    for (const found of (await query('event')).reverse()) {
      const v = sealOf(found);
      if (v)
        yield {
          subject: { kind: 'event', lb: String(v.loadBalancer ?? lb), id: String(v.seq), digest: String(v.hash ?? '') },
          seal: v.seal as string,
        };
    }
    for (const found of await query('receipt')) {
      const v = sealOf(found);
      if (v) yield { subject: { kind: 'receipt', lb, id: found.id, digest: receiptHash(v) }, seal: v.seal as string };
    }
    for (const found of await query('observation')) {
      const v = sealOf(found);
      if (v)
        yield {
          subject: {
            kind: 'observation',
            lb: String(v.loadBalancer ?? lb),
            id: String(v.seq),
            digest: String(v.hash ?? ''),
          },
          seal: v.seal as string,
        };
    }
    for (const found of await query('prewarm')) {
      const v = sealOf(found);
      if (v && PREWARM_SHAPE.test(v)) yield { subject: prewarmSubject(v), seal: v.seal as string };
    }
  }

  /**
   * The state as `verify` and the report read it: judged as getState judges it, but
   * never moved aside nor rebuilt (a reader changes nothing). One that fails its
   * digest or seal is given as a rebuild would make it, `recovered` naming it with
   * `movedTo` empty (still in place: the next cycle moves it aside).
   */
  private async readState(lb: string): Promise<StateRead<unknown> | null> {
    try {
      return await this.judgedState(lb);
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError)) throw err;
      await this.checkKey();
      const state = await this.rebuiltState(lb, { location: err.location, reason: err.reason, movedTo: '' });
      return { state, version: 0, recovered: state.head.recovered as RecoveredRecord };
    }
  }

  /** The stored state, its digest and seal judged; throws StoreRecordCorruptError when it fails either. */
  private async judgedState(lb: string): Promise<StateRead<unknown> | null> {
    const found = await this.records.get(stateKey(lb));
    if (found === null) return null;
    const { state, stored } = stateOf(found, isDiscoveryLedger(lb));
    const digest = (found.value as { digest?: unknown }).digest;
    if (digest !== undefined && digest !== stateDigest(stored))
      throw new StoreRecordCorruptError(
        found.location,
        'its content does not match the digest written with it (it was edited)',
      );
    const seal = await this.stateSeal(lb, state, found);
    return {
      state,
      version: found.version,
      ...(state.head.recovered ? { recovered: state.head.recovered } : {}),
      ...(seal ? { seal } : {}),
    };
  }

  /** A fresh state continuing the chains from their last stored records, saying what was lost. */
  private async rebuiltState(lb: string, recovered: RecoveredRecord): Promise<StateRecord<unknown>> {
    const state = emptyStateOf(lb);
    state.head.chain = await this.chainHead(lb);
    const observationHead = observationHeadOf(await this.listObservations(lb).catch(() => []));
    if (observationHead) state.head.observationChain = observationHead;
    state.head.recovered = recovered;
    return state;
  }

  /**
   * The state and its version. 'repair' (what a cycle reads): a stored state that does not parse, or fails its digest
   * or seal, is moved aside (kept for a person) and replaced by a fresh one that continues the chains from their last
   * stored records. 'read' (verify, reports): judged alike, but never moved aside nor rebuilt (readState).
   */
  async getState<M = RulesMemory>(lb: string, mode: StateMode = 'repair'): Promise<StateRead<M> | null> {
    // The memory's type follows from the record (stateOf checks its shape): a load balancer's, or discovery's.
    return (mode === 'read' ? this.readState(lb) : this.repairedState(lb, 0)) as Promise<StateRead<M> | null>;
  }

  private async repairedState(lb: string, attempt: number): Promise<StateRead<unknown> | null> {
    try {
      return await this.judgedState(lb);
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError) || attempt > 0) throw err;
      // Never moved aside and sealed anew with a wrong key (it would call every sound record forged).
      await this.checkKey();
      // Kept for a person; a fresh state continues the chains from their last stored records, and is
      // written at once, saying what happened: whoever reads next (a cycle, or `verify`) finds it, and the
      // next commit announces it (store-record-corrupt) and clears the note.
      const movedTo = await this.records.quarantine(stateKey(lb), new Date());
      const state = await this.rebuiltState(lb, { location: err.location, reason: err.reason, movedTo });
      // Sealed when the key can be used; else written unsealed: the next keyed reader judges it as any state without a
      // seal.
      if (!(await this.putState(lb, state, 0, true))) return this.repairedState(lb, attempt + 1); // another reader rebuilt it first
      return { state, version: 1, recovered: state.head.recovered as RecoveredRecord };
    }
  }

  /**
   * The last sound stored event's place in the chain (the genesis when there is none); a corrupt one is verify's to
   * name.
   */
  private async chainHead(lb: string): Promise<{ seq: number; hash: string }> {
    const stored = await this.records.query('event', lb, {}, () => undefined);
    // The highest place taken, whatever it holds: a record whose content names another place (moved, edited) or that
    // does not read still takes its place, and a chain continued before it would clash there on every cycle.
    const taken = (await this.records.ids('event', lb)).reduce(
      (top, id) => Math.max(top, /^\d{1,16}$/.test(id) ? Number(id) : 0),
      0,
    );
    for (const found of stored.reverse()) {
      if (EVENT_SHAPE.test(found.value)) return { seq: Math.max(found.value.seq, taken), hash: found.value.hash };
    }
    return { seq: taken, hash: GENESIS_HASH };
  }

  /**
   * Move aside a state found behind its own audit chain (the place it writes next holds
   * another event: a rolled-back copy), kept for a person, if it is still the one read at
   * `version`. Answers where it was and went, and the stored heads (events, observations)
   * its replacement continues from; null when it changed since (a racing writer: read again).
   */
  async setAsideStale(lb: string, version: number): Promise<StaleStateSetAside | null> {
    const found = await this.records.get(stateKey(lb)).catch(() => null);
    if (!found || found.version !== version) return null;
    const movedTo = await this.records.quarantine(stateKey(lb), new Date());
    const observationChain = observationHeadOf(await this.listObservations(lb).catch(() => []));
    return {
      location: found.location,
      movedTo,
      chain: await this.chainHead(lb),
      ...(observationChain ? { observationChain } : {}),
    };
  }

  async putState(
    lb: string,
    state: StateRecord<unknown>,
    expectedVersion: number,
    unsealedIfNoKey = false,
  ): Promise<boolean> {
    const digest = stateDigest(state);
    let seal = {};
    if (this.sealer) {
      try {
        seal = { seal: await this.sealer.seal({ kind: 'state', lb, id: 'state', digest }) };
      } catch (err) {
        if (!unsealedIfNoKey || !(err instanceof SealUnavailableError)) throw err;
      }
    }
    return this.records.putIfVersion(stateKey(lb), { state, digest, ...seal }, expectedVersion);
  }

  /**
   * What a stored state's seal says (null: no key configured). A seal that does not
   * verify is an edit (StoreRecordCorruptError: moved aside and rebuilt). A state
   * with none is from before keys only while what it names is too: its chain heads
   * (the last event, the last stored observation) carry no seal and, when the key's
   * start is known, it and they are older than it; otherwise its seal was removed.
   */
  private async stateSeal(lb: string, state: StateRecord<unknown>, found: ReadRecord): Promise<StateSeal | null> {
    if (!this.sealer) return null;
    const value = found.value as { digest?: unknown; seal?: unknown };
    const status = await this.sealer.check(
      { kind: 'state', lb, id: 'state', digest: String(value.digest ?? '') },
      value.seal,
    );
    if (status === 'sealed') return 'sealed';
    if (status === 'unknown')
      return { unchecked: this.sealer.port.problem() ?? `seal: ${this.sealer.port.description} cannot be used` };
    if (status === 'bad')
      throw new StoreRecordCorruptError(
        found.location,
        `its seal does not verify with the ${this.sealer.port.description} (it was edited, or forged)`,
      );
    const after = await this.afterKeys(lb, state);
    if (after)
      throw new StoreRecordCorruptError(
        found.location,
        `it carries no seal, but ${after}: its seal was removed (edited, or forged)`,
      );
    return 'before-keys';
  }

  /** Why a state without a seal cannot be from before keys (null: it can). */
  private async afterKeys(lb: string, { head: heads, meta }: StateRecord<unknown>): Promise<string | null> {
    const since = await this.sealer?.port.since();
    const times = [meta.lastCycleAt, meta.lastTlsAt, meta.observed?.at ?? null].filter(
      (t): t is string => typeof t === 'string',
    );
    const late = since ? times.find((t) => t >= since) : undefined;
    if (since && late) return `it was written after the key began (${late} ≥ ${since})`;
    const head = heads.chain.seq > 0 ? await this.records.get(eventKey(lb, heads.chain.seq)).catch(() => null) : null;
    if (
      head &&
      OBJECT_SHAPE.test(head.value) &&
      (head.value.seal !== undefined || (since && typeof head.value.at === 'string' && head.value.at >= since))
    )
      return `the event it names as its chain head (#${heads.chain.seq}) is from after keys`;
    const observed = heads.observationChain;
    const at = meta.observed?.at;
    if (observed && at) {
      const last = await this.records.get(observationKey(lb, at, observed.hash)).catch(() => null);
      if (last && OBJECT_SHAPE.test(last.value) && last.value.seal !== undefined)
        return `the observation it names as its chain head (#${observed.seq}) is sealed`;
    }
    // Its times and heads are the forger's to write: once any record of the load balancer carries a seal, a keyed
    // writer has sealed its state too. Read only for a state without a seal (rare: the first keyed cycle of an
    // upgrade).
    for (const kind of ['event', 'observation', 'receipt', 'prewarm'] as const) {
      const stored = await this.records.query(kind, lb, {}, () => undefined).catch(() => []);
      const sealed = stored.find((found) => OBJECT_SHAPE.test(found.value) && found.value.seal !== undefined);
      if (sealed) return `a record of this load balancer is sealed (${sealed.location})`;
    }
    return null;
  }

  /**
   * Whether any load balancer's state carries a seal: the store was sealed with a key (a missing key is then not to be
   * made anew).
   */
  async holdsSeals(): Promise<boolean> {
    for (const lb of await this.records.loadBalancers()) {
      const found = await this.records.get(stateKey(lb)).catch(() => null);
      if (found && OBJECT_SHAPE.test(found.value) && found.value.seal !== undefined) return true;
    }
    return false;
  }

  async appendEvent(record: ChainedEvent): Promise<void> {
    const key = eventKey(record.loadBalancer, record.seq);
    if (!(await this.records.putIfAbsent(key, record))) {
      const existing = await this.records.get(key);
      const stored = existing && shaped(existing, EVENT_SHAPE);
      if (stored?.id !== record.id)
        throw new StoreConflictError(
          `${existing?.location ?? key.id}: sequence ${record.seq} already holds event ${String(stored?.id)}, not ${record.id}`,
        );
      // Appended before (a crash may have come between this write and the outbox's): queue it all the same,
      // unless it was published or marked undeliverable since (a receipt is only ever written after the event).
      if (closes(await this.receiptOf(record, existing?.legacy ?? {}), this.sealer !== null)) return;
    }
    // Queued already: left as it is (its claim and backoff belong to it; a second writer must not publish it too).
    await this.records.putIfAbsent(outboxKey(record.id), freshEntry(record));
  }

  async getEvent(lb: string, seq: number): Promise<StoredEvent | null> {
    const found = await this.records.get(eventKey(lb, seq));
    if (!found) return null;
    const record = shaped(found, EVENT_SHAPE);
    return storedEvent(record, found, await this.receiptOf(record, found.legacy), this.sealer !== null);
  }

  /**
   * An event's receipt (published, or refused for good), or null: its own record,
   * else what an earlier elbscope kept beside the event. Without a key, one that
   * does not parse still closes the event (never a second publish); with a key,
   * only a receipt whose seal verifies closes it (see closes). `verify` names the others.
   */
  private async receiptOf(record: ChainedEvent, legacy: Record<string, unknown>): Promise<Receipt | null> {
    let receipt: Receipt | null;
    try {
      const found = await this.records.get(receiptKey(record));
      receipt = found ? receiptFrom(found, record) : legacyReceipt(legacy);
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError)) throw err;
      receipt = unreadableReceipt(err.location, err.reason);
    }
    await this.judgeReceipts([{ record, receipt }]);
    return receipt;
  }

  /** With a key: each receipt's seal checked (a bounded number of calls at once), said on the receipt. */
  private async judgeReceipts(items: readonly { record: ChainedEvent; receipt: Receipt | null }[]): Promise<void> {
    const sealer = this.sealer;
    if (!sealer) return;
    const asked = items.flatMap(({ record, receipt }) => (receipt ? [{ record, receipt }] : []));
    const statuses = await sealer.checkAll(
      asked.map(({ record, receipt }) => ({
        subject: {
          kind: 'receipt' as const,
          lb: record.loadBalancer,
          id: record.id,
          digest: receipt.sealOf?.digest ?? '',
        },
        seal: receipt.sealOf?.seal,
      })),
    );
    asked.forEach(({ receipt }, i) => {
      receipt.seal = statuses[i] as SealStatus;
      if (receipt.seal === 'bad')
        receipt.unsound ??= `its seal does not verify with the ${sealer.port.description} (edited, or forged)`;
    });
  }

  async listLoadBalancers(): Promise<string[]> {
    // Discovery's records (keys.ts DISCOVERY_LEDGER) are its own, not a load balancer's.
    return (await this.records.loadBalancers()).filter((lb) => !isDiscoveryLedger(lb));
  }

  async listTrail(lb: string): Promise<Trail> {
    const unreadable = new Map<string, Receipt>();
    const kept: { id: string; location: string }[] = [];
    const read = await this.records.query('receipt', lb, {}, (bad) => {
      kept.push(bad);
      unreadable.set(bad.id, unreadableReceipt(bad.location, bad.reason));
    });
    kept.push(...read);
    const receipts = new Map(read.map((r) => [r.id, r]));
    const trail: { record: ChainedEvent; found: ReadRecord; receipt: Receipt | null }[] = [];
    for (const found of await this.records.query('event', lb)) {
      const record = shaped(found, EVENT_SHAPE);
      const receipt = receipts.get(record.id);
      trail.push({
        record,
        found,
        receipt: receipt ? receiptFrom(receipt, record) : (unreadable.get(record.id) ?? legacyReceipt(found.legacy)),
      });
    }
    await this.judgeReceipts(trail);
    // As read, for the audit: what each receipt says, and (with a key) whether its seal holds.
    const events: StoredEvent[] = trail.map(({ record, found, receipt }) => storedEvent(record, found, receipt, false));
    const stored = new Set(events.map((e) => e.record.id));
    const strayReceipts = kept.filter((r) => !stored.has(r.id)).map((r) => ({ eventId: r.id, location: r.location }));
    return { events, strayReceipts };
  }

  /** The outbox: list it, claim an entry, note sinks, defer, release, discard, close it (published, undeliverable), requeue. */
  async outbox<O extends OutboxOp>(op: O): Promise<OutboxAnswer<O>> {
    const answer = await this.outboxOp(op);
    return answer as OutboxAnswer<O>;
  }

  private async outboxOp(op: OutboxOp): Promise<unknown> {
    switch (op.op) {
      case 'list':
        return this.listOutbox();
      case 'claim':
        return this.claimOutboxEntry(op.id, op.claimant, op.now, op.leaseMs);
      case 'note':
        return this.writeOutbox(
          op.id,
          async (value) =>
            value && {
              ...value,
              ...deliveryFields({ ...storedSinks(value), ...(await this.sealMarks(value, op.id, op.sinks)) }),
            },
        );
      case 'defer':
        return this.deferOutbox(op.id, op.retry);
      case 'release':
        return this.writeOutbox(op.id, (value) => value && withoutClaim(value));
      case 'discard':
        await this.records.delete(outboxKey(op.id));
        return undefined;
      case 'published':
        return this.closeOutbox(op.record, {
          publishedAt: op.at.toISOString(),
          messageId: op.messageId,
          deliveryError: null,
        });
      case 'undeliverable':
        return this.closeOutbox(op.record, {
          publishedAt: null,
          messageId: null,
          deliveryError: { at: op.at.toISOString(), error: op.error },
        });
      case 'requeue':
        return this.requeue(op.record);
    }
  }

  private async listOutbox(): Promise<OutboxEntry[]> {
    const unreadable: string[] = [];
    const found = await this.records.query('outbox', null, {}, (bad) => unreadable.push(bad.id));
    const entries: OutboxEntry[] = [];
    for (const item of found) {
      const entry = entryOf(item.value);
      if (entry) entries.push(await this.trustedMarks(entry));
      else unreadable.push(item.id);
    }
    // The audit trail holds the event: an entry that does not read is queued again from there (the outbox copy is only
    // a pointer to it).
    const trail = unreadable.length > 0 ? await listEvents(this) : [];
    for (const id of unreadable) {
      await this.records.quarantine(outboxKey(id), new Date());
      const stored = trail.find((e) => e.record.id === id);
      if (!stored || stored.publishedAt || stored.deliveryError) continue;
      const entry = freshEntry(stored.record);
      if (await this.records.putIfAbsent(outboxKey(id), entry)) entries.push(entry);
    }
    return entries.sort(byEventTime);
  }

  private async claimOutboxEntry(
    id: string,
    claimant: string,
    now: Date,
    leaseMs: number,
  ): Promise<OutboxEntry | null> {
    const found = await this.outboxRecord(id);
    if (!found) return null;
    const { value, version } = found;
    // Read as claimed: what another publisher noted up to its release is what this one goes on from.
    const entry = entryOf(value);
    if (!entry) return null; // does not read: listOutbox moves it aside and queues the event again
    // A claim that does not read (a time that is not one) holds nothing.
    const until = Date.parse(String(value.claimUntil ?? ''));
    if (Number.isFinite(until) && until > now.getTime()) return null;
    const claimed = await this.records.putIfVersion(
      outboxKey(id),
      { ...value, claimant, claimUntil: new Date(now.getTime() + leaseMs).toISOString() },
      version,
    );
    return claimed ? this.trustedMarks(entry) : null;
  }

  /**
   * With a key, an entry as far as its marks can be trusted: a sink marked delivered
   * or given up counts only when the mark's seal verifies (sinkMarkSubject), or when it
   * is unsealed and from before keys (its event carries no seal and, when the key's
   * start is known, is older than it: an earlier elbscope's `delivered` list keeps its
   * meaning, so an upgrade re-sends nothing). Any other mark reads as not there — that
   * sink is sent the alert again — and is named in `untrusted` for `verify`. A mark the
   * key cannot check now is not trusted either, and not named (verify says the key cannot be used).
   */
  private async trustedMarks(entry: OutboxEntry): Promise<OutboxEntry> {
    const sealer = this.sealer;
    if (!sealer) return entry;
    const { record } = entry;
    const marks = Object.entries(entry.sinks).filter(([, mark]) => mark.state !== 'failing');
    if (marks.length === 0) return entry;
    // A name too long for a seal's message (the store's word only: an entry may be forged) is a mark no key sealed.
    const fits = marks.map(
      ([sink]) => Buffer.byteLength(sink) + Buffer.byteLength(record.loadBalancer) <= MAX_SEALED_NAME_BYTES,
    );
    const checked = await sealer.checkAll(
      marks.flatMap(([sink, mark], i) =>
        fits[i] ? [{ subject: sinkMarkSubject(record, sink, mark), seal: 'seal' in mark ? mark.seal : undefined }] : [],
      ),
    );
    const statuses = fits.map((fit): SealStatus => (fit ? (checked.shift() as SealStatus) : 'bad'));
    let beforeKeys: boolean | undefined;
    const sinks = { ...entry.sinks };
    const untrusted: { sink: string; reason: string }[] = [];
    for (const [i, [sink, mark]] of marks.entries()) {
      const status = statuses[i] as SealStatus;
      if (status === 'sealed') continue;
      if (status === 'none' && (beforeKeys ??= await this.fromBeforeKeys(record))) continue;
      delete sinks[sink];
      if (status === 'unknown') continue;
      const why = status === 'bad' ? 'its seal does not verify' : 'it carries none, and its alert is from after keys';
      const marked = mark.state === 'delivered' ? 'delivered' : 'given up';
      untrusted.push({
        sink,
        reason: `outbox entry ${record.id} marks ${sink} ${marked} without a seal that verifies with the ${sealer.port.description}: a forged delivery mark (${why}); that sink is sent the alert again`,
      });
    }
    return { ...entry, sinks, delivered: deliveredNames(sinks), ...(untrusted.length > 0 ? { untrusted } : {}) };
  }

  /**
   * Whether an alert is from before keys: its event in the audit trail carries no seal, and is older than the key's
   * start when that is known.
   */
  private async fromBeforeKeys(copy: ChainedEvent): Promise<boolean> {
    const found = await this.records.get(eventKey(copy.loadBalancer, copy.seq)).catch(() => null);
    if (!found || !EVENT_SHAPE.test(found.value) || found.value.id !== copy.id || found.value.seal !== undefined)
      return false;
    const since = await this.sealer?.port.since();
    return !since || found.value.at < since;
  }

  /**
   * Sinks' marks as written: with a key, each delivered or given-up mark not sealed yet
   * is sealed (one MAC per mark; the cache makes a second write of it free). When the key
   * cannot be used the mark is written unsealed: it then reads as not delivered, and that
   * sink is sent the alert again — a repeat, never a silenced alert.
   */
  private async sealMarks(
    value: Record<string, unknown>,
    id: string,
    sinks: Readonly<Record<string, SinkDelivery>>,
  ): Promise<Record<string, SinkDelivery>> {
    const sealer = this.sealer;
    const record = EVENT_SHAPE.test(value.record) ? value.record : null;
    if (!sealer || !record || record.id !== id) return { ...sinks };
    const out: Record<string, SinkDelivery> = {};
    for (const [sink, mark] of Object.entries(sinks)) {
      out[sink] = mark;
      if (mark.state === 'failing' || mark.seal !== undefined) continue;
      try {
        out[sink] = { ...mark, seal: await sealer.seal(sinkMarkSubject(record, sink, mark)) };
      } catch (err) {
        if (!(err instanceof SealUnavailableError)) throw err;
      }
    }
    return out;
  }

  private async deferOutbox(id: string, retry: OutboxRetry): Promise<void> {
    await this.writeOutbox(id, async (value) => {
      if (!value) return null;
      if ('sinks' in retry)
        return {
          ...withoutClaim(value),
          ...deliveryFields({ ...storedSinks(value), ...(await this.sealMarks(value, id, retry.sinks)) }),
        };
      // The summary alone (the fields an earlier elbscope wrote): the named sinks delivered, the backoff as given.
      const named = Object.fromEntries(
        (retry.delivered ?? []).map((name): [string, SinkDelivery] => [
          name,
          { state: 'delivered', at: null, messageId: null },
        ]),
      );
      const sinks = { ...storedSinks(value), ...(await this.sealMarks(value, id, named)) };
      return {
        ...withoutClaim(value),
        ...deliveryFields(sinks),
        attempts: retry.attempts,
        notBefore: retry.notBefore,
        lastError: retry.lastError,
      };
    });
  }

  /**
   * Write an outbox entry as `next` makes it from the stored one (null: none queued;
   * `next` answering null: nothing to write — an entry published meanwhile by another
   * writer is left gone), settling races by its version.
   */
  private async writeOutbox(
    id: string,
    next: (
      value: Record<string, unknown> | null,
    ) => Record<string, unknown> | null | Promise<Record<string, unknown> | null>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const found = await this.outboxRecord(id);
      const value = await next(found?.value ?? null);
      if (value === null || (await this.records.putIfVersion(outboxKey(id), value, found?.version ?? 0))) return;
    }
    throw new StoreConflictError(`${this.description}: outbox entry ${id} kept changing under 8 attempts to write it`);
  }

  /**
   * An outbox entry's stored value and version (null: not queued; one that does not read counts as a value with nothing
   * in it).
   */
  private async outboxRecord(id: string): Promise<{ value: Record<string, unknown>; version: number } | null> {
    const found = await this.records.get(outboxKey(id)).catch((err: unknown) => {
      if (err instanceof StoreRecordCorruptError) return { value: {}, version: 0 };
      throw err;
    });
    if (!found) return null;
    return { value: outboxFields(OBJECT_SHAPE.test(found.value) ? found.value : {}), version: found.version };
  }

  /**
   * Write the event's receipt, then take it out of the outbox (a crash between leaves it queued; the receipt stops a
   * second publish).
   */
  private async closeOutbox(record: ChainedEvent, receipt: Receipt): Promise<void> {
    // The alert went out (or never can): its receipt is written even when the key cannot seal it now, saying
    // so — it then closes nothing, and `verify` names it — rather than leave the event queued for a second publish.
    await this.records.put(receiptKey(record), await this.sealReceipt(record, receipt, true));
    await this.records.delete(outboxKey(record.id));
  }

  private async requeue(record: ChainedEvent): Promise<void> {
    const found = await this.records.get(eventKey(record.loadBalancer, record.seq));
    if (!found || shaped(found, EVENT_SHAPE).id !== record.id)
      throw new StoreConflictError(`${found?.location ?? this.description}: event ${record.id} is not stored there`);
    const receipt = await this.receiptOf(record, found.legacy);
    if (receipt?.publishedAt && (!this.sealer || receipt.seal === 'sealed'))
      throw new StoreConflictError(`${receipt.location}: event ${record.id} was published already`);
    // Queued first (afresh: no backoff, delivered list or claim), mark cleared second: a crash between leaves it queued
    // (and still marked), never lost.
    await this.writeOutbox(record.id, () => ({ ...freshEntry(record) }));
    await this.records.delete(receiptKey(record));
    // A mark an earlier elbscope kept beside the event stays there: a cleared receipt overrides it.
    if (legacyReceipt(found.legacy))
      await this.records.put(
        receiptKey(record),
        await this.sealReceipt(record, { publishedAt: null, messageId: null, deliveryError: null }, false),
      );
  }

  /** Observations: store one (its expiry judged here), or list a load balancer's, oldest first, between two times. */
  async observations<O extends ObservationOp>(op: O): Promise<ObservationAnswer<O>> {
    const answer =
      op.op === 'put'
        ? await this.putObservation(op.observation, op.ttlDays)
        : await this.listObservations(op.lb, op.from, op.to);
    return answer as ObservationAnswer<O>;
  }

  private async putObservation(observation: StoredObservation, ttlDays: number): Promise<void> {
    const atMs = Date.parse(observation.at);
    // Keyed by time and content: two writers' attempts at one cycle time never overwrite each other
    // (the one whose commit lost stays beside the chain as uncommitted; verify counts it so).
    // Sealed over its place and hash: the chain's links then bind every record before it to the key.
    if (this.sealer && observation.hash && typeof observation.seq === 'number') {
      observation = {
        ...observation,
        seal: await this.sealer.seal({
          kind: 'observation',
          lb: observation.loadBalancer,
          id: String(observation.seq),
          digest: observation.hash,
        }),
      };
    }
    // Expiry goes by the wall clock and by the ledger's own time (shared/ledger/expiry.ts): a clock that jumps takes
    // nothing.
    const expiry = (this.observationExpiry ??= new ObservationExpiry(this.records));
    const lb = observation.loadBalancer;
    const retentionMs = ttlDays * 86_400_000;
    const expiresAt = this.records.expiresOnItsOwn
      ? await expiry.keepUntil(lb, atMs, retentionMs)
      : Math.floor(atMs / 1000) + ttlDays * 86_400;
    await this.records.put(observationKey(lb, observation.at, observation.hash), observation, { expiresAt });
    if (!this.records.expiresOnItsOwn) await expiry.prune(lb, atMs, retentionMs);
  }

  /** When stored observations go (created on first use). */
  private observationExpiry?: ObservationExpiry;

  private async listObservations(lb: string, from?: string, to?: string): Promise<StoredObservation[]> {
    // Ids are the time, then `.` and a hash: `~` after `to` takes every record of that time.
    const range = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to: `${to}~` }) };
    return (await this.records.query('observation', lb, range)).map((found) => shaped(found, OBSERVATION_SHAPE));
  }

  /** Pre-warm targets: store one (once), list the trusted ones, or audit them all with what their seals say. */
  async prewarms<O extends PrewarmOp>(op: O): Promise<PrewarmAnswer<O>> {
    const answer =
      op.op === 'put'
        ? await this.putPrewarm(op.target)
        : op.op === 'list'
          ? await this.listPrewarms(op.lb)
          : await this.auditPrewarms(op.lb);
    return answer as PrewarmAnswer<O>;
  }

  private async putPrewarm(target: PrewarmTarget): Promise<void> {
    const key = prewarmKey(target.loadBalancer, target.id);
    const { seal: _old, ...content } = target as PrewarmTarget & { seal?: unknown };
    const sealed = this.sealer ? { ...content, seal: await this.sealer.seal(prewarmSubject(content)) } : content;
    if (!(await this.records.putIfAbsent(key, sealed)))
      throw new StoreConflictError(
        `${this.description}: pre-warm target ${target.id} of ${target.loadBalancer} exists already`,
      );
  }

  /**
   * The pre-warm targets the cycles act on. With a key, only trusted ones: sealed
   * (by `elbscope prewarm`), or from before keys and vouched for by a cycle (their
   * digest in the state); a target someone wrote into the store is never acted on
   * (no false "pre-warm complete"). `auditPrewarms` lists them all.
   */
  private async listPrewarms(lb?: string): Promise<PrewarmTarget[]> {
    const out: PrewarmTarget[] = [];
    for (const name of lb ? [lb] : await this.listLoadBalancers()) {
      const audited = await this.auditPrewarms(name);
      const unsealed = audited.filter((a) => a.seal === 'none');
      // Vouched for by a state whose own seal holds (or that is from before keys): never by one the key could not
      // check.
      const vouching = this.sealer && unsealed.length > 0 ? await this.getState(name).catch(() => null) : null;
      const digests = vouching && typeof vouching.seal !== 'object' ? (vouching.state.head.prewarmDigests ?? {}) : {};
      for (const { target, seal } of audited)
        if (!this.sealer || seal === 'sealed' || (seal === 'none' && digests[target.id] === prewarmHash(target)))
          out.push(target);
    }
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }

  /** Every pre-warm target of a load balancer as stored, with what its seal says (no key: every one 'none'). */
  private async auditPrewarms(lb: string): Promise<{ target: PrewarmTarget; seal: SealStatus }[]> {
    const targets = (await this.records.query('prewarm', lb)).map(
      (found) => shaped(found, PREWARM_SHAPE) as PrewarmTarget & { seal?: unknown },
    );
    const seals = this.sealer
      ? await this.sealer.checkAll(targets.map((t) => ({ subject: prewarmSubject(t), seal: t.seal })))
      : targets.map((): SealStatus => 'none');
    return targets
      .map((target, i) => ({ target, seal: seals[i] as SealStatus }))
      .sort((a, b) => a.target.requestedAt.localeCompare(b.target.requestedAt));
  }

  /** A receipt as written: with a key, sealed; when `orNote` and the key cannot be used, unsealed with the reason. */
  private async sealReceipt(record: ChainedEvent, receipt: Receipt, orNote: boolean): Promise<Record<string, unknown>> {
    const body = receiptBody(record, receipt);
    if (!this.sealer) return body;
    try {
      return {
        ...body,
        seal: await this.sealer.seal({
          kind: 'receipt',
          lb: record.loadBalancer,
          id: record.id,
          digest: receiptHash(body),
        }),
      };
    } catch (err) {
      if (!orNote || !(err instanceof SealUnavailableError)) throw err;
      return { ...body, sealError: err.message };
    }
  }
}

/** A stale state moved aside (Ledger.setAsideStale): where, and the stored heads to continue from. */
export interface StaleStateSetAside {
  location: string;
  movedTo: string;
  chain: { seq: number; hash: string };
  observationChain?: { seq: number; hash: string; expiresAt: string };
}

/** What a ledger is built with. */
/**
 * A port whose first seals wait for `gate` (the key must match the store's seals before anything is sealed with it).
 */
function gated(port: MacPort, gate: () => Promise<void>): MacPort {
  return {
    description: port.description,
    problem: () => port.problem(),
    since: () => port.since(),
    verify: (data, mac) => port.verify(data, mac),
    async mac(data) {
      await gate();
      return port.mac(data);
    },
  };
}

export interface LedgerOptions {
  /** The key the audit is sealed with (shared/ledger/seal.ts); none: records are written as before keys. */
  seal?: MacPort;
}

/** What a pre-warm target's seal is over: its place and content. */
function prewarmSubject(target: PrewarmTarget & { seal?: unknown }) {
  return {
    kind: 'prewarm' as const,
    lb: target.loadBalancer,
    id: target.id,
    digest: prewarmHash(target as PrewarmTarget),
  };
}

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
function stateDigest(state: unknown): string {
  return createHash('sha256').update(JSON.stringify(state)).digest('hex');
}

/** An outbox entry as stored: the event and what delivery did so far (null: it does not read). */
function entryOf(stored: unknown): OutboxEntry | null {
  if (!OBJECT_SHAPE.test(stored)) return null;
  const value = outboxFields(stored);
  if (!EVENT_SHAPE.test(value.record)) return null;
  // Backoff fields that do not read are only a backoff: tried again now.
  const attempts = Number.isSafeInteger(value.attempts) ? (value.attempts as number) : 0;
  const notBefore = isTime(value.notBefore) ? value.notBefore : null;
  const sinks = storedSinks(value);
  return {
    record: value.record,
    sinks,
    attempts,
    notBefore,
    lastError: typeof value.lastError === 'string' ? value.lastError : null,
    delivered: deliveredNames(sinks),
  };
}

/**
 * The longest sink and load balancer names a delivery mark's seal is over together (a seal's message is at most 4 KB).
 */
const MAX_SEALED_NAME_BYTES = 3072;

/** The most sinks an outbox entry keeps states for (a few are configured; more is not a state elbscope wrote). */
const MAX_SINK_STATES = 16;

/**
 * Each sink's delivery state on a stored entry. An entry an earlier elbscope wrote
 * keeps only the names of the sinks that accepted (`delivered`): those read as
 * delivered, every other sink as not tried yet (tried at once: the old entry's
 * backoff belonged to the sink that held the others back). A state that does not
 * read is no state (that sink tries again: a repeat beats a lost alert).
 */
function storedSinks(value: Record<string, unknown>): Record<string, SinkDelivery> {
  const read: [string, SinkDelivery][] = [];
  for (const [name, state] of Object.entries(OBJECT_SHAPE.test(value.sinks) ? value.sinks : {}).slice(
    0,
    MAX_SINK_STATES,
  )) {
    const delivery = sinkDeliveryOf(state);
    if (delivery) read.push([name, delivery]);
  }
  const sinks = Object.fromEntries(read);
  // The list an earlier elbscope keeps (and notes into, should one run beside this one): a sink it names has the event.
  for (const name of legacyDelivered(value))
    if (sinks[name]?.state !== 'delivered') sinks[name] = { state: 'delivered', at: null, messageId: null };
  return sinks;
}

/**
 * One sink's stored state, if it reads as one (a mark's seal kept as stored: whether it verifies is trustedMarks's to
 * say).
 */
function sinkDeliveryOf(value: unknown): SinkDelivery | null {
  if (!OBJECT_SHAPE.test(value)) return null;
  const text = (v: unknown): v is string => typeof v === 'string';
  const seal = value.seal === undefined ? {} : { seal: text(value.seal) ? value.seal : '' };
  if (
    value.state === 'delivered' &&
    (value.at === null || isTime(value.at)) &&
    (value.messageId === null || text(value.messageId))
  ) {
    return { state: 'delivered', at: value.at, messageId: value.messageId, ...seal };
  }
  const attempts = Number.isSafeInteger(value.attempts) ? (value.attempts as number) : 0;
  if (
    value.state === 'failing' &&
    isTime(value.since) &&
    attempts >= 1 &&
    isTime(value.notBefore) &&
    text(value.lastError)
  ) {
    return { state: 'failing', since: value.since, attempts, notBefore: value.notBefore, lastError: value.lastError };
  }
  if (value.state === 'gave-up' && isTime(value.at) && text(value.error))
    return { state: 'gave-up', at: value.at, error: value.error, ...seal };
  return null;
}

/**
 * What a sink's mark on an outbox entry is sealed over: the alert (its load balancer
 * and event id), the sink, and the mark's content. A seal copied from another sink,
 * another alert, or onto an edited mark does not verify.
 */
function sinkMarkSubject(
  record: Pick<ChainedEvent, 'loadBalancer' | 'id'>,
  sink: string,
  mark: SinkDelivery,
): SealSubject {
  const { seal: _sealed, ...content } = mark as SinkDelivery & { seal?: unknown };
  return {
    kind: 'outbox-sink',
    lb: record.loadBalancer,
    id: record.id,
    part: sink,
    digest: sha256(canonicalJson(content)),
  };
}

function isTime(value: unknown): value is string {
  return typeof value === 'string' && Number.isFinite(Date.parse(value));
}

function deliveredNames(sinks: Record<string, SinkDelivery>): string[] {
  return Object.entries(sinks)
    .filter(([, s]) => s.state === 'delivered')
    .map(([name]) => name);
}

/**
 * An entry's delivery fields for `sinks`: the states, and the summary an earlier
 * elbscope reads (during a deploy both may run): the sinks delivered, and the
 * backoff of the failing sink due first — which only delays that older reader.
 */
function deliveryFields(sinks: Record<string, SinkDelivery>): Record<string, unknown> {
  const failing = Object.values(sinks).flatMap((s) => (s.state === 'failing' ? [s] : []));
  const first = failing.reduce<(typeof failing)[number] | null>(
    (a, b) => (a && Date.parse(a.notBefore) <= Date.parse(b.notBefore) ? a : b),
    null,
  );
  const gaveUp = Object.values(sinks).find((s) => s.state === 'gave-up');
  return {
    sinks,
    attempts: Math.max(0, ...failing.map((s) => s.attempts)),
    notBefore: first?.notBefore ?? null,
    lastError: first?.lastError ?? (gaveUp?.state === 'gave-up' ? gaveUp.error : null),
    delivered: deliveredNames(sinks),
  };
}

/** An outbox entry's value with no claim on it. */
function withoutClaim({ claimant: _c, claimUntil: _u, ...rest }: Record<string, unknown>): Record<string, unknown> {
  return rest;
}

function freshEntry(record: ChainedEvent): OutboxEntry {
  return { record, sinks: {}, attempts: 0, notBefore: null, lastError: null, delivered: [] };
}

/** An event's receipt: published (when, the message id), or refused for good; `location` where it lives. */
export interface Receipt {
  publishedAt: string | null;
  messageId: string | null;
  deliveryError: DeliveryError | null;
  location?: string;
  /** Set when the receipt does not belong to its event (edited, or moved from another): `verify` names it. */
  unsound?: string;
  /** It does not parse: it still closes the event (without a key). */
  unreadable?: true;
  /** With a key: what its seal says. */
  seal?: SealStatus;
  /** What its seal is over (its content's digest) and the seal as stored. */
  sealOf?: { digest: string; seal: unknown };
}

/**
 * A receipt as written: its fields, the event it closes (id, place, hash) and a
 * hash over all of them — an edited receipt, or one copied onto another event, no
 * longer hashes (`verify` names it).
 */
function receiptBody(record: ChainedEvent, receipt: Receipt): Record<string, unknown> {
  const body = {
    eventId: record.id,
    seq: record.seq,
    eventHash: record.hash,
    publishedAt: receipt.publishedAt,
    messageId: receipt.messageId,
    deliveryError: receipt.deliveryError,
  };
  return { ...body, hash: receiptHash(body) };
}

/** The hash a sealed receipt carries over its other fields (not its keyed seal, nor the note of a seal that failed). */
export function receiptHash(body: Record<string, unknown>): string {
  const { hash: _ignored, seal: _sealed, sealError: _failed, ...content } = body;
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
  const deliveryError =
    error && typeof error.at === 'string' ? { at: error.at, error: String(error.error ?? '') } : null;
  if (!publishedAt && !deliveryError && value.hash === undefined)
    return unreadableReceipt(location, 'says neither when it was published nor why it cannot be');
  const unsound = receiptFault(value, record);
  const sealOf = { digest: receiptHash(value), seal: value.seal };
  return {
    publishedAt,
    messageId: typeof value.messageId === 'string' ? value.messageId : null,
    deliveryError,
    location,
    sealOf,
    ...(unsound ? { unsound } : {}),
  };
}

/** Why a receipt does not belong to its event, or null (receipts from before seals are not judged). */
function receiptFault(value: Record<string, unknown>, record: ChainedEvent): string | null {
  if (value.hash === undefined && value.eventId === undefined) return null;
  if (value.hash !== receiptHash(value)) return 'its content does not hash to its seal (edited)';
  if (value.eventId !== record.id || value.seq !== record.seq || value.eventHash !== record.hash)
    return `it closes another event (${String(value.eventId)} #${String(value.seq)})`;
  return null;
}

/**
 * A receipt that does not read: it closes its event all the same (a second publish is worse than a question), and says
 * why.
 */
function unreadableReceipt(location: string, reason: string): Receipt {
  return {
    publishedAt: null,
    messageId: null,
    deliveryError: null,
    location,
    unsound: `does not read (${reason})`,
    unreadable: true,
  };
}

/**
 * Whether a receipt closes its event: published, refused for good, or (without a
 * key) unreadable; a cleared one does not. With a key only a receipt whose seal
 * verifies closes it: an unsealed, edited or unreadable one could be anyone's, and
 * a second alert is better than one a forger silenced.
 */
function closes(receipt: Receipt | null, keyed: boolean): boolean {
  if (keyed)
    return receipt !== null && trusted(receipt) && (receipt.publishedAt !== null || receipt.deliveryError !== null);
  return (
    receipt !== null && (receipt.publishedAt !== null || receipt.deliveryError !== null || receipt.unreadable === true)
  );
}

/** A receipt whose seal verifies and that belongs to its event. */
function trusted(receipt: Receipt): boolean {
  return receipt.seal === 'sealed' && receipt.unsound === undefined;
}

/**
 * A stored event with its receipt. `forDelivery` with a key (what the flush asks):
 * a receipt that is not trusted says nothing — the event reads as not published,
 * and is published. For the audit the receipt is given as it reads, with its seal.
 */
function storedEvent(
  record: ChainedEvent,
  found: ReadRecord,
  receipt: Receipt | null,
  forDelivery: boolean,
): StoredEvent {
  if (forDelivery && receipt && !trusted(receipt))
    receipt = {
      publishedAt: null,
      messageId: null,
      deliveryError: null,
      ...(receipt.location ? { location: receipt.location } : {}),
      ...(receipt.unsound ? { unsound: receipt.unsound } : {}),
      ...(receipt.seal ? { seal: receipt.seal } : {}),
    };
  const where = receipt?.location
    ? {
        receipt: {
          location: receipt.location,
          ...(receipt.unsound ? { unsound: receipt.unsound } : {}),
          ...(receipt.unreadable ? { unreadable: true as const } : {}),
          ...(receipt.seal ? { seal: receipt.seal } : {}),
        },
      }
    : {};
  return {
    record,
    location: found.location,
    publishedAt: receipt?.publishedAt ?? null,
    deliveryError: receipt?.deliveryError ?? null,
    ...where,
  };
}
