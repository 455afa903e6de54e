import type { ChainBreak } from './chain';
import type { StoredEvent, StoredObservation } from './store';
import type { PrewarmTarget } from '../detect/rules';
import type { Sealer, SealStatus, SealSubject, StateSeal } from './seal';

/** What checking a load balancer's seals found. */
export interface SealCheck {
  /** The key, as a person knows it (`key file …`, `KMS key …`). */
  key: string;
  /** Records whose seal verifies with the key. */
  sealed: number;
  /** Records sealed without a key: written before keys (older than the first sealed record, or than the key). */
  beforeKeys: number;
  /** Sealed records that could not be checked: the key cannot be used now (`unavailable` says why). */
  unchecked: number;
  unavailable: string | null;
  /** From when every record carries a seal: the key's start, or the first sealed record's time (null: none yet). */
  keyedSince: string | null;
  firstBreak: ChainBreak | null;
}

/** What the seal audit reads of a load balancer: its records as the ledger gave them. */
export interface SealedRecords {
  events: StoredEvent[];
  observations: StoredObservation[] | null;
  prewarms: { target: PrewarmTarget; seal: SealStatus }[];
  /**
   * The state's seal as getState judged it (absent: no state); a state that failed it was moved aside and is named as
   * recovered.
   */
  state: StateSeal | undefined;
  /** The state's pre-warm digests: an unsealed target a cycle vouched for is not a forgery. */
  prewarmDigests: Record<string, string> | undefined;
  prewarmHash: (target: PrewarmTarget) => string;
}

interface Item {
  /** Its time, as bound by its chain (an event's, an observation's) or as written. */
  at: string;
  seq: number;
  id: string | null;
  location: string;
  what: string;
  status: SealStatus;
  /** Not a forgery when unsealed, whatever its time (a target a cycle vouched for before keys). */
  vouched?: boolean;
}

/**
 * Check every seal of a load balancer's records: events, observations, receipts,
 * pre-warm targets, the state. A seal that does not verify is an edit or a forgery.
 * A record with none is from before keys when it is older than the key's start (a
 * key file's `createdAt`) and than the first record that carries a seal; a later
 * one had its seal removed, or was written by someone without the key. Sealed
 * records the key cannot check now are counted, never passed.
 */
export async function auditSeals(lb: string, sealer: Sealer, records: SealedRecords): Promise<SealCheck> {
  const items: Item[] = [];
  const subjects: { subject: SealSubject; seal: unknown; item: Item }[] = [];
  const add = (item: Omit<Item, 'status'>, subject: SealSubject, seal: unknown) => {
    const full = { ...item, status: 'none' as SealStatus };
    items.push(full);
    subjects.push({ subject, seal, item: full });
  };
  for (const e of records.events) {
    const r = e.record;
    add(
      { at: r.at, seq: r.seq, id: r.id, location: e.location, what: `record #${r.seq}` },
      { kind: 'event', lb: r.loadBalancer, id: String(r.seq), digest: r.hash },
      r.seal,
    );
    // A receipt whose seal does not verify is named by the receipts' check already (its `unsound`).
    if (e.receipt && e.receipt.seal !== 'bad')
      items.push({
        at: r.at,
        seq: r.seq,
        id: r.id,
        location: e.receipt.location,
        what: `the receipt of record #${r.seq}`,
        status: e.receipt.seal ?? 'none',
      });
  }
  let unchained = 0;
  for (const o of records.observations ?? []) {
    if (typeof o.seq !== 'number' || typeof o.hash !== 'string') {
      unchained++; // from before the chain, and so before keys
      continue;
    }
    add(
      { at: o.at, seq: o.seq, id: null, location: `observation of ${o.at}`, what: `observation #${o.seq}` },
      { kind: 'observation', lb: o.loadBalancer, id: String(o.seq), digest: o.hash },
      o.seal,
    );
  }
  for (const { target, seal } of records.prewarms) {
    const vouched = records.prewarmDigests?.[target.id] === records.prewarmHash(target);
    items.push({
      at: target.requestedAt,
      seq: 0,
      id: target.id,
      location: `pre-warm target ${target.id}`,
      what: `pre-warm target ${target.id}`,
      status: seal,
      vouched,
    });
  }
  const statuses = await sealer.checkAll(subjects.map(({ subject, seal }) => ({ subject, seal })));
  for (const [i, { item }] of subjects.entries()) item.status = statuses[i] as SealStatus;

  const since = await sealer.port.since();
  // Any record carrying a seal (sound or not) was written in the keyed era: nothing after it may lack one.
  const sealedTimes = [...items.filter((i) => i.status !== 'none').map((i) => i.at), ...(since ? [since] : [])].sort();
  const keyedSince = sealedTimes[0] ?? null;
  const check: SealCheck = {
    key: sealer.port.description,
    sealed: 0,
    beforeKeys: unchained,
    unchecked: 0,
    unavailable: null,
    keyedSince,
    firstBreak: null,
  };
  const state = records.state;
  if (state === 'sealed') check.sealed++;
  else if (state === 'before-keys') check.beforeKeys++;
  else if (typeof state === 'object') check.unchecked++;

  const breaks: Item[] = [];
  for (const item of items) {
    if (item.status === 'sealed') check.sealed++;
    else if (item.status === 'unknown') check.unchecked++;
    else if (item.status === 'bad') breaks.push(item);
    else if (item.vouched || keyedSince === null || item.at < keyedSince) check.beforeKeys++;
    else breaks.push(item);
  }
  if (check.unchecked > 0)
    check.unavailable =
      (typeof state === 'object' ? state.unchecked : null) ??
      sealer.port.problem() ??
      `${sealer.port.description} cannot be used`;
  const first = breaks.sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq)[0];
  if (first) {
    const reason =
      first.status === 'bad'
        ? `${first.what}'s seal does not verify with the ${sealer.port.description} (it was edited, or forged)`
        : `${first.what} carries no seal, but every record since ${keyedSince} is sealed: its seal was removed, or it was written without the key (forged)`;
    check.firstBreak = { loadBalancer: lb, seq: first.seq, id: first.id, location: first.location, reason };
  }
  return check;
}

/** "12 sealed and verified with the key file …, 3 sealed without a key (before keys)" */
export function sealsLine(c: SealCheck): string {
  const before = c.beforeKeys > 0 ? `, ${c.beforeKeys} sealed without a key (before keys)` : '';
  return `seals: ${c.sealed} verified with the ${c.key}${before}`;
}
