import { DescribeCapacityReservationCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describeError } from '../errors';

/** The states AWS gives an AZ's share of an LCU reservation (CapacityReservationStateEnum). */
export const RESERVATION_STATES = ['pending', 'provisioned', 'rebalancing', 'failed'] as const;
export type ReservationState = (typeof RESERVATION_STATES)[number];

/** An ALB's or NLB's LCU capacity reservation as DescribeCapacityReservation gives it. */
export interface Reservation {
  /** `MinimumLoadBalancerCapacity.CapacityUnits`: the LCUs reserved; null when none is. */
  capacityUnits: number | null;
  decreaseRequestsRemaining: number | null;
  /** Per AZ: its state, why (when AWS says), and the capacity units in effect there. */
  azs: Record<string, { state: ReservationState; reason: string | null; effectiveUnits: number | null }>;
}

/** Reads one load balancer's reservation by ARN; throws one line naming the call when it fails. */
export type ReservationLookup = (arn: string) => Promise<Reservation>;

/** An AZ name as AWS writes one; anything else in an answer is not AWS's. */
const AZ_NAME = /^[a-z]{2}(-[a-z0-9]+){2,5}$/;

/**
 * A ReservationLookup over elbv2 DescribeCapacityReservation. Values AWS would
 * never send (an unknown state, a negative count, an AZ that is not one) fail the
 * lookup, naming them: a broken answer is never read as "no reservation".
 */
export function createReservationLookup(elbv2: ElasticLoadBalancingV2Client): ReservationLookup {
  return async (arn) => {
    let out;
    try {
      out = await elbv2.send(new DescribeCapacityReservationCommand({ LoadBalancerArn: arn }));
    } catch (err) {
      throw new Error(`DescribeCapacityReservation (${arn}): ${describeError(err)}`);
    }
    const fail = (what: string) => new Error(`DescribeCapacityReservation (${arn}): ${what}`);
    const count = (v: number | undefined, what: string): number | null => {
      if (v === undefined) return null;
      if (!Number.isSafeInteger(v) || v < 0) throw fail(`${what} is not a count: ${String(v)}`);
      return v;
    };
    const azs: Reservation['azs'] = Object.create(null);
    for (const zone of out.CapacityReservationState ?? []) {
      const az = zone.AvailabilityZone ?? '';
      if (!AZ_NAME.test(az)) throw fail(`an availability zone that is not one: ${JSON.stringify(az.slice(0, 64))}`);
      const state = zone.State?.Code;
      if (!RESERVATION_STATES.includes(state as ReservationState)) throw fail(`${az}: a state AWS does not define: ${JSON.stringify(String(state).slice(0, 32))}`);
      const effective = zone.EffectiveCapacityUnits;
      if (effective !== undefined && !(Number.isFinite(effective) && effective >= 0)) throw fail(`${az} EffectiveCapacityUnits is not a number of units: ${String(effective)}`);
      azs[az] = { state: state as ReservationState, reason: zone.State?.Reason ?? null, effectiveUnits: effective ?? null };
    }
    return { capacityUnits: count(out.MinimumLoadBalancerCapacity?.CapacityUnits, 'CapacityUnits'), decreaseRequestsRemaining: count(out.DecreaseRequestsRemaining, 'DecreaseRequestsRemaining'), azs };
  };
}
