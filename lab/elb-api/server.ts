import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../http-body';
import { escapeXml } from '../xml';
import { CLASSIC_VERSION, V2_VERSION, checkClassicDescribeLoadBalancers, checkV2DescribeLoadBalancers, members, type ElbRefusal } from './contract';

/** A Classic ELB as the lab's ELB API knows it. */
export interface LabClassicLb {
  name: string;
  dnsName: string;
}

/** An ALB or NLB as the lab's ELB API knows it. */
export interface LabV2Lb {
  arn: string;
  name: string;
  dnsName: string;
  type: 'application' | 'network';
}

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
 * DescribeLoadBalancers held to its documented contract, so the real SDK clients
 * run their production path against it.
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
    if (!NS[version] || params.Action !== 'DescribeLoadBalancers') {
      return refuse({ code: 'InvalidAction', status: 400, message: `The action ${params.Action ?? '(none)'} is not valid for version ${version || '(none)'}.` });
    }
    const refusal = version === CLASSIC_VERSION ? checkClassicDescribeLoadBalancers(params) : checkV2DescribeLoadBalancers(params);
    if (refusal) {
      state.refused.push({ request: params, refusal });
      return refuse(refusal);
    }
    if (version === CLASSIC_VERSION) {
      const names = members(params, 'LoadBalancerNames');
      const missing = names.find((n) => !state.classic.some((lb) => lb.name === n));
      // [C] LoadBalancerNotFound, 400: one unknown name fails the whole call.
      if (missing !== undefined) return refuse({ code: 'LoadBalancerNotFound', status: 400, message: `There is no ACTIVE Load Balancer named '${missing}'` });
      const found = names.length > 0 ? state.classic.filter((lb) => names.includes(lb.name)) : state.classic;
      const items = found.map((lb) => `<member><LoadBalancerName>${escapeXml(lb.name)}</LoadBalancerName><DNSName>${escapeXml(lb.dnsName)}</DNSName><Scheme>internet-facing</Scheme></member>`).join('');
      return reply(200, response(version, `<LoadBalancerDescriptions>${items}</LoadBalancerDescriptions><NextMarker></NextMarker>`));
    }
    const arns = members(params, 'LoadBalancerArns');
    const names = members(params, 'Names');
    const wanted = arns.length > 0 ? arns : names;
    const key = arns.length > 0 ? 'arn' : 'name';
    const found = wanted.length > 0 ? state.v2.filter((lb) => wanted.includes(lb[key])) : state.v2;
    // [V] LoadBalancerNotFound, 400 ("One or more load balancers not found").
    if (wanted.some((w) => !found.some((lb) => lb[key] === w))) return refuse({ code: 'LoadBalancerNotFound', status: 400, message: 'One or more load balancers not found' });
    const items = found.map((lb) => `<member><LoadBalancerArn>${escapeXml(lb.arn)}</LoadBalancerArn><LoadBalancerName>${escapeXml(lb.name)}</LoadBalancerName><DNSName>${escapeXml(lb.dnsName)}</DNSName><Type>${lb.type}</Type><Scheme>internet-facing</Scheme><State><Code>active</Code></State></member>`).join('');
    return reply(200, response(version, `<LoadBalancers>${items}</LoadBalancers>`));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function response(version: string, result: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeLoadBalancersResponse xmlns="${NS[version]}"><DescribeLoadBalancersResult>${result}</DescribeLoadBalancersResult><ResponseMetadata><RequestId>lab</RequestId></ResponseMetadata></DescribeLoadBalancersResponse>`;
}

function errorXml(version: string, r: ElbRefusal): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS[version] ?? NS[V2_VERSION]}"><Error><Type>Sender</Type><Code>${escapeXml(r.code)}</Code><Message>${escapeXml(r.message)}</Message></Error><RequestId>lab</RequestId></ErrorResponse>`;
}
