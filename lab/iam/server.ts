import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeHttp } from '../ports';
import { readBody } from '../http-body';
import { escapeXml } from '../xml';
import { checkSimulatePrincipalPolicy, decide, isIamRefusal, type IamRefusal, type LabPrincipal } from './contract';

/** What the lab's IAM holds and saw. */
export interface IamState {
  /** The users, groups and roles that exist, by ARN, and what each may not do (absent: everything is allowed). */
  principals: Map<string, LabPrincipal>;
  /** Principals whose simulation the caller may not run (iam:SimulatePrincipalPolicy denied): AccessDenied. */
  simulationRefused: Set<string>;
  /** Every request's parameters, for assertions. */
  requests: Record<string, string>[];
  /**
   * The most results a page holds, below MaxItems: [S] "IAM might return fewer than the MaxItems number of results
   * even when there are more results available" (a test makes the client page).
   */
  pageLimit?: number;
}

/** An empty IAM: no principal exists yet. */
export function iamState(): IamState {
  return { principals: new Map(), simulationRefused: new Set(), requests: [] };
}

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

function errorXml(refusal: IamRefusal): string {
  const type = refusal.status >= 500 ? 'Receiver' : 'Sender';
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type><Code>${refusal.code}</Code><Message>${escapeXml(refusal.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/**
 * A local IAM Query-API endpoint answering SimulatePrincipalPolicy, held to its documented
 * contract (lab/iam/contract.ts): each action evaluated for each resource, paged by
 * MaxItems with a Marker, NoSuchEntity for a principal that does not exist, AccessDenied
 * for one the caller may not simulate. For `AWS_ENDPOINT_URL_IAM`.
 */
export async function startIamEndpoint(
  state: IamState,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const params = new URLSearchParams(await readBody(req));
    state.requests.push(Object.fromEntries(params));
    const reply = (status: number, xml: string) => res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    const refuse = (refusal: IamRefusal) => reply(refusal.status, errorXml(refusal));
    if (params.get('Action') !== 'SimulatePrincipalPolicy')
      return refuse({
        code: 'InvalidAction',
        status: 400,
        message: `Could not find operation ${params.get('Action') ?? '(none)'} for version 2010-05-08`,
      });
    const request = checkSimulatePrincipalPolicy(params);
    if (isIamRefusal(request)) return refuse(request);
    if (state.simulationRefused.has(request.policySourceArn))
      return refuse({
        code: 'AccessDenied',
        status: 403,
        message: `User is not authorized to perform: iam:SimulatePrincipalPolicy on resource: ${request.policySourceArn}`,
      });
    const principal = state.principals.get(request.policySourceArn);
    // [E] NoSuchEntity: "The request was rejected because it referenced a resource entity that does not exist".
    if (!principal)
      return refuse({
        code: 'NoSuchEntity',
        status: 404,
        message: `The ${/:(user|group|role)\//.exec(request.policySourceArn)?.[1] ?? 'entity'} with name ${request.policySourceArn.split('/').at(-1)} cannot be found.`,
      });
    // [S] "Each API in the ActionNames parameter is evaluated for each resource in this list."
    const results = request.actionNames.flatMap((action) =>
      request.resourceArns.map((resource) => ({ action, resource, decision: decide(principal, action) })),
    );
    if (request.offset > results.length)
      return refuse({ code: 'InvalidInput', status: 400, message: 'Invalid Marker: past the last result' });
    const page = results.slice(
      request.offset,
      request.offset + Math.min(request.maxItems, state.pageLimit ?? Infinity),
    );
    const end = request.offset + page.length;
    // [S] IsTruncated "A flag that indicates whether there are more items to return"; Marker present only then.
    const more = end < results.length;
    const members = page
      .map(
        (r) =>
          `<member><EvalActionName>${escapeXml(r.action)}</EvalActionName><EvalResourceName>${escapeXml(r.resource)}</EvalResourceName><EvalDecision>${r.decision}</EvalDecision><MatchedStatements/><MissingContextValues/></member>`,
      )
      .join('');
    reply(
      200,
      `<SimulatePrincipalPolicyResponse xmlns="${XMLNS}"><SimulatePrincipalPolicyResult><IsTruncated>${more}</IsTruncated>${more ? `<Marker>lab-${end}</Marker>` : ''}<EvaluationResults>${members}</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { url: `http://${host}:${(server.address() as AddressInfo).port}`, close: () => closeHttp(server) };
}
