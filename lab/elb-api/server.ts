import { createServer } from 'node:http';
import { closeHttp } from '../ports';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body';
import type { Reservation } from '../../shared/capacity/reservation';
import { escapeXml } from '../xml';
import {
  CLASSIC_VERSION,
  V2_VERSION,
  checkClassicDescribeLoadBalancers,
  checkDescribeCapacityReservation,
  checkDescribeLoadBalancerPolicies,
  checkV2DescribeLoadBalancers,
  members,
  type ElbRefusal,
} from './contract';

/**
 * A Classic ELB policy: its type and attributes (a BackendServerAuthenticationPolicyType names PublicKeyPolicyType
 * ones).
 */
interface LabPolicy {
  name: string;
  type: string;
  attributes: [string, string][];
}

/** A Classic ELB as the lab's ELB API knows it. */
export interface LabClassicLb {
  name: string;
  dnsName: string;
  policies?: LabPolicy[];
  /** Instance ports and the policies applied to them (SetLoadBalancerPoliciesForBackendServer). */
  backendServers?: { instancePort: number; policyNames: string[] }[];
}

/** An ALB or NLB as the lab's ELB API knows it. */
interface LabV2Lb {
  arn: string;
  name: string;
  dnsName: string;
  type: 'application' | 'network';
  /** Its LCU reservation as of now (the lab's capacity model); none when absent. */
  reservation?: () => Reservation | null;
}

/** The calls the endpoint serves, by API: what a fault is keyed on. */
export type ElbCall =
  | 'classic:DescribeLoadBalancers'
  | 'classic:DescribeLoadBalancerPolicies'
  | 'v2:DescribeLoadBalancers'
  | 'v2:DescribeCapacityReservation';

/**
 * One misbehaviour, for one request of a call that the contract let through
 * (hostile-answer tests, through the real SDK): another body instead of the
 * answer (HTML, empty, JSON, another call's); no answer at all until the endpoint
 * closes; or the real answer, changed (a member dropped, markup put in).
 */
export type ElbFault =
  | { raw: { status: number; body: string; contentType?: string } }
  | { hang: true }
  | { mangle: (xml: string) => string; status?: number };

/** The endpoint's state: its load balancers, failures to serve first, and what it was asked. */
export interface ElbApiState {
  classic: LabClassicLb[];
  v2: LabV2Lb[];
  /** Error codes to answer with, one per request, before serving normally. */
  failNext: { code: string; status: number; message: string }[];
  /** Every request's parameters, for assertions. */
  requests: Record<string, string>[];
  /** Requests refused by the documented contract (lab/elb-api/contract.ts), with the refusal. */
  refused: { request: Record<string, string>; refusal: ElbRefusal }[];
  /** Per call, faults served one per request of that call (after the contract's checks), before serving normally. */
  faults?: Partial<Record<ElbCall, ElbFault[]>>;
}

export interface RunningElbApi {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING(_V2)`. */
  url: string;
  close(): Promise<void>;
}

/** An empty state. */
export function emptyElbApi(): ElbApiState {
  return { classic: [], v2: [], failNext: [], requests: [], refused: [] };
}

const NS: Record<string, string> = {
  [CLASSIC_VERSION]: `http://elasticloadbalancing.amazonaws.com/doc/${CLASSIC_VERSION}/`,
  [V2_VERSION]: `http://elasticloadbalancing.amazonaws.com/doc/${V2_VERSION}/`,
};

/**
 * A local Query-API endpoint for both Elastic Load Balancing APIs (Classic
 * 2012-06-01 and v2 2015-12-01, told apart by `Version`), serving
 * DescribeLoadBalancers (both), DescribeLoadBalancerPolicies (Classic) and
 * DescribeCapacityReservation (v2), held to their documented contract, so the real
 * SDK clients run their production path against it; `faults` makes it misbehave
 * on demand, per call, after the contract's checks.
 */
export async function startElbApi(state: ElbApiState, host = '127.0.0.1'): Promise<RunningElbApi> {
  const server = createServer(async (req, res) => {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    state.requests.push(params);
    const version = params.Version ?? '';
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    };
    const refuse = (r: ElbRefusal) => reply(r.status, errorXml(version, r));
    const failure = state.failNext.shift();
    if (failure) return refuse(failure);
    const action = params.Action ?? '';
    const served =
      version === CLASSIC_VERSION
        ? ['DescribeLoadBalancers', 'DescribeLoadBalancerPolicies']
        : version === V2_VERSION
          ? ['DescribeLoadBalancers', 'DescribeCapacityReservation']
          : [];
    if (!served.includes(action)) {
      return refuse({
        code: 'InvalidAction',
        status: 400,
        message: `The action ${action || '(none)'} is not valid for version ${version || '(none)'}.`,
      });
    }
    const refusal =
      action === 'DescribeCapacityReservation'
        ? checkDescribeCapacityReservation(params)
        : version === V2_VERSION
          ? checkV2DescribeLoadBalancers(params)
          : action === 'DescribeLoadBalancers'
            ? checkClassicDescribeLoadBalancers(params)
            : checkDescribeLoadBalancerPolicies(params);
    if (refusal) {
      state.refused.push({ request: params, refusal });
      return refuse(refusal);
    }
    // What the contract lets through may still be answered badly, on demand (per call, one fault per request).
    const fault = state.faults?.[`${version === CLASSIC_VERSION ? 'classic' : 'v2'}:${action}` as ElbCall]?.shift();
    if (fault && 'hang' in fault) return; // accepted, never answered: closing the endpoint drops the connection
    if (fault && 'raw' in fault) {
      res.writeHead(fault.raw.status, { 'content-type': fault.raw.contentType ?? 'text/xml' });
      return res.end(fault.raw.body);
    }
    const [status, xml] = answer(state, version, action, params);
    if (fault && 'mangle' in fault) return reply(fault.status ?? status, fault.mangle(xml));
    reply(status, xml);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, close: () => closeHttp(server) };
}

/** The answer to a request the contract let through: its status and XML. */
function answer(state: ElbApiState, version: string, action: string, params: Record<string, string>): [number, string] {
  if (action === 'DescribeLoadBalancerPolicies') return describePolicies(state, params);
  if (action === 'DescribeCapacityReservation') return describeReservation(state, params);
  const notFound = (message: string): [number, string] => [
    400,
    errorXml(version, { code: 'LoadBalancerNotFound', status: 400, message }),
  ];
  if (version === CLASSIC_VERSION) {
    const names = members(params, 'LoadBalancerNames');
    const missing = names.find((n) => !state.classic.some((lb) => lb.name === n));
    // [C] LoadBalancerNotFound, 400: one unknown name fails the whole call.
    if (missing !== undefined) return notFound(`There is no ACTIVE Load Balancer named '${missing}'`);
    const found = names.length > 0 ? state.classic.filter((lb) => names.includes(lb.name)) : state.classic;
    // [C]'s sample response sends empty lists as empty elements (<SecurityGroups/>, <PolicyNames/>): so does the lab.
    const items = found
      .map(
        (lb) =>
          `<member><LoadBalancerName>${escapeXml(lb.name)}</LoadBalancerName><DNSName>${escapeXml(lb.dnsName)}</DNSName><Scheme>internet-facing</Scheme><BackendServerDescriptions>${(lb.backendServers ?? []).map((b) => `<member><InstancePort>${b.instancePort}</InstancePort><PolicyNames>${b.policyNames.map((p) => `<member>${escapeXml(p)}</member>`).join('')}</PolicyNames></member>`).join('')}</BackendServerDescriptions></member>`,
      )
      .join('');
    return [
      200,
      response(version, `<LoadBalancerDescriptions>${items}</LoadBalancerDescriptions><NextMarker></NextMarker>`),
    ];
  }
  const arns = members(params, 'LoadBalancerArns');
  const names = members(params, 'Names');
  const wanted = arns.length > 0 ? arns : names;
  const key = arns.length > 0 ? 'arn' : 'name';
  const found = wanted.length > 0 ? state.v2.filter((lb) => wanted.includes(lb[key])) : state.v2;
  // [V] LoadBalancerNotFound, 400 ("One or more load balancers not found").
  if (wanted.some((w) => !found.some((lb) => lb[key] === w))) return notFound('One or more load balancers not found');
  const items = found
    .map(
      (lb) =>
        `<member><LoadBalancerArn>${escapeXml(lb.arn)}</LoadBalancerArn><LoadBalancerName>${escapeXml(lb.name)}</LoadBalancerName><DNSName>${escapeXml(lb.dnsName)}</DNSName><Type>${lb.type}</Type><Scheme>internet-facing</Scheme><State><Code>active</Code></State></member>`,
    )
    .join('');
  return [200, response(version, `<LoadBalancers>${items}</LoadBalancers>`)];
}

function response(version: string, result: string, action = 'DescribeLoadBalancers'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS[version]}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></${action}Response>`;
}

/**
 * [R] An ALB's or NLB's LCU reservation (none: no MinimumLoadBalancerCapacity, no zones); LoadBalancerNotFound for an
 * unknown ARN.
 */
function describeReservation(state: ElbApiState, params: Record<string, string>): [number, string] {
  const lb = state.v2.find((v) => v.arn === params.LoadBalancerArn);
  if (!lb)
    return [
      400,
      errorXml(V2_VERSION, {
        code: 'LoadBalancerNotFound',
        status: 400,
        message: 'One or more load balancers not found',
      }),
    ];
  const r = lb.reservation?.() ?? null;
  const zones = Object.entries(r?.azs ?? {})
    .map(
      ([az, z]) =>
        `<member><AvailabilityZone>${escapeXml(az)}</AvailabilityZone><State><Code>${z.state}</Code>${z.reason ? `<Reason>${escapeXml(z.reason)}</Reason>` : ''}</State>${z.effectiveUnits === null ? '' : `<EffectiveCapacityUnits>${z.effectiveUnits}</EffectiveCapacityUnits>`}</member>`,
    )
    .join('');
  const minimum =
    r?.capacityUnits === null || r?.capacityUnits === undefined
      ? ''
      : `<MinimumLoadBalancerCapacity><CapacityUnits>${r.capacityUnits}</CapacityUnits></MinimumLoadBalancerCapacity>`;
  const decrease =
    r?.decreaseRequestsRemaining === null || r?.decreaseRequestsRemaining === undefined
      ? ''
      : `<DecreaseRequestsRemaining>${r.decreaseRequestsRemaining}</DecreaseRequestsRemaining>`;
  return [
    200,
    response(
      V2_VERSION,
      `${decrease}${minimum}<CapacityReservationState>${zones}</CapacityReservationState>`,
      'DescribeCapacityReservation',
    ),
  ];
}

/**
 * [P] A Classic load balancer's policies (all, or the named ones): LoadBalancerNotFound / PolicyNotFound when one is
 * not there.
 */
function describePolicies(state: ElbApiState, params: Record<string, string>): [number, string] {
  const name = params.LoadBalancerName;
  const lb = name === undefined ? null : state.classic.find((c) => c.name === name);
  const fail = (code: string, message: string): [number, string] => [
    400,
    errorXml(CLASSIC_VERSION, { code, status: 400, message }),
  ];
  if (name !== undefined && !lb)
    return fail('LoadBalancerNotFound', `There is no ACTIVE Load Balancer named '${name}'`);
  const policies = lb?.policies ?? [];
  const wanted = members(params, 'PolicyNames');
  const missing = wanted.find((w) => !policies.some((p) => p.name === w));
  if (missing !== undefined)
    return fail('PolicyNotFound', `There is no policy with name ${missing} for load balancer ${name ?? '(none)'}`);
  const chosen = wanted.length > 0 ? policies.filter((p) => wanted.includes(p.name)) : policies;
  const items = chosen
    .map(
      (p) =>
        `<member><PolicyName>${escapeXml(p.name)}</PolicyName><PolicyTypeName>${escapeXml(p.type)}</PolicyTypeName><PolicyAttributeDescriptions>${p.attributes.map(([k, v]) => `<member><AttributeName>${escapeXml(k)}</AttributeName><AttributeValue>${escapeXml(v)}</AttributeValue></member>`).join('')}</PolicyAttributeDescriptions></member>`,
    )
    .join('');
  return [
    200,
    response(CLASSIC_VERSION, `<PolicyDescriptions>${items}</PolicyDescriptions>`, 'DescribeLoadBalancerPolicies'),
  ];
}

function errorXml(version: string, r: ElbRefusal): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS[version] ?? NS[V2_VERSION]}"><Error><Type>Sender</Type><Code>${escapeXml(r.code)}</Code><Message>${escapeXml(r.message)}</Message></Error><RequestId>lab</RequestId></ErrorResponse>`;
}
