import { createHash } from 'node:crypto';
import type { ElbEvent } from '../detect/events';
import { GENESIS_HASH, type ChainedEvent } from '../detect/state';
import type { LedgerHead } from './state';
import type { OutboxEntry, StoredEvent, StoredObservation } from './store';
import type { PrewarmTarget } from '../detect/rules';
import { dueToExpire } from './expiry';
import { canonicalJson } from '../canonical-json';

/** The hash of a chained record: its previous hash and its content (never the hash itself, nor the seal over it). */
export function recordHash(record: Omit<ChainedEvent, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, seal: _sealed, ...content } = record;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Append events to a chain whose head is `head`; returns the chained events and the new head. */
export function chainEvents(
  events: ElbEvent[],
  head: { seq: number; hash: string },
): { chained: ChainedEvent[]; head: { seq: number; hash: string } } {
  const chained: ChainedEvent[] = [];
  let { seq, hash } = head;
  for (const event of events) {
    const record = { ...event, seq: seq + 1, prevHash: hash };
    const h = recordHash(record);
    chained.push({ ...record, hash: h });
    seq += 1;
    hash = h;
  }
  return { chained, head: { seq, hash } };
}

/** Where a chain breaks, named for a person: which record and why. */
export interface ChainBreak {
  loadBalancer: string;
  seq: number;
  id: string | null;
  /** Where the record lives (a file path, a table key). */
  location: string;
  reason: string;
}

/**
 * Recompute a load balancer's chain from its first record; return the first
 * break, or null when every record's hash and link hold and the head matches.
 */
export function verifyChain(
  loadBalancer: string,
  records: { record: ChainedEvent; location: string }[],
  head: { seq: number; hash: string } | null,
): ChainBreak | null {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  for (const { record, location } of records) {
    const at = { loadBalancer, seq: record.seq, id: record.id ?? null, location };
    if (record.seq !== expectedSeq)
      return {
        ...at,
        reason: `sequence ${record.seq} where ${expectedSeq} was expected (a record is missing or was inserted)`,
      };
    if (record.prevHash !== prev)
      return {
        ...at,
        reason: 'its prevHash does not match the previous record (a record before it was changed or removed)',
      };
    if (recordHash(record) !== record.hash)
      return { ...at, reason: 'its content does not match its hash (the record was changed)' };
    prev = record.hash;
    expectedSeq++;
  }
  if (head && head.seq !== expectedSeq - 1) {
    const last = records.at(-1);
    return {
      loadBalancer,
      seq: expectedSeq,
      id: null,
      location: last?.location ?? '(none)',
      reason: `the chain ends at ${expectedSeq - 1} but the state says ${head.seq} (records were removed from the end)`,
    };
  }
  if (head && head.seq > 0 && head.hash !== prev) {
    const last = records.at(-1);
    return {
      loadBalancer,
      seq: head.seq,
      id: last?.record.id ?? null,
      location: last?.location ?? '(none)',
      reason: 'the last record does not match the chain head kept in the state',
    };
  }
  return null;
}

/** An observation's hash: its content and place in the chain (never the hash itself, nor the seal over it). */
export function observationHash(o: StoredObservation): string {
  const { hash: _ignored, seal: _sealed, ...content } = o;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/**
 * Chain an observation after `head` (the state's `observationChain`): its sequence,
 * the previous record's hash and expiry, its own expiry (`ttlDays` after it), its
 * hash; and the new head. A retried cycle chains it at the same place again.
 */
export function chainObservation(
  head: LedgerHead['observationChain'],
  observation: Omit<StoredObservation, 'seq' | 'prevHash' | 'prevExpiresAt' | 'expiresAt' | 'hash'>,
  ttlDays: number,
): { record: StoredObservation; head: NonNullable<LedgerHead['observationChain']> } {
  const expiresAt = new Date(Date.parse(observation.at) + ttlDays * 86_400_000).toISOString();
  const unhashed: StoredObservation = {
    ...observation,
    seq: (head?.seq ?? 0) + 1,
    prevHash: head?.hash ?? GENESIS_HASH,
    prevExpiresAt: head?.expiresAt ?? null,
    expiresAt,
  };
  const hash = observationHash(unhashed);
  return { record: { ...unhashed, hash }, head: { seq: unhashed.seq as number, hash, expiresAt } };
}

/** What checking a load balancer's stored observations found. */
export interface ObservationCheck {
  /** Chained observations recomputed and linked, from the head back. */
  verified: number;
  /** Observations from before the chain (no hash): shown, not verifiable. */
  unchained: number;
  /** Observations before the first present one that were due to expire (TTL), not missing. */
  expired: number;
  /**
   * Observations written for a cycle whose commit never came — a crash between the
   * write and the commit, or a writer that lost a race to another — well-formed and
   * forking from the chain, but not on it: not counted, not shown in reports.
   */
  uncommitted: number;
  firstBreak: ChainBreak | null;
}

type Located = { record: StoredObservation; location: string };

/**
 * Check a load balancer's stored observations against their chain and the head in
 * the state, walking back from the head by each record's previous hash: each
 * record's hash, each link, no gap, nothing missing at the end. Observations expire
 * (DynamoDB TTL, the local store's pruning): records missing before the first
 * present one are expired — not deleted — when that record says its predecessor's
 * expiry has passed (`prevExpiresAt` ≤ `now`); otherwise their absence is a break.
 * A record not on the chain is uncommitted when it is sound and forks from the chain
 * (its predecessor is on it, one place before); any other is named as inserted.
 * `offChain`, when given, gets the hashes of the uncommitted ones (reports leave them out).
 */
export function verifyObservations(
  loadBalancer: string,
  observations: Located[],
  head: LedgerHead['observationChain'] | null,
  now: Date,
  offChain?: Set<string>,
): ObservationCheck {
  const check: ObservationCheck = { verified: 0, unchained: 0, expired: 0, uncommitted: 0, firstBreak: null };
  const chained = observations.filter((o) => typeof o.record.seq === 'number' && typeof o.record.hash === 'string');
  check.unchained = observations.length - chained.length;
  const headSeq = head?.seq ?? 0;
  const fail = (o: Located | undefined, seq: number, reason: string) => ({
    ...check,
    firstBreak: { loadBalancer, seq, id: null, location: o?.location ?? '(none)', reason },
  });
  // Every record's content must hash to its hash (a copy or an edit that kept the hash does not).
  for (const o of chained)
    if (observationHash(o.record) !== o.record.hash)
      return fail(
        o,
        o.record.seq as number,
        `observation #${o.record.seq as number}'s content does not match its hash (it was changed, or forged)`,
      );
  const byHash = new Map(chained.map((o) => [o.record.hash as string, o]));
  const onChain = new Map<string, StoredObservation>();
  if (head && headSeq > 0) {
    let cur = byHash.get(head.hash);
    if (!cur) {
      // Every committed observation expired: the head says when the last one was due to.
      if (Date.parse(head.expiresAt) <= now.getTime() && !chained.some((o) => (o.record.seq as number) <= headSeq))
        return { ...check, expired: headSeq, uncommitted: setOffChain(chained, offChain) };
      const last = Math.max(0, ...chained.map((o) => o.record.seq as number).filter((n) => n <= headSeq));
      return fail(
        chained.find((o) => o.record.seq === last),
        headSeq,
        `the chain's head is observation #${headSeq} but the last stored is #${last} (observations were removed from the end)`,
      );
    }
    for (;;) {
      const r = cur.record;
      const seq = r.seq as number;
      onChain.set(r.hash as string, r);
      check.verified++;
      if (seq === 1 || r.prevHash === GENESIS_HASH) {
        if (seq !== 1 || r.prevHash !== GENESIS_HASH)
          return fail(cur, seq, 'the first observation does not start the chain');
        break;
      }
      const prev = byHash.get(r.prevHash as string);
      if (!prev || (prev.record.seq as number) !== seq - 1) {
        // Missing predecessors: expired, or removed (judged as expiry judged them: a clock behind the ledger is no
        // removal).
        if (r.prevExpiresAt && dueToExpire(r.prevExpiresAt, [...onChain.values()].reverse(), now.getTime())) {
          check.expired = seq - 1;
          break;
        }
        if (!chained.some((o) => (o.record.seq as number) < seq))
          return fail(cur, seq, `observations #1-#${seq - 1} are missing and were not due to expire (removed)`);
        return fail(cur, seq, `observation #${seq - 1} is missing (removed), or they were reordered`);
      }
      cur = prev;
    }
  }
  const extra = chained.filter((o) => !onChain.has(o.record.hash as string));
  for (const o of extra) {
    const r = o.record;
    const prev = r.prevHash === GENESIS_HASH ? { seq: 0 } : onChain.get(r.prevHash as string);
    const forks = prev !== undefined && r.seq === (prev.seq as number) + 1;
    if (!forks)
      return fail(
        o,
        r.seq as number,
        `observation #${r.seq as number} is not on the chain that ends at the head #${headSeq} and does not fork from it (inserted)`,
      );
  }
  check.uncommitted = setOffChain(extra, offChain);
  return check;
}

/** Hand the hashes of records not on the chain to `offChain`; how many there are. */
function setOffChain(off: Located[], offChain?: Set<string>): number {
  for (const o of off) offChain?.add(o.record.hash as string);
  return off.length;
}

/**
 * The observations' chain head the stored observations give (the highest chained
 * one; none: absent): what a state rebuilt after it did not parse continues from,
 * so the chain goes on instead of starting again over the old records.
 */
export function observationHeadOf(observations: StoredObservation[]): LedgerHead['observationChain'] {
  let head: StoredObservation | null = null;
  for (const o of observations)
    if (
      typeof o.seq === 'number' &&
      typeof o.hash === 'string' &&
      typeof o.expiresAt === 'string' &&
      (head === null || o.seq > (head.seq as number))
    )
      head = o;
  return head ? { seq: head.seq as number, hash: head.hash as string, expiresAt: head.expiresAt as string } : undefined;
}

/** A pre-warm target's digest: its content as recorded (never the seal over it). */
export function prewarmHash(target: PrewarmTarget & { seal?: string }): string {
  const { seal: _sealed, ...content } = target;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** What checking a load balancer's pre-warm targets against the digests the cycles kept found. */
export interface PrewarmCheck {
  /** Targets whose content matches the digest a cycle kept when it first read them. */
  vouched: number;
  /** Targets no cycle has read yet (recorded since the last cycle): shown, not yet vouched for. */
  unvouched: number;
  firstBreak: ChainBreak | null;
}

/**
 * Pre-warm targets are written by `elbscope prewarm`, outside any commit; the first
 * cycle that reads one keeps its digest in the state (committed with the cycle). A
 * target that no longer matches its digest was changed; a digest whose target is
 * gone means it was removed.
 */
export function verifyPrewarms(
  loadBalancer: string,
  targets: PrewarmTarget[],
  digests: Record<string, string> | undefined,
): PrewarmCheck {
  const check: PrewarmCheck = { vouched: 0, unvouched: 0, firstBreak: null };
  const known = digests ?? {};
  for (const t of targets) {
    const digest = known[t.id];
    if (digest === undefined) check.unvouched++;
    else if (digest !== prewarmHash(t))
      return {
        ...check,
        firstBreak: {
          loadBalancer,
          seq: 0,
          id: t.id,
          location: `pre-warm target ${t.id}`,
          reason: `pre-warm target ${t.id} does not match what the cycle that first read it recorded (it was changed)`,
        },
      };
    else check.vouched++;
  }
  const present = new Set(targets.map((t) => t.id));
  const gone = Object.keys(known)
    .filter((id) => !present.has(id))
    .sort();
  if (gone.length > 0)
    return {
      ...check,
      firstBreak: {
        loadBalancer,
        seq: 0,
        id: gone[0] as string,
        location: `pre-warm target ${gone[0]}`,
        reason: `pre-warm target ${gone.join(', ')} was read by a cycle and is no longer stored (removed)`,
      },
    };
  return check;
}

/** What checking a load balancer's receipts found. */
export interface ReceiptCheck {
  /** Events with a sound receipt: published, or refused for good. */
  closed: number;
  /** Events with no receipt yet, waiting in the outbox or in the state's pending list. */
  waiting: number;
  firstBreak: ChainBreak | null;
}

/**
 * Every stored event is published (a receipt), refused for good (a receipt with the
 * error), or still on its way (in the outbox, or committed and not yet drained).
 * A receipt that does not hash to its seal, or closes another event, was edited or
 * moved; an event with no receipt that is not on its way had its receipt removed
 * (or was lost); a receipt for no stored event was inserted (or its event removed).
 * Receipts from before seals are counted as they read.
 */
export function verifyReceipts(
  loadBalancer: string,
  events: StoredEvent[],
  onTheirWay: ReadonlySet<string>,
  strayReceipts: readonly { eventId: string; location: string }[] = [],
): ReceiptCheck {
  const check: ReceiptCheck = { closed: 0, waiting: 0, firstBreak: null };
  const stray = strayReceipts[0];
  if (stray)
    return {
      ...check,
      firstBreak: {
        loadBalancer,
        seq: 0,
        id: stray.eventId,
        location: stray.location,
        reason: `a receipt for ${stray.eventId}, which is no stored event (inserted, or its event removed)`,
      },
    };
  for (const e of events) {
    const at = { loadBalancer, seq: e.record.seq, id: e.record.id };
    if (e.receipt?.unsound)
      return {
        ...check,
        firstBreak: {
          ...at,
          location: e.receipt.location,
          reason: `the receipt of record #${e.record.seq} ${e.receipt.unsound}`,
        },
      };
    if (e.publishedAt !== null || e.deliveryError !== null) check.closed++;
    else if (onTheirWay.has(e.record.id)) check.waiting++;
    else
      return {
        ...check,
        firstBreak: {
          ...at,
          location: e.location,
          reason: `record #${e.record.seq} has no receipt and is not in the outbox: its receipt was removed, or the alert was lost`,
        },
      };
  }
  return check;
}

/**
 * Each outbox entry of a load balancer is a copy of an event of its audit trail (or
 * of one committed and not yet drained): a forged entry, or an edited copy, is named
 * (the flush never publishes either as written; this says so in `verify`).
 */
export function verifyOutbox(
  loadBalancer: string,
  events: StoredEvent[],
  outbox: OutboxEntry[],
  pending: readonly ChainedEvent[],
): ChainBreak | null {
  const known = new Map([...pending, ...events.map((e) => e.record)].map((r) => [r.id, r]));
  for (const { record: copy, untrusted } of outbox) {
    if (copy.loadBalancer !== loadBalancer) continue;
    const event = known.get(copy.id);
    const at = { loadBalancer, seq: copy.seq, id: copy.id, location: `outbox entry ${copy.id}` };
    if (!event) return { ...at, reason: `outbox entry ${copy.id} copies no event of the audit trail (forged)` };
    if (event.hash !== copy.hash || recordHash(copy) !== copy.hash)
      return { ...at, reason: `outbox entry ${copy.id} differs from event #${event.seq} it copies (edited)` };
    // With a key: a sink marked delivered (or given up) without a seal that verifies (the ledger said why).
    const forged = untrusted?.[0];
    if (forged) return { ...at, reason: forged.reason };
  }
  return null;
}
