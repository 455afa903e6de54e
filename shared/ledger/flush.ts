import { classifyDeliveryError, retryDelayMs } from '../alerts/delivery';
import { SinkError, type AlertSink } from '../alerts/sinks';
import { isPast } from '../cycle/deadline';
import { recordHash } from '../store/chain';
import { StoreRecordCorruptError, type OutboxEntry, type Store, type StoredEvent } from '../store/store';

/** What publishing the outbox needs. */
export interface FlushDeps {
  store: Store;
  sink: AlertSink;
  now: () => Date;
  /** Who is publishing (a request id, a process id), for outbox claims. */
  claimant: string;
  /** How long a claim on an outbox event lasts: longer than one publish may take. */
  leaseMs?: number;
  warn?: (message: string, data?: Record<string, unknown>) => void;
  /**
   * The cycle's end (epoch ms, on `now`'s clock): no publish (and, in recordCycle, no
   * commit) starts after it; what is left stays for the next cycle — observations are
   * taken again, queued alerts stay queued, unclaimed.
   */
  finishBy?: number | undefined;
}

/** What one flush of the outbox did. */
export interface FlushResult {
  published: string[];
  /** Transient failures: still queued, tried again after a backoff. */
  failed: { id: string; error: string; attempts: number; notBefore: string }[];
  /** Permanent failures: marked undeliverable with the error, kept in the audit trail, not retried. */
  undeliverable: { id: string; error: string }[];
  /** Queued events not tried this time: their backoff has not run out, or the cycle's time has. */
  waiting: string[];
  /** Outbox entries with no sound event behind them in the audit trail: taken out, never published. */
  rejected: string[];
}

/**
 * Publish every event in the outbox, oldest first: claim it, publish, mark it
 * published. A transient failure (throttling, 5xx, network) is released and tried
 * again after a backoff; a permanent one (SNS refuses the request, the topic or
 * its key is gone, access denied) marks the event undeliverable, once. Nothing
 * is dropped, and an event marked published is never published again. `only`
 * limits the flush to some event ids (`elbscope redeliver`).
 */
export async function flushOutbox(deps: FlushDeps, only?: ReadonlySet<string>): Promise<FlushResult> {
  const result: FlushResult = { published: [], failed: [], undeliverable: [], waiting: [], rejected: [] };
  for (const entry of await deps.store.listOutbox()) {
    const id = entry.record.id;
    if (only && !only.has(id)) continue;
    if (isPast(deps.finishBy, deps.now)) {
      result.waiting.push(id); // unclaimed: the next flush takes it
      continue;
    }
    if (entry.notBefore !== null && Date.parse(entry.notBefore) > deps.now().getTime()) {
      result.waiting.push(id);
      continue;
    }
    if (!(await deps.store.claimOutbox(entry.record.id, deps.claimant, deps.now(), deps.leaseMs ?? 120_000))) continue;
    // What is published is the chained event in the audit trail, never the outbox's copy of it.
    const stored = await chainedEventOf(deps, entry);
    if (stored === null) {
      // No sound event behind it (a forged entry, or its event changed or removed): never an alert.
      await deps.store.discardOutbox(entry.record.id);
      result.rejected.push(entry.record.id);
      continue;
    }
    // Queued again by a re-drain while another writer published it: drop the copy, never publish twice
    // (a receipt that does not read closes it too: a second publish is worse than a question `verify` asks).
    if (stored.publishedAt || stored.receipt?.unreadable) {
      await deps.store.discardOutbox(entry.record.id);
      continue;
    }
    const event = stored.record;
    let published: { messageId: string | null };
    try {
      published = await deps.sink.publish(event, entry.delivered, (accepted) => deps.store.noteDelivered(event.id, accepted));
    } catch (err) {
      const failure = classifyDeliveryError(err, deps.sink.description);
      if (failure.permanent) {
        await deps.store.markUndeliverable(event, deps.now(), failure.reason);
        result.undeliverable.push({ id: event.id, error: failure.reason });
        deps.warn?.(`alert ${event.id} (${event.summary}) is undeliverable: ${failure.reason}; it stays in the audit trail (elbscope events --undelivered) and is not retried until \`elbscope redeliver --id ${event.id}\``, { error: failure.reason, code: failure.code });
      } else {
        const attempts = entry.attempts + 1;
        const notBefore = new Date(deps.now().getTime() + retryDelayMs(attempts)).toISOString();
        // The sinks that did accept keep their copy: the retry goes to the others only.
        const delivered = err instanceof SinkError ? err.delivered : entry.delivered;
        await deps.store.deferOutbox(event.id, { attempts, notBefore, lastError: failure.reason, delivered });
        result.failed.push({ id: event.id, error: failure.reason, attempts, notBefore });
        deps.warn?.(`publishing ${event.id} failed (attempt ${attempts}): ${failure.reason}; retried after ${notBefore}`, { error: failure.reason, code: failure.code });
      }
      continue;
    }
    // Outside the publish's try: a store failure here is not a delivery failure (it must not queue a second publish).
    await deps.store.markPublished(event, deps.now(), published.messageId);
    result.published.push(event.id);
  }
  return result;
}

/**
 * The audit trail's own copy of an outbox entry's event, when it is sound: stored at
 * the entry's place in the chain, with the same id and hash, and its content still
 * hashing to it. Null (said in a warning) when there is none: an entry someone wrote
 * or edited in the outbox is never published as an alert.
 */
async function chainedEventOf(deps: FlushDeps, entry: OutboxEntry): Promise<StoredEvent | null> {
  const copy = entry.record;
  const stored = await deps.store.getEvent(copy.loadBalancer, copy.seq).catch((err: unknown) => {
    if (err instanceof StoreRecordCorruptError) return null;
    throw err;
  });
  const sound = stored !== null && stored.record.id === copy.id && recordHash(stored.record) === stored.record.hash;
  if (!sound) {
    deps.warn?.(`outbox entry ${copy.id} has no sound event behind it at #${copy.seq} of ${copy.loadBalancer}'s audit trail (forged, or the event was changed or removed): not published; \`elbscope verify\` names the break`, { eventId: copy.id });
    return null;
  }
  if (copy.hash !== stored.record.hash || recordHash(copy) !== copy.hash) {
    deps.warn?.(`outbox entry ${copy.id} differs from its chained event (it was edited): the chained event is what is published`, { eventId: copy.id });
  }
  return stored;
}
