import type { ChainedEvent } from '../detect/state';
import type { RecordKey } from './records';

// Where the ledger keeps each record, and the ids that order them. The ledger makes
// every id; adapters store it as given and order ids as strings (byte order), so an id
// that must sort by number is padded here, once, for every store.

/** The digits an event's id is padded to (DynamoDB's width since the first table; 10^10 events a load balancer). */
const EVENT_ID_DIGITS = 10;

/** An event's id: its place in the chain, zero-padded so ids sort as the chain runs. */
export function eventId(seq: number): string {
  return String(seq).padStart(EVENT_ID_DIGITS, '0');
}

/**
 * The records discovery keeps of its own (its state, events and outbox entries): discovery is no load balancer, and
 * the ledger lists it as none. The name is the one earlier stores hold, so their discovery records read as they are.
 */
export const DISCOVERY_LEDGER = 'elbscope-discovery';

/** A load balancer's state. */
export const stateKey = (lb: string): RecordKey => ({ kind: 'state', lb, id: 'state' });

/** The event at place `seq` of a load balancer's audit chain. */
export const eventKey = (lb: string, seq: number): RecordKey => ({ kind: 'event', lb, id: eventId(seq) });

/** An event's receipt (published, or why it cannot be), kept under the event's id. */
export const receiptKey = (record: Pick<ChainedEvent, 'loadBalancer' | 'id'>): RecordKey => ({
  kind: 'receipt',
  lb: record.loadBalancer,
  id: record.id,
});

/** An event's outbox entry: the store's own (no load balancer), kept under the event's id. */
export const outboxKey = (id: string): RecordKey => ({ kind: 'outbox', lb: null, id });

/**
 * An observation: its time, then (chained ones) `.` and the start of its hash, so two writers' attempts at one cycle
 * time never overwrite each other; ids sort by time.
 */
export const observationKey = (lb: string, at: string, hash?: string): RecordKey => ({
  kind: 'observation',
  lb,
  id: hash ? `${at}.${hash.slice(0, 12)}` : at,
});

/** A pre-warm target. */
export const prewarmKey = (lb: string, id: string): RecordKey => ({ kind: 'prewarm', lb, id });
