import { OBJECT_SHAPE, StoreRecordCorruptError } from './store';
import type { Records } from './records';

// When stored observations may go. Retention is judged by the wall clock AND by the
// ledger's own time, so a clock that jumps forward (or back, then forward again)
// takes nothing the ledger itself has not run past:
//
// - the wall clock: a record goes only once `at + retention` has passed;
// - the ledger's newest record: never one newer than (the newest record's time − retention);
// - the ledger's own time: the time its records span in the order they were written
//   (their place in the observations' chain), each gap between two of them counted
//   as it is up to the usual gap (the median), a longer one (a jump forward, or the
//   monitor stopped) as a usual one, and a step back as none. A record goes once the
//   records written after it span the retention so counted.
//
// Only the oldest run of records (in write order) goes: `verify` counts what is
// missing before the first stored record as expired, never what is missing between.

/**
 * A stored observation as expiry sees it: its id, its time, its place in the chain (null: before the chain, or
 * unreadable).
 */
interface DatedRecord {
  id: string;
  at: number;
  seq: number | null;
}

/**
 * The ids of the records that have expired at `nowMs` (the wall clock) after
 * `retentionMs`, oldest first; see the rules above. With fewer than two gaps
 * forward between them (no usual gap to judge a jump by) none goes.
 */
function expiredIds(records: readonly DatedRecord[], retentionMs: number, nowMs: number): string[] {
  // Write order: the chain's places (records from before the chain, or unreadable, first), then time.
  const ordered = [...records].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.at - b.at);
  const forward = ordered
    .slice(1)
    .map((r, i) => r.at - (ordered[i] as DatedRecord).at)
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  if (forward.length < 2) return [];
  const usual = forward[Math.floor((forward.length - 1) / 2)] as number;
  // The ledger's time that passed after each record: the gaps written after it, each counted as above.
  const after: number[] = new Array<number>(ordered.length).fill(0);
  for (let i = ordered.length - 2; i >= 0; i--)
    after[i] =
      (after[i + 1] as number) +
      Math.min(Math.max((ordered[i + 1] as DatedRecord).at - (ordered[i] as DatedRecord).at, 0), usual);
  const newest = ordered.reduce((t, r) => Math.max(t, r.at), -Infinity);
  const horizon = Math.min(nowMs, newest) - retentionMs;
  const out: string[] = [];
  for (const [i, r] of ordered.entries()) {
    if (r.at > horizon || (after[i] as number) < retentionMs) break;
    out.push(r.id);
  }
  return out;
}

/**
 * Whether the observations missing before the oldest stored one of the chain were
 * due to expire, `prevExpiresAt` being the last missing one's expiry and `chain` the
 * stored ones from the oldest to the head (write order). By the wall clock when it
 * has passed that expiry (as ever). When the clock reads earlier (it stepped back,
 * or the ledger's ran ahead), by the rules expiry judged by: that expiry is not
 * after the newest stored record, and the records since span the retention in the
 * ledger's own time. A clock behind the ledger does not make expiry look like
 * removal, and one record stamped ahead does not make removal look like expiry.
 */
export function dueToExpire(
  prevExpiresAt: string,
  chain: readonly { at: string; expiresAt?: string }[],
  nowMs: number,
): boolean {
  const expiry = Date.parse(prevExpiresAt);
  if (!Number.isFinite(expiry)) return false;
  if (expiry <= nowMs) return true;
  const [first] = chain;
  const retentionMs = first?.expiresAt === undefined ? Number.NaN : Date.parse(first.expiresAt) - Date.parse(first.at);
  if (!(retentionMs > 0)) return false;
  // The last missing record (taken `retentionMs` before its expiry), then the stored ones: judged as expiry judged it
  // at the newest.
  const records = [
    { id: 'missing', at: expiry - retentionMs, seq: 0 },
    ...chain.map((o, i) => ({ id: String(i), at: Date.parse(o.at), seq: i + 1 })),
  ];
  return expiredIds(records, retentionMs, Number.POSITIVE_INFINITY).includes('missing');
}

/** An observation's time from its id (`<ISO time>` or `<ISO time>.<hash>`); NaN when it names none. */
const timeOfId = (id: string): number => Date.parse(id.slice(0, 24));

/**
 * Expiry of one store's observations. Where the store has no expiry of its own (the
 * local directory) it prunes; where it has (DynamoDB's TTL, on AWS's clock) it says
 * when a record may go: never before the newest stored record's time plus the
 * retention, so a writer whose clock is behind does not hand AWS a record already due.
 */
export class ObservationExpiry {
  /**
   * Each stored observation's place in the chain, once read (`lb`, newline, id): they are never rewritten, only pruned.
   */
  private readonly places = new Map<string, number | null>();

  constructor(private readonly records: Records) {}

  /** When a record taken at `atMs` may go (epoch seconds), for a store that drops records itself. */
  async keepUntil(lb: string, atMs: number, retentionMs: number): Promise<number> {
    const [newest] = await this.records.ids('observation', lb, { newest: 1 });
    const newestAt = newest === undefined ? Number.NaN : timeOfId(newest);
    return (
      Math.floor((Number.isFinite(newestAt) ? Math.max(atMs, newestAt) : atMs) / 1000) + Math.floor(retentionMs / 1000)
    );
  }

  /** Remove the load balancer's observations that have expired at `nowMs` (a store without an expiry of its own). */
  async prune(lb: string, nowMs: number, retentionMs: number): Promise<void> {
    const ids = (await this.records.ids('observation', lb)).filter((id) => Number.isFinite(timeOfId(id)));
    if (ids.length === 0) return;
    // Nothing due by the wall clock or the newest record: no record read (the usual case, every cycle).
    const times = ids.map(timeOfId);
    const [oldest, newest] = times.reduce(([lo, hi], t) => [Math.min(lo, t), Math.max(hi, t)], [Infinity, -Infinity]);
    if (oldest + retentionMs > Math.min(nowMs, newest)) return;
    await this.learnPlaces(lb, ids);
    const due = expiredIds(
      ids.map((id) => ({ id, at: timeOfId(id), seq: this.places.get(placeKey(lb, id)) ?? null })),
      retentionMs,
      nowMs,
    );
    if (due.length === 0) return;
    await this.records.expire('observation', lb, due);
    for (const id of due) this.places.delete(placeKey(lb, id));
  }

  /** Read the chain place of each record not read before (one that does not read has none). */
  private async learnPlaces(lb: string, ids: string[]): Promise<void> {
    const unknown = ids.filter((id) => !this.places.has(placeKey(lb, id)));
    if (unknown.length === 0) return;
    const placeOf = (value: unknown) =>
      OBJECT_SHAPE.test(value) && Number.isSafeInteger(value.seq) ? (value.seq as number) : null;
    if (unknown.length > 16) {
      // First look at a store (a new process): all of them in one pass.
      const read = await this.records.query('observation', lb, {}, (bad) =>
        this.places.set(placeKey(lb, bad.id), null),
      );
      for (const found of read) this.places.set(placeKey(lb, found.id), placeOf(found.value));
      return;
    }
    for (const id of unknown) {
      const found = await this.records.get({ kind: 'observation', lb, id }).catch((err: unknown) => {
        if (err instanceof StoreRecordCorruptError) return null;
        throw err;
      });
      this.places.set(placeKey(lb, id), found ? placeOf(found.value) : null);
    }
  }
}

const placeKey = (lb: string, id: string) => `${lb}\n${id}`;
