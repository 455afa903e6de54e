import {
  DescribeCapacityReservationCommand,
  type DescribeCapacityReservationCommandOutput,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { apiList, guardQueryAnswers, quoted } from '../answer';
import { describeError } from '../errors';

// What DescribeCapacityReservation answers, per the ELBv2 model (the SDK's
// DescribeCapacityReservationOutput) and its API reference:
//  https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeCapacityReservation.html
// Every member is optional in the model; the checks below are what the members mean.

/** The states AWS gives an AZ's share of an LCU reservation (CapacityReservationStateEnum). */
const RESERVATION_STATES = ['pending', 'provisioned', 'rebalancing', 'failed'] as const;
type ReservationState = (typeof RESERVATION_STATES)[number];

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

/** The most of a zone's `Reason` kept: AWS's are short codes; it is someone else's text in an alert. */
const MAX_REASON_CHARS = 200;

/**
 * A ReservationLookup over elbv2 DescribeCapacityReservation. An answer that is
 * not the call's (empty, HTML, another call's: refused by the client's answer
 * guard) or holds values AWS would never send (an unknown state, a negative or
 * fractional count, an AZ that is not one, the same AZ twice, a minimum capacity
 * without units) fails the lookup, naming them: a broken answer is never read as
 * "no reservation". A well-formed answer without MinimumLoadBalancerCapacity is.
 */
export function createReservationLookup(elbv2: ElasticLoadBalancingV2Client): ReservationLookup {
  // Whoever built the client: its 2xx answers must be DescribeCapacityReservationResponse documents.
  guardQueryAnswers(elbv2, 'query');
  return async (arn) => {
    let out: DescribeCapacityReservationCommandOutput;
    try {
      out = await elbv2.send(new DescribeCapacityReservationCommand({ LoadBalancerArn: arn }));
    } catch (err) {
      throw new Error(`DescribeCapacityReservation (${arn}): ${describeError(err)}`);
    }
    const call = `DescribeCapacityReservation (${arn})`;
    const fail = (what: string) => new Error(`${call}: ${what}`);
    // DecreaseRequestsRemaining ("the amount of daily capacity decreases remaining") and CapacityUnits are integers,
    // never negative.
    const count = (v: unknown, what: string): number | null => {
      if (v === undefined) return null;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw fail(`${what} is not a count: ${quoted(v)}`);
      return v;
    };
    // LastModifiedTime: "the last time the capacity reservation was modified", a timestamp.
    const modified: unknown = out.LastModifiedTime;
    if (modified !== undefined && !(modified instanceof Date && Number.isFinite(modified.getTime()))) {
      throw fail(`LastModifiedTime is not a time: ${quoted(modified)}`);
    }
    // MinimumLoadBalancerCapacity: "the requested minimum capacity reservation": present means a reservation, of
    // CapacityUnits.
    const minimum = out.MinimumLoadBalancerCapacity;
    if (
      minimum !== undefined &&
      (typeof minimum !== 'object' || minimum === null || minimum.CapacityUnits === undefined)
    ) {
      throw fail('MinimumLoadBalancerCapacity has no CapacityUnits');
    }
    const azs: Reservation['azs'] = Object.create(null);
    const zones =
      out.CapacityReservationState === undefined
        ? []
        : apiList(out.CapacityReservationState, call, 'CapacityReservationState');
    for (const zone of zones) {
      const az: unknown = zone?.AvailabilityZone;
      if (typeof az !== 'string' || !AZ_NAME.test(az))
        throw fail(`an availability zone that is not one: ${quoted(az)}`);
      if (az in azs) throw fail(`${az} is listed twice in CapacityReservationState`);
      const state: unknown = zone.State?.Code;
      if (!RESERVATION_STATES.includes(state as ReservationState))
        throw fail(`${az}: a state AWS does not define: ${quoted(state)}`);
      const reason: unknown = zone.State?.Reason;
      if (reason !== undefined && typeof reason !== 'string') throw fail(`${az}: its state's Reason is not text`);
      // EffectiveCapacityUnits: "the number of effective capacity units", a double, never negative.
      const effective: unknown = zone.EffectiveCapacityUnits;
      if (effective !== undefined && !(typeof effective === 'number' && Number.isFinite(effective) && effective >= 0)) {
        throw fail(`${az} EffectiveCapacityUnits is not a number of units: ${quoted(effective)}`);
      }
      azs[az] = {
        state: state as ReservationState,
        reason: reason === undefined || reason === '' ? null : plainText(reason),
        effectiveUnits: (effective as number | undefined) ?? null,
      };
    }
    return {
      capacityUnits: count(minimum?.CapacityUnits, 'CapacityUnits'),
      decreaseRequestsRemaining: count(out.DecreaseRequestsRemaining, 'DecreaseRequestsRemaining'),
      azs,
    };
  };
}

/** AWS's text for an alert: one line, no control characters or markup, at most MAX_REASON_CHARS. */
function plainText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/</g, '‹')
    .replace(/>/g, '›')
    .trim()
    .slice(0, MAX_REASON_CHARS);
}
