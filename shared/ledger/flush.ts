import { classifyDeliveryError, retryDelayMs } from '../alerts/delivery';
import { deliveryMembers, isHang, SinkBusyError } from '../alerts/sink-calls';
import type { AlertSink } from '../alerts/sinks';
import { isPast } from '../deadline';
import type { ChainedEvent } from '../detect/state';
import { recordHash } from './chain';
import { StoreRecordCorruptError, type OutboxEntry, type SinkDelivery, type Store, type StoredEvent } from './store';

/** What publishing the outbox needs. */
export interface FlushDeps {
  store: Store;
  /** One sink, or several (allSinks): each member delivers on its own, with its own state. */
  sink: AlertSink;
  now: () => Date;
  /** Who is publishing (a request id, a process id), for outbox claims. */
  claimant: string;
  /**
   * How long a claim on an outbox event lasts: longer than one round of its sinks may take (each call has a deadline).
   */
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
  /** Events every sink has now accepted: their receipts are written. */
  published: string[];
  /** Transient failures, one per sink and event (the error names the sink): that sink tries again after its backoff. */
  failed: { id: string; error: string; attempts: number; notBefore: string }[];
  /**
   * Permanent failures, one per sink and event: that sink is given up for the event.
   * Once every sink is done with it, it is marked undeliverable with the error(s), kept
   * in the audit trail, not retried.
   */
  undeliverable: { id: string; error: string }[];
  /** Queued events not tried this time: no sink's backoff has run out, or the cycle's time has. */
  waiting: string[];
  /** Outbox entries with no sound event behind them in the audit trail: taken out, never published. */
  rejected: string[];
}

/**
 * Publish every event in the outbox, oldest first: claim it, deliver it to each sink
 * that has not taken it, mark it published once every sink has. Sinks are independent:
 * each keeps its own state on the entry (delivered, failing with its own backoff, given
 * up); a failing or hanging sink never holds back another — the others deliver at once
 * and it is retried on its own schedule. A transient failure (throttling, 5xx, network,
 * a full disk, no answer by the call's deadline) is retried after a backoff; a
 * permanent one (SNS refuses the request, the topic or its key is gone, access denied)
 * gives that sink up for the event, and the event is marked undeliverable once the
 * others are done. Nothing is dropped, and each sink gets an event once (the windows
 * DESIGN-NOTES names aside: a kill between an acceptance and its note). `only` limits
 * the flush to some event ids (`elbscope redeliver`).
 */
export async function flushOutbox(deps: FlushDeps, only?: ReadonlySet<string>): Promise<FlushResult> {
  const result: FlushResult = { published: [], failed: [], undeliverable: [], waiting: [], rejected: [] };
  const sinks = deliveryMembers(deps.sink);
  // A sink that did not answer (its deadline passed, or an earlier call still hangs) is not called again in
  // this flush: by sink, the alert it hung on. Otherwise each queued alert would wait out the deadline again.
  const hung = new Map<string, string>();
  for (const listed of await deps.store.outbox({ op: 'list' })) {
    const id = listed.record.id;
    if (only && !only.has(id)) continue;
    if (isPast(deps.finishBy, deps.now)) {
      result.waiting.push(id); // unclaimed: the next flush takes it
      continue;
    }
    if (dueSinks(listed, sinks, deps.now()).length === 0 && !allSettled(listed, sinks)) {
      result.waiting.push(id);
      continue;
    }
    const entry = await deps.store.outbox({
      op: 'claim',
      id,
      claimant: deps.claimant,
      now: deps.now(),
      leaseMs: deps.leaseMs ?? 120_000,
    });
    if (!entry) continue;
    // What is published is the chained event in the audit trail, never the outbox's copy of it.
    const stored = await chainedEventOf(deps, entry);
    if (stored === null) {
      // No sound event behind it (a forged entry, or its event changed or removed): never an alert.
      await deps.store.outbox({ op: 'discard', id });
      result.rejected.push(id);
      continue;
    }
    // Queued again by a re-drain while another writer published it: drop the copy, never publish twice
    // (a receipt that does not read closes it too: a second publish is worse than a question `verify` asks).
    if (stored.publishedAt || stored.receipt?.unreadable) {
      await deps.store.outbox({ op: 'discard', id });
      continue;
    }
    await deliver(deps, stored.record, entry, sinks, hung, result);
  }
  return result;
}

/**
 * One round for a claimed event: each sink due gets it, in turn — one at a time, so a
 * kill falls beside one unnoted acceptance at most; whichever fails or passes its
 * deadline, the next is called all the same. Each acceptance is noted on the entry
 * before the next sink is called (a crash then repeats none already noted); after the
 * last, the receipt (every sink done) or the entry's new states (releasing the claim).
 */
async function deliver(
  deps: FlushDeps,
  event: ChainedEvent,
  entry: OutboxEntry,
  sinks: readonly AlertSink[],
  hung: Map<string, string>,
  result: FlushResult,
): Promise<void> {
  const states: Record<string, SinkDelivery> = { ...entry.sinks };
  const due = dueSinks(entry, sinks, deps.now());
  for (const [i, sink] of due.entries()) {
    const name = sink.description;
    const before = states[name];
    let messageId: string | null;
    try {
      const hungOn = hung.get(name);
      if (hungOn !== undefined)
        throw new SinkBusyError(`not called: it did not answer for alert ${hungOn} earlier in this flush`);
      ({ messageId } = await sink.publish(event));
    } catch (err) {
      if (isHang(err) && !hung.has(name)) hung.set(name, event.id);
      const failure = classifyDeliveryError(err, name);
      const now = deps.now();
      if (failure.permanent) {
        states[name] = { state: 'gave-up', at: now.toISOString(), error: failure.reason };
        result.undeliverable.push({ id: event.id, error: failure.reason });
        const others = sinks.some((s) => s !== sink && !settled(states[s.description]))
          ? '; the other sinks still get it'
          : '';
        deps.warn?.(
          `alert ${event.id} (${event.summary}) is undeliverable: ${failure.reason}; it stays in the audit trail (elbscope events --undelivered) and is not retried until \`elbscope redeliver --id ${event.id}\`${others}`,
          { error: failure.reason, code: failure.code },
        );
      } else {
        const attempts = (before?.state === 'failing' ? before.attempts : 0) + 1;
        const notBefore = new Date(now.getTime() + retryDelayMs(attempts)).toISOString();
        const since = before?.state === 'failing' ? before.since : now.toISOString();
        states[name] = { state: 'failing', since, attempts, notBefore, lastError: failure.reason };
        result.failed.push({ id: event.id, error: failure.reason, attempts, notBefore });
        deps.warn?.(
          `publishing ${event.id} failed (attempt ${attempts}): ${failure.reason}; retried after ${notBefore}`,
          { error: failure.reason, code: failure.code },
        );
      }
      continue;
    }
    states[name] = { state: 'delivered', at: deps.now().toISOString(), messageId };
    // Outside the sink's try: a store failure here is no failure of the sink, and ends the round (no sink is called
    // whose acceptance could not be noted); the claim runs out and the next publisher goes on from the notes.
    if (i < due.length - 1) await deps.store.outbox({ op: 'note', id: event.id, sinks: states });
  }
  if (sinks.some((s) => !settled(states[s.description]))) {
    await deps.store.outbox({ op: 'defer', id: event.id, retry: { sinks: states } });
    return;
  }
  // Outside the sinks' try: a store failure here is not a delivery failure (it must not send anything again).
  const refused = sinks.flatMap((s) => {
    const state = states[s.description];
    return state?.state === 'gave-up' ? [state.error] : [];
  });
  if (refused.length > 0) {
    await deps.store.outbox({ op: 'undeliverable', record: event, at: deps.now(), error: refused.join('; ') });
    return;
  }
  await deps.store.outbox({ op: 'published', record: event, at: deps.now(), messageId: messageIdOf(states, sinks) });
  result.published.push(event.id);
}

/**
 * The sinks that are to get the event now: never tried, or failing with their backoff
 * run out. A backoff further off than the longest one elbscope sets (an edit of the
 * store, or a wall clock that stepped back) counts as run out: a failing state is not
 * sealed, and must not hold an alert back for longer than a backoff.
 */
function dueSinks(entry: OutboxEntry, sinks: readonly AlertSink[], now: Date): AlertSink[] {
  return sinks.filter((s) => {
    const state = entry.sinks[s.description];
    if (state === undefined) return true;
    if (state.state !== 'failing') return false;
    const wait = Date.parse(state.notBefore) - now.getTime();
    return wait <= 0 || wait > retryDelayMs(Number.MAX_SAFE_INTEGER);
  });
}

/**
 * Whether every sink is done with the entry (a crash after the last note, or a sink no longer configured): only its
 * receipt is left.
 */
function allSettled(entry: OutboxEntry, sinks: readonly AlertSink[]): boolean {
  return sinks.every((s) => settled(entry.sinks[s.description]));
}

function settled(state: SinkDelivery | undefined): boolean {
  return state?.state === 'delivered' || state?.state === 'gave-up';
}

/** The receipt's message id: the last one a sink gave (SNS's; the console and file give none). */
function messageIdOf(states: Record<string, SinkDelivery>, sinks: readonly AlertSink[]): string | null {
  let messageId: string | null = null;
  for (const s of sinks) {
    const state = states[s.description];
    if (state?.state === 'delivered' && state.messageId !== null) messageId = state.messageId;
  }
  return messageId;
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
    deps.warn?.(
      `outbox entry ${copy.id} has no sound event behind it at #${copy.seq} of ${copy.loadBalancer}'s audit trail (forged, or the event was changed or removed): not published; \`elbscope verify\` names the break`,
      { eventId: copy.id },
    );
    return null;
  }
  if (copy.hash !== stored.record.hash || recordHash(copy) !== copy.hash) {
    deps.warn?.(
      `outbox entry ${copy.id} differs from its chained event (it was edited): the chained event is what is published`,
      { eventId: copy.id },
    );
  }
  return stored;
}
