import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { observationHeadOf } from './chain';
import type { PrewarmTarget } from '../detect/rules';
import { emptyState, type ChainedEvent, type LoadBalancerState } from '../detect/state';
import { byEventTime, EVENT_SHAPE, OBJECT_SHAPE, OBSERVATION_SHAPE, parseStored, PREWARM_SHAPE, STATE_SHAPE, StoreConflictError, StoreRecordCorruptError, deliveredList, type DeliveryError, type OutboxEntry, type OutboxRetry, type Store, type StoredEvent, type StoredObservation } from './store';

/**
 * The store as a directory of human-readable JSON files (the CLI's default):
 *
 *   loadbalancers/<lb>/state.json             rules' state, versioned
 *   loadbalancers/<lb>/events/00000001.json   the audit trail, one file per event, never rewritten
 *   loadbalancers/<lb>/published/<id>.json    when each event was published, or why it cannot be
 *   loadbalancers/<lb>/observations/<at>.json raw observations (pruned after the TTL)
 *   loadbalancers/<lb>/prewarm/<id>.json      pre-warm targets
 *   outbox/<id>.json                          events not yet published
 *   outbox/<id>.retry                         transient failures so far (attempts, backoff)
 *
 * Concurrent writers (two `watch` processes) are settled with a lock directory
 * and the state's version, as DynamoDB's conditional writes settle them on AWS.
 */
export class LocalStore implements Store {
  readonly description: string;

  constructor(readonly dir: string) {
    this.description = `local store ${dir}`;
  }

  private lbDir(lb: string): string {
    return join(this.dir, 'loadbalancers', safeName(lb));
  }

  async getState(lb: string) {
    const file = join(this.lbDir(lb), 'state.json');
    const text = await readOptional(file);
    if (text === null) return null;
    try {
      const parsed = parseStored(text, file, STATE_SHAPE);
      return { state: parsed.state, version: parsed.version };
    } catch (err) {
      if (!(err instanceof StoreRecordCorruptError)) throw err;
      // Kept for a person; a fresh state continues the chain from the last stored event.
      const movedTo = await this.moveAside(file);
      const state = emptyState();
      state.chain = await this.chainHead(lb);
      // The observations' chain continues from the stored ones (unreadable ones: verify names them).
      const observationHead = observationHeadOf(await this.listObservations(lb).catch(() => []));
      if (observationHead) state.observationChain = observationHead;
      return { state, version: 0, recovered: { location: file, reason: err.reason, movedTo } };
    }
  }

  /** Rename a record that does not parse to `<name>.corrupt-<time>` beside it; returns the new path. */
  private async moveAside(file: string): Promise<string> {
    const movedTo = `${file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
    await rename(file, movedTo);
    return movedTo;
  }

  /** The last stored event's place in the chain (the genesis when there is none). */
  private async chainHead(lb: string): Promise<{ seq: number; hash: string }> {
    const dir = join(this.lbDir(lb), 'events');
    const files = (await readdirOptional(dir)).filter((f) => /^\d+\.json$/.test(f)).sort();
    for (const f of files.reverse()) {
      try {
        const record = parseStored(await readFile(join(dir, f), 'utf8'), join(dir, f), EVENT_SHAPE);
        return { seq: record.seq, hash: record.hash };
      } catch {
        // A corrupt event: verify names it; the chain continues from the last good one.
      }
    }
    return emptyState().chain;
  }

  async putState(lb: string, state: LoadBalancerState, expectedVersion: number): Promise<boolean> {
    const dir = this.lbDir(lb);
    await mkdir(dir, { recursive: true });
    return withLock(join(dir, 'state.lock'), async () => {
      const current = await this.getState(lb);
      if ((current?.version ?? 0) !== expectedVersion) return false;
      await writeAtomic(join(dir, 'state.json'), JSON.stringify({ version: expectedVersion + 1, state }, null, 2));
      return true;
    });
  }

  async appendEvent(record: ChainedEvent): Promise<void> {
    const dir = join(this.lbDir(record.loadBalancer), 'events');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${String(record.seq).padStart(8, '0')}.json`);
    try {
      await createAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = parseStored(await readFile(file, 'utf8'), file, EVENT_SHAPE);
      if (existing.id !== record.id) throw new StoreConflictError(`${file}: sequence ${record.seq} already holds event ${existing.id}, not ${record.id}`);
      // Already appended: queue it all the same (a crash may have come between the two writes).
    }
    // Published, or marked undeliverable: never queued again by a re-drain.
    if (await readOptional(this.receiptFile(record))) return;
    await mkdir(join(this.dir, 'outbox'), { recursive: true });
    // Queued already: left as it is (its claim and retry files belong to it).
    await createAtomic(join(this.dir, 'outbox', `${record.id}.json`), JSON.stringify(record, null, 2)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }

  async getEvent(lb: string, seq: number): Promise<StoredEvent | null> {
    const location = join(this.lbDir(lb), 'events', `${String(seq).padStart(8, '0')}.json`);
    const text = await readOptional(location);
    return text === null ? null : storedEvent(text, location, (record) => this.receiptFile(record));
  }

  /** The event's receipt: published, or marked undeliverable. */
  private receiptFile(record: ChainedEvent): string {
    return join(this.lbDir(record.loadBalancer), 'published', `${record.id}.json`);
  }

  async discardOutbox(id: string): Promise<void> {
    for (const ext of ['json', 'retry', 'claim']) await rm(join(this.dir, 'outbox', `${id}.${ext}`), { force: true });
  }

  async listLoadBalancers(): Promise<string[]> {
    return (await readdirOptional(join(this.dir, 'loadbalancers'))).sort();
  }

  async listEvents(lb?: string): Promise<StoredEvent[]> {
    const lbs = lb ? [safeName(lb)] : await this.listLoadBalancers();
    const out: StoredEvent[] = [];
    for (const name of lbs) {
      const dir = join(this.dir, 'loadbalancers', name, 'events');
      for (const file of (await readdirOptional(dir)).filter((f) => f.endsWith('.json')).sort()) {
        const location = join(dir, file);
        out.push(await storedEvent(await readFile(location, 'utf8'), location, (record) => join(this.dir, 'loadbalancers', name, 'published', `${record.id}.json`)));
      }
    }
    return out;
  }

  async listOutbox(): Promise<OutboxEntry[]> {
    const dir = join(this.dir, 'outbox');
    const files = (await readdirOptional(dir)).filter((f) => f.endsWith('.json'));
    const entries = await Promise.all(
      files.map(async (f) => {
        const file = join(dir, f);
        let record: ChainedEvent;
        try {
          record = parseStored(await readFile(file, 'utf8'), file, EVENT_SHAPE);
        } catch (err) {
          if (!(err instanceof StoreRecordCorruptError)) throw err;
          // The audit trail holds the event: queue it again from there (the outbox copy is only a pointer to it).
          await this.moveAside(file);
          const id = f.slice(0, -'.json'.length);
          const stored = (await this.listEvents()).find((e) => e.record.id === id);
          if (!stored || stored.publishedAt || stored.deliveryError) return null;
          await writeAtomic(file, JSON.stringify(stored.record, null, 2));
          record = stored.record;
        }
        const retryFile = join(dir, `${record.id}.retry`);
        const retry = await readOptional(retryFile);
        let r: (OutboxRetry & { delivered?: unknown }) | null = null;
        try {
          r = retry ? (parseStored(retry, retryFile, OBJECT_SHAPE) as unknown as OutboxRetry) : null;
          if (r && (!Number.isSafeInteger(r.attempts) || typeof r.notBefore !== 'string')) throw new Error('not a backoff record');
        } catch {
          r = null;
          await rm(retryFile, { force: true }); // only a backoff: tried again now
        }
        return { record, attempts: r?.attempts ?? 0, notBefore: r?.notBefore ?? null, lastError: r?.lastError ?? null, delivered: deliveredList(r?.delivered) };
      }),
    );
    return entries.filter((e) => e !== null).sort(byEventTime);
  }

  async claimOutbox(id: string, claimant: string, now: Date, leaseMs: number): Promise<boolean> {
    const claim = join(this.dir, 'outbox', `${id}.claim`);
    const existing = await readOptional(claim);
    if (existing) {
      // A claim that does not parse (a crash mid-write) holds nothing.
      const until = (() => {
        try {
          return Date.parse((JSON.parse(existing) as { until: string }).until);
        } catch {
          return Number.NEGATIVE_INFINITY;
        }
      })();
      if (until > now.getTime()) return false;
      await rm(claim, { force: true });
    }
    try {
      await writeFile(claim, JSON.stringify({ claimant, until: new Date(now.getTime() + leaseMs).toISOString() }), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async releaseOutbox(id: string): Promise<void> {
    await rm(join(this.dir, 'outbox', `${id}.claim`), { force: true });
  }

  async markPublished(record: ChainedEvent, at: Date, messageId: string | null): Promise<void> {
    await this.closeOutbox(record, { publishedAt: at.toISOString(), messageId, deliveryError: null });
  }

  async markUndeliverable(record: ChainedEvent, at: Date, error: string): Promise<void> {
    await this.closeOutbox(record, { publishedAt: null, messageId: null, deliveryError: { at: at.toISOString(), error } });
  }

  /** Write the event's receipt, then take it out of the outbox (a crash between leaves it queued: published at most once more, never lost). */
  private async closeOutbox(record: ChainedEvent, receipt: Receipt): Promise<void> {
    const file = this.receiptFile(record);
    await mkdir(dirname(file), { recursive: true });
    await writeAtomic(file, JSON.stringify(receipt, null, 2));
    await this.discardOutbox(record.id);
  }

  async deferOutbox(id: string, retry: OutboxRetry): Promise<void> {
    await writeAtomic(join(this.dir, 'outbox', `${id}.retry`), JSON.stringify(retry, null, 2));
    await this.releaseOutbox(id);
  }

  async requeue(record: ChainedEvent): Promise<void> {
    const receipt = this.receiptFile(record);
    if ((await readReceipt(receipt))?.publishedAt) throw new StoreConflictError(`${receipt}: event ${record.id} was published already`);
    await mkdir(join(this.dir, 'outbox'), { recursive: true });
    await writeAtomic(join(this.dir, 'outbox', `${record.id}.json`), JSON.stringify(record, null, 2));
    await rm(join(this.dir, 'outbox', `${record.id}.retry`), { force: true });
    await rm(receipt, { force: true });
  }

  async putObservation(observation: StoredObservation, ttlDays: number): Promise<void> {
    const dir = join(this.lbDir(observation.loadBalancer), 'observations');
    await mkdir(dir, { recursive: true });
    await writeAtomic(join(dir, `${observation.at.replaceAll(':', '-')}.json`), JSON.stringify(observation, null, 2));
    // The TTL: drop observations older than ttlDays (names sort by time).
    const cutoff = new Date(Date.parse(observation.at) - ttlDays * 86_400_000).toISOString().replaceAll(':', '-');
    for (const file of await readdirOptional(dir)) if (file < `${cutoff}.json`) await rm(join(dir, file), { force: true });
  }

  async listObservations(lb: string, from?: string, to?: string): Promise<StoredObservation[]> {
    const dir = join(this.lbDir(lb), 'observations');
    const files = (await readdirOptional(dir)).filter((f) => f.endsWith('.json')).sort();
    const all = await Promise.all(files.map(async (f) => parseStored(await readFile(join(dir, f), 'utf8'), join(dir, f), OBSERVATION_SHAPE)));
    return all.filter((o) => (!from || o.at >= from) && (!to || o.at <= to));
  }

  async putPrewarm(target: PrewarmTarget): Promise<void> {
    const dir = join(this.lbDir(target.loadBalancer), 'prewarm');
    await mkdir(dir, { recursive: true });
    await createAtomic(join(dir, `${target.id}.json`), JSON.stringify(target, null, 2));
  }

  async listPrewarms(lb?: string): Promise<PrewarmTarget[]> {
    const lbs = lb ? [safeName(lb)] : await this.listLoadBalancers();
    const out: PrewarmTarget[] = [];
    for (const name of lbs) {
      const dir = join(this.dir, 'loadbalancers', name, 'prewarm');
      for (const f of (await readdirOptional(dir)).filter((n) => n.endsWith('.json'))) out.push(parseStored(await readFile(join(dir, f), 'utf8'), join(dir, f), PREWARM_SHAPE));
    }
    return out.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
  }
}

/** What `published/<id>.json` holds: the publish receipt, or the permanent delivery error. */
interface Receipt {
  publishedAt: string | null;
  messageId: string | null;
  deliveryError?: DeliveryError | null;
}

/** An event's receipt, or null when there is none (or it is empty); one that does not parse is a StoreRecordCorruptError. */
async function readReceipt(file: string): Promise<Receipt | null> {
  const text = await readOptional(file);
  return text ? (parseStored(text, file, OBJECT_SHAPE) as unknown as Receipt) : null;
}

/** An event file's text as a StoredEvent, with its receipt (published, or marked undeliverable) read from `receipt`. */
async function storedEvent(text: string, location: string, receipt: (record: ChainedEvent) => string): Promise<StoredEvent> {
  const record = parseStored(text, location, EVENT_SHAPE);
  const found = await readReceipt(receipt(record));
  return { record, location, publishedAt: found?.publishedAt ?? null, deliveryError: found?.deliveryError ?? null };
}

/** Load balancer names become directory names: keep them to a safe alphabet. */
function safeName(lb: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(lb) ? lb : encodeURIComponent(lb).replaceAll('%', '_');
}

async function readOptional(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function readdirOptional(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Replace `file` in one step: a crash or a full disk leaves the old content or the new, never half. */
async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Create `file` only if it does not exist, whole or not at all (EEXIST when it does). */
async function createAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, text);
    await link(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Run `fn` holding a lock directory; a lock older than 30 s is a crashed holder's and is broken. */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 30_000) await rm(lock, { recursive: true, force: true });
      else if (attempt > 200) throw new StoreConflictError(`${lock}: held by another process for ${Math.round(age / 1000)} s`);
      else await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
