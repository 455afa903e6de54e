import { createServer } from 'node:http';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import { escapeXml } from '../xml';
import { checkDescribeNetworkInterfaces, type Ec2Refusal } from './contract';
import type { AddressInfo } from 'node:net';

/** A network interface as the lab's EC2 endpoint serves it. */
export interface LabEni {
  eniId: string;
  az: string;
  description: string;
  privateIp: string;
  publicIp?: string;
  ipv6?: string[];
  requesterManaged?: boolean;
}

/** The endpoint's state: ENIs, and failures to serve before answering (for tests). */
export interface Ec2State {
  enis: LabEni[];
  /** Error codes to answer with, one per request, before serving normally. */
  failNext: { code: string; status: number; message: string }[];
  /** Every request's Action and parameters, for assertions. */
  requests: Record<string, string>[];
  /**
   * Raw answers to send instead, one per request, before serving normally (hostile-endpoint tests: HTML, empty, endless
   * tokens).
   */
  rawNext?: { status: number; body: string }[];
  /** Requests refused by the DescribeNetworkInterfaces contract, with the refusal. */
  refused?: { request: Record<string, string>; refusal: Ec2Refusal }[];
  /**
   * Changes to make to the real answer, one per request the contract let through,
   * before serving normally (hostile-answer tests: an ENI's AZ dropped, an entity
   * put in its place), so a malformed answer is still about the ENIs the lab has.
   */
  mangleNext?: ((xml: string) => string)[];
  /** Actions the caller may not call (`DescribeNetworkInterfaces`): UnauthorizedOperation, with or without DryRun. */
  unauthorized?: Set<string>;
}

export interface RunningEc2Endpoint {
  /** `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_EC2`. */
  url: string;
  close(): Promise<void>;
}

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

/**
 * A local EC2 Query-API endpoint that answers DescribeNetworkInterfaces (with the
 * `description` and `requester-managed` filters, `*` wildcards and pagination),
 * so the real SDK client runs its production path against it.
 */
export async function startEc2Endpoint(state: Ec2State, host = '127.0.0.1'): Promise<RunningEc2Endpoint> {
  const server = createServer(async (req, res) => {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    // Which access key signed it: tests of cross-account roles read this.
    state.requests.push({
      ...params,
      signedBy: /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '',
    });
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(xml);
    };
    const raw = state.rawNext?.shift();
    if (raw) return reply(raw.status, raw.body);
    const failure = state.failNext.shift();
    if (failure) return reply(failure.status, errorXml(failure.code, failure.message));
    if (params.Action !== 'DescribeNetworkInterfaces') {
      return reply(
        400,
        errorXml('InvalidAction', `The action ${params.Action ?? '(none)'} is not valid for this web service.`),
      );
    }
    // Held to EC2's documented contract (lab/ec2/contract.ts): what EC2 refuses fails here too.
    const refusal = checkDescribeNetworkInterfaces(params);
    if (refusal) {
      state.refused?.push({ request: params, refusal });
      return reply(refusal.status, errorXml(refusal.code, refusal.message));
    }
    // [R] DryRun: "Checks whether you have the required permissions for the action, without actually making the
    // request, and provides an error response. If you have the required permissions, the error response is
    // DryRunOperation. Otherwise, it is UnauthorizedOperation." [E] UnauthorizedOperation: "You are not authorized to
    // perform this operation" (403, as for a call without DryRun); DryRunOperation: "The user has the required
    // permissions, so the request would have succeeded, but the DryRun parameter was used" (EC2 answers it with
    // 412 Precondition Failed).
    if (state.unauthorized?.has(params.Action))
      return reply(403, errorXml('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    if (params.DryRun === 'true')
      return reply(412, errorXml('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.'));
    const filters = readFilters(params);
    const patterns = filters.get('description');
    const description = patterns ? descriptionMatcher(patterns) : null;
    const matching = state.enis.filter((eni) => matches(eni, filters, description));
    // [D] without MaxResults EC2 answers everything at once; the lab pages by 1000 all the same.
    const max = Number(params.MaxResults ?? 1000);
    const start = Number(params.NextToken ?? 0);
    const page = matching.slice(start, start + max);
    const next = start + max < matching.length ? `<nextToken>${start + max}</nextToken>` : '';
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeNetworkInterfacesResponse xmlns="${XMLNS}"><requestId>lab-${state.requests.length}</requestId><networkInterfaceSet>${page.map(eniXml).join('')}</networkInterfaceSet>${next}</DescribeNetworkInterfacesResponse>`;
    const mangle = state.mangleNext?.shift();
    reply(200, mangle ? mangle(xml) : xml);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => closeHttp(server),
  };
}

function readFilters(params: Record<string, string>): Map<string, string[]> {
  const filters = new Map<string, string[]>();
  for (const [key, name] of Object.entries(params)) {
    const m = /^Filter\.(\d+)\.Name$/.exec(key);
    if (!m) continue;
    const values = Object.entries(params)
      .filter(([k]) => k.startsWith(`Filter.${m[1]}.Value.`))
      .map(([, v]) => v);
    filters.set(name, values);
  }
  return filters;
}

/**
 * A description filter compiled once per request: exact values in a set, `prefix*` as prefixes, the rest as patterns.
 */
function descriptionMatcher(patterns: string[]): (description: string) => boolean {
  const exact = new Set(patterns.filter((p) => !/[*?]/.test(p)));
  const prefixes = patterns.filter((p) => /^[^*?]*\*$/.test(p)).map((p) => p.slice(0, -1));
  const others = patterns.filter((p) => /[*?]/.test(p) && !/^[^*?]*\*$/.test(p)).map(wildcard);
  return (d) => exact.has(d) || prefixes.some((p) => d.startsWith(p)) || others.some((re) => re.test(d));
}

function matches(eni: LabEni, filters: Map<string, string[]>, description: ((d: string) => boolean) | null): boolean {
  if (description && !description(eni.description)) return false;
  const managed = filters.get('requester-managed');
  if (managed && !managed.includes(String(eni.requesterManaged ?? true))) return false;
  return true;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${escaped}$`);
}

function eniXml(eni: LabEni): string {
  const association = eni.publicIp
    ? `<association><publicIp>${eni.publicIp}</publicIp><ipOwnerId>amazon-elb</ipOwnerId></association>`
    : '';
  const ipv6 = (eni.ipv6 ?? []).map((a) => `<item><ipv6Address>${a}</ipv6Address></item>`).join('');
  return `<item><networkInterfaceId>${eni.eniId}</networkInterfaceId><availabilityZone>${eni.az}</availabilityZone><description>${escapeXml(eni.description)}</description><requesterId>amazon-elb</requesterId><requesterManaged>${eni.requesterManaged ?? true}</requesterManaged><status>in-use</status><privateIpAddress>${eni.privateIp}</privateIpAddress>${association}<ipv6AddressesSet>${ipv6}</ipv6AddressesSet><interfaceType>interface</interfaceType></item>`;
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>lab</RequestID></Response>`;
}
