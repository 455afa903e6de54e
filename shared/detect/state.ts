import { canonicalJson } from '../canonical-json';
import type { LoadBalancerKind } from '../nodes/kind';
import type { ElbEvent } from './events';
import type { CapacityReading } from '../capacity/reading';
import type { Reservation } from '../capacity/reservation';

/**
 * What the capacity rules derived from the minutes `[from, to)` one cycle read
 * first, as corrected since by late datapoints (null: unknown, or not this kind's).
 */
export interface CapacityDerived {
  at: string;
  from: string;
  to: string;
  spillover: number | null;
  surgeMax: number | null;
  rejected: number | null;
  /** Reserved-LCU use, the highest minute: ALB PeakLCUs per-minute Sum; NLB ProcessedBytes converted. */
  lcu: number | null;
}

/** One minute's figures as last read (a figure absent: unknown for that minute). */
export interface MinuteFigures {
  spillover?: number;
  surge?: number;
  rejected?: number;
  lcu?: number;
}

/**
 * One DescribeCapacityReservation read, as the reservation rules confirm it: the units and the AZs' states (sorted,
 * once each).
 */
export interface ReservationSample {
  units: number | null;
  states: string[];
}

/**
 * A metric condition's episode while it fires: its minutes `[from, to)` and the figure over them (a count's total, or a
 * peak).
 */
export interface CapacityEpisode {
  from: string;
  to: string;
  figure: number;
}

/**
 * The capacity rules' memory: the metrics cursor and minutes, recent derived samples, the reservation and its
 * confirmations.
 */
export interface CapacityState {
  /** End of the last window judged: minutes before it were counted once already (late ones replace, never add). */
  cursor: string | null;
  samples: CapacityDerived[];
  /** The trailing window's minutes by ISO start, as last read (absent in states from before it was kept). */
  minutes?: Record<string, MinuteFigures>;
  /** The last reservation read (its AZs and reasons, for the events' text). */
  reservation: Reservation | null;
  /** The last N reservation reads, and the one that last held M of N (null: none yet, the next is the baseline). */
  reservationSamples?: ReservationSample[];
  confirmedReservation?: ReservationSample | null;
  /**
   * Since when the confirmed reservation (its CapacityUnits) has been in place, and its highest reserved-LCU use since.
   */
  reservedSince: string | null;
  peakSinceReserved: number | null;
  /** Hours since the reservation that had usage data (the last of them, ISO hour): reservation-idle needs them. */
  usageHours?: { count: number; last: string | null };
  /** Firing metric conditions' episodes by kind (absent: none). */
  episodes?: Record<string, CapacityEpisode>;
  /** Only in states an earlier elbscope stored (upgradeCapacity drops it): whether the last read was provisioned. */
  provisioned?: boolean;
}

/** What the rules keep of one cycle: enough to confirm changes over the last N. */
export interface CycleSample {
  at: string;
  /** Node IPs per AZ (provisioned ENIs, or DNS when ENIs are off); null = INSUFFICIENT_DATA. */
  perAz: Record<string, string[]> | null;
  /** Failing sources (`dns`, `eni`, `backend:<name>`) → one-line reason. */
  failures: Record<string, string>;
  /**
   * AZs whose ENIs exist but none of whose nodes DNS advertises (absent in samples
   * stored before this field: read as none). Only when ENIs were read. Null: unknown (`all.` not read and the
   * name's own answers full, so an AZ may only be rotated out): the rule holds.
   */
  dnsAbsentAzs?: string[] | null;
  /** The DNS name has an NLB's shape (`<name>-<hex>.elb.<region>.amazonaws.com`). */
  nlb?: boolean;
  /** The load balancer's kind as this cycle's evidence says (absent: nothing said). */
  kind?: LoadBalancerKind;
  /** What AWS's own capacity signals said this cycle (absent: not asked). */
  capacity?: CapacityReading;
  /** The capacity conditions this cycle decided on (for telling quiet cycles apart). */
  capacityFlags?: string[];
  /** Per backend: `R` and R share, null when the page could not be read or cannot show pre-open (nginx). */
  backends: Record<string, { reading: number | null; share: number | null }>;
}

/** What the TLS rules keep of one probe round. */
export interface TlsSample {
  at: string;
  /** Per backend: fingerprint and days left, or the handshake error. */
  backends: Record<
    string,
    {
      fingerprint: string | null;
      daysLeft: number | null;
      validTo: string | null;
      error: string | null;
      /** The certificate's public key (base64 SPKI DER); absent in samples from before it was kept. */
      publicKey?: string | null;
      /** Classic back-end authentication for its port: accepted keys, null for no policy, absent when unknown. */
      authKeys?: string[] | null;
    }
  >;
  /**
   * The round's own observation sources that failed (`backend-auth`) → one line; absent: none failed (or a sample from
   * before).
   */
  failures?: Record<string, string>;
}

/** A condition that is firing: what (kind, scope), since when, and when it was last announced. */
export interface FiringCondition {
  /** Absent only in states an earlier elbscope stored (upgradeConditions fills it in). */
  kind?: string;
  scope?: string | null;
  since: string;
  lastNotified: string;
}

/**
 * The rules' memory of one load balancer between cycles: everything `decide` reads besides the sample, and nothing
 * else (the ledger's head and the cycle's metadata are parts of the stored state of their own: shared/ledger/state.ts).
 * The rules are a pure function of it and the sample: they update it in place and answer events.
 */
export interface RulesMemory {
  samples: CycleSample[];
  tlsSamples: TlsSample[];
  /** Confirmed node IPs per AZ; null until the first sufficient cycle (the baseline). */
  nodes: Record<string, string[]> | null;
  /** Confirmed pre-open state per backend (baseline set silently). */
  preopen: Record<string, boolean>;
  /** Confirmed certificate fingerprint per backend. */
  certs: Record<string, string>;
  /** When a node-count change in an AZ was first seen, until it is confirmed or gone. */
  firstSign: Record<string, string>;
  /** Firing conditions by conditionKey(kind, scope). */
  conditions: Record<string, FiringCondition>;
  /** Pre-warm target id → outcome so far. */
  prewarm: Record<string, 'complete' | 'overdue'>;
  /** The kind the last cycle with evidence said (the TLS rules, which see no ENIs, go by it). */
  kind?: LoadBalancerKind | null;
  /** CloudWatch and LCU-reservation memory (absent until first read). */
  capacity?: CapacityState;
}

/** Discovery's rules' memory: which regions' (and accounts') discovery is failing (shared/discovery/ledger.ts). */
export interface DiscoveryMemory {
  conditions: Record<string, FiringCondition>;
}

/**
 * The rules' memory as the decisions stand: all of it but the recent samples (a window the rules keep to confirm M of
 * N) and the capacity metrics' cursor, trailing minutes and derived samples, which move every cycle. A quiet cycle
 * changes none of it; a field added to the memory is part of it unless named here (the safe default: it is written).
 */
export function decisionFacts(memory: RulesMemory): string {
  const { samples: _s, tlsSamples: _t, capacity, ...facts } = memory;
  if (capacity) {
    const { cursor: _c, samples: _cs, minutes: _m, provisioned: _p, ...held } = capacity;
    return canonicalJson({ ...facts, capacity: held });
  }
  return canonicalJson(facts);
}

/** An event with its place in the load balancer's audit chain. */
export interface ChainedEvent extends ElbEvent {
  seq: number;
  prevHash: string;
  hash: string;
  /**
   * The keyed seal over its place and hash (shared/ledger/seal.ts); absent on events from before keys. Not part of the
   * hash.
   */
  seal?: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The rules' memory of a load balancer never seen before. */
export function emptyMemory(): RulesMemory {
  return {
    samples: [],
    tlsSamples: [],
    nodes: null,
    preopen: {},
    certs: {},
    firstSign: {},
    conditions: {},
    prewarm: {},
  };
}
