/**
 * The documented contract of the Elastic Load Balancing calls the lab serves, as
 * its endpoint enforces it (what the ELB APIs refuse fails here too):
 *  [C] Elastic Load Balancing API Reference (2012-06-01, Classic), DescribeLoadBalancers:
 *      https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
 *  [V] Elastic Load Balancing API Reference (2015-12-01, v2), DescribeLoadBalancers:
 *      https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
 *  [P] Elastic Load Balancing API Reference (2012-06-01), DescribeLoadBalancerPolicies:
 *      https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancerPolicies.html
 *  [R] Elastic Load Balancing API Reference (v2), DescribeCapacityReservation:
 *      https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeCapacityReservation.html
 *  [Q] both references, "Common Errors": MissingParameter, InvalidParameterValue,
 *      ValidationError, all HTTP 400.
 * Where AWS's behaviour is uncertain, the stricter reading is coded and says so.
 */

/** How an ELB API refuses a request. */
export interface ElbRefusal {
  code: string;
  status: number;
  message: string;
}

export const CLASSIC_VERSION = '2012-06-01';
export const V2_VERSION = '2015-12-01';

/** `Prefix.member.N` values in order of N (the Query protocol's list encoding). */
export function members(params: Record<string, string>, prefix: string): string[] {
  const found: [number, string][] = [];
  for (const [key, value] of Object.entries(params)) {
    const m = new RegExp(`^${prefix}\\.member\\.(\\d+)$`).exec(key);
    if (m) found.push([Number(m[1]), value]);
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

const validation = (message: string): ElbRefusal => ({ code: 'ValidationError', status: 400, message });

/**
 * [C] and [V] "PageSize ... Valid Range: Minimum value of 1. Maximum value of 400."
 * A value that is not an integer is refused as well (the Query protocol's Integer type).
 */
function checkPageSize(params: Record<string, string>): ElbRefusal | null {
  if (params.PageSize === undefined) return null;
  const n = Number(params.PageSize);
  if (!/^\d+$/.test(params.PageSize) || n < 1 || n > 400)
    return validation(
      `1 validation error detected: Value '${params.PageSize}' at 'pageSize' failed to satisfy constraint: Member must have value between 1 and 400`,
    );
  return null;
}

/**
 * The most names one call may carry. [V] says of LoadBalancerArns "You can specify
 * up to 20 load balancers in a single call"; neither reference bounds the names, so
 * the stricter reading is coded: 20 names per call too, on both APIs.
 */
const MAX_PER_CALL = 20;

/**
 * A Classic load balancer name: "must have a maximum of 32 characters, must contain
 * only alphanumeric characters or hyphens, and cannot begin or end with a hyphen"
 * (CreateLoadBalancer, LoadBalancerName).
 */
const CLASSIC_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

/** Check a Classic DescribeLoadBalancers request; null when ELB would serve it. */
export function checkClassicDescribeLoadBalancers(params: Record<string, string>): ElbRefusal | null {
  const names = members(params, 'LoadBalancerNames');
  if (names.length > MAX_PER_CALL)
    return validation(`more than ${MAX_PER_CALL} load balancer names in one call (stricter reading of [C])`);
  const bad = names.find((n) => !CLASSIC_NAME.test(n));
  if (bad !== undefined)
    return validation(
      `Value '${bad}' at 'loadBalancerNames' failed to satisfy constraint: a load balancer name has 1-32 letters, digits or hyphens, and no hyphen at either end`,
    );
  return checkPageSize(params);
}

/** Check a v2 DescribeLoadBalancers request; null when ELB would serve it. */
export function checkV2DescribeLoadBalancers(params: Record<string, string>): ElbRefusal | null {
  const arns = members(params, 'LoadBalancerArns');
  const names = members(params, 'Names');
  // AWS answers "ValidationError: Load balancer names and load balancer ARNs cannot be specified at the same time".
  if (arns.length > 0 && names.length > 0)
    return validation('Load balancer names and load balancer ARNs cannot be specified at the same time');
  if (arns.length > MAX_PER_CALL) return validation(`[V] up to ${MAX_PER_CALL} load balancer ARNs in a single call`);
  if (names.length > MAX_PER_CALL)
    return validation(`more than ${MAX_PER_CALL} load balancer names in one call (stricter reading of [V])`);
  const badArn = arns.find(
    (a) =>
      !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(app|net|gwy)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/.test(
        a,
      ),
  );
  if (badArn !== undefined) return validation(`'${badArn}' is not a valid load balancer ARN`);
  return checkPageSize(params);
}

/**
 * Check a Classic DescribeLoadBalancerPolicies request; null when ELB would serve it.
 * [P] LoadBalancerName (String, optional) and PolicyNames.member.N (optional); the
 * load balancer name follows CreateLoadBalancer's rule, as above.
 */
export function checkDescribeLoadBalancerPolicies(params: Record<string, string>): ElbRefusal | null {
  const name = params.LoadBalancerName;
  if (name !== undefined && !CLASSIC_NAME.test(name))
    return validation(
      `Value '${name}' at 'loadBalancerName' failed to satisfy constraint: a load balancer name has 1-32 letters, digits or hyphens, and no hyphen at either end`,
    );
  if (members(params, 'PolicyNames').some((p) => p.length === 0)) return validation('a policy name must not be empty');
  return null;
}

/**
 * Check a v2 DescribeCapacityReservation request; null when ELB would serve it. [R] LoadBalancerArn: "Required: Yes".
 */
export function checkDescribeCapacityReservation(params: Record<string, string>): ElbRefusal | null {
  const arn = params.LoadBalancerArn;
  if (arn === undefined || arn === '')
    return { code: 'MissingParameter', status: 400, message: 'The request must contain the parameter LoadBalancerArn' };
  // Only an ALB or NLB has an LCU reservation (Gateway Load Balancers are not sized in LCUs): the stricter reading
  // refuses a gwy ARN.
  if (
    !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(app|net)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/.test(
      arn,
    )
  )
    return validation(`'${arn}' is not a valid Application or Network Load Balancer ARN`);
  return null;
}
