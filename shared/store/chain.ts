import { createHash } from 'node:crypto';
import type { ElbEvent } from '../detect/events';
import { GENESIS_HASH, type ChainedEvent } from '../detect/state';

/** JSON with object keys sorted at every level: one spelling per value, so hashes are stable. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash of a chained record: its previous hash and its content (never the hash itself). */
export function recordHash(record: Omit<ChainedEvent, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...content } = record;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** Append events to a chain whose head is `head`; returns the chained events and the new head. */
export function chainEvents(events: ElbEvent[], head: { seq: number; hash: string }): { chained: ChainedEvent[]; head: { seq: number; hash: string } } {
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
    if (record.seq !== expectedSeq) return { ...at, reason: `sequence ${record.seq} where ${expectedSeq} was expected (a record is missing or was inserted)` };
    if (record.prevHash !== prev) return { ...at, reason: 'its prevHash does not match the previous record (a record before it was changed or removed)' };
    if (recordHash(record) !== record.hash) return { ...at, reason: 'its content does not match its hash (the record was changed)' };
    prev = record.hash;
    expectedSeq++;
  }
  if (head && head.seq !== expectedSeq - 1) {
    const last = records.at(-1);
    return { loadBalancer, seq: expectedSeq, id: null, location: last?.location ?? '(none)', reason: `the chain ends at ${expectedSeq - 1} but the state says ${head.seq} (records were removed from the end)` };
  }
  if (head && head.seq > 0 && head.hash !== prev) {
    const last = records.at(-1);
    return { loadBalancer, seq: head.seq, id: last?.record.id ?? null, location: last?.location ?? '(none)', reason: 'the last record does not match the chain head kept in the state' };
  }
  return null;
}
