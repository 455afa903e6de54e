import { createPublicKey, X509Certificate } from 'node:crypto';
import {
  DescribeLoadBalancerPoliciesCommand,
  DescribeLoadBalancersCommand,
  type DescribeLoadBalancersCommandOutput,
  type ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import { apiList, apiString, guardQueryAnswers, quoted, theOneAsked } from '../answer';
import { describeError } from '../errors';

/**
 * A Classic ELB's back-end server authentication: per instance port with a
 * `BackendServerAuthenticationPolicyType` policy, the public keys it accepts
 * (base64 DER SubjectPublicKeyInfo). A port not in the map has no policy: the
 * ELB then does not check the backend's certificate at all.
 */
export type BackendAuth = Map<number, string[]>;

/**
 * A Classic ELB's back-end authentication by name; null when no Classic ELB has
 * that name (AccessPointNotFound: an ALB/NLB, or a name that is wrong; the TLS
 * round says which it can tell). Throws one line naming the call otherwise.
 */
export type BackendAuthLookup = (classicName: string) => Promise<BackendAuth | null>;

const AUTH_TYPE = 'BackendServerAuthenticationPolicyType';
const KEY_TYPE = 'PublicKeyPolicyType';

// The answers, per the Classic ELB API reference (2012-06-01):
// [C] DescribeLoadBalancers:
// https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
//      LoadBalancerDescription.BackendServerDescriptions: "information about your EC2 instances"; its sample
//      response sends empty lists as empty elements (<SecurityGroups/>, <PolicyNames/>), so a missing list is unknown.
// [B] BackendServerDescription: InstancePort ("the port on which the EC2 instance is listening", 1-65535), PolicyNames.
// [P] DescribeLoadBalancerPolicies: PolicyDescriptions; PolicyDescription: PolicyName, PolicyTypeName,
// PolicyAttributeDescriptions.
//  Back-end authentication (Classic Load Balancers guide, "Configure back-end server authentication"): a
// BackendServerAuthenticationPolicyType policy names PublicKeyPolicyType policies (PublicKeyPolicyName), each with a
// PublicKey.

/**
 * A BackendAuthLookup over DescribeLoadBalancers (which ports carry which
 * policies) and DescribeLoadBalancerPolicies (what the policies hold). Throws one
 * line naming the call when a call fails or its answer is not what the API says it
 * is (another load balancer, a missing list, a policy named but not described):
 * "unknown" is never read as "no policy", nor as "no keys".
 */
export function createBackendAuthLookup(elb: ElasticLoadBalancingClient): BackendAuthLookup {
  // Whoever built the client: its 2xx answers must be the calls' own <ActionResponse> documents.
  guardQueryAnswers(elb, 'query');
  return async (name) => {
    const describeCall = `DescribeLoadBalancers (Classic, ${name})`;
    let described: DescribeLoadBalancersCommandOutput;
    try {
      described = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
    } catch (err) {
      if ((err as { name?: string }).name === 'AccessPointNotFoundException') return null;
      throw new Error(`${describeCall}: ${describeError(err)}`);
    }
    const descriptions = apiList(described.LoadBalancerDescriptions, describeCall, 'LoadBalancerDescriptions');
    const [lb] = theOneAsked(descriptions, (d) => d.LoadBalancerName, name, describeCall, 'LoadBalancerName');
    const ports = apiList(lb.BackendServerDescriptions, describeCall, 'BackendServerDescriptions').map((b, i) => {
      const port: unknown = b?.InstancePort;
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new Error(
          `${describeCall}: BackendServerDescriptions #${i + 1} has no InstancePort 1-65535 (${quoted(port)})`,
        );
      }
      const names = apiList(b.PolicyNames, describeCall, `PolicyNames of instance port ${port}`);
      return {
        port,
        policyNames: names.map((n) => apiString(n, describeCall, `a policy name of instance port ${port}`)),
      };
    });
    const auth: BackendAuth = new Map();
    if (!ports.some((p) => p.policyNames.length > 0)) return auth;
    const policiesCall = `DescribeLoadBalancerPolicies (${name})`;
    const answer = await elb
      .send(new DescribeLoadBalancerPoliciesCommand({ LoadBalancerName: name }))
      .catch((err: unknown) => {
        throw new Error(`${policiesCall}: ${describeError(err)}`);
      });
    const policies = apiList(answer.PolicyDescriptions, policiesCall, 'PolicyDescriptions');
    const byName = new Map<string, { type: string; attributes: [string, string][] }>();
    for (const p of policies) {
      const policyName = apiString(p?.PolicyName, policiesCall, 'a PolicyName');
      const type = apiString(p.PolicyTypeName, policiesCall, `the PolicyTypeName of ${quoted(policyName)}`);
      // The two types read here hold what they are for in their attributes: without the list, unknown.
      const read = type === AUTH_TYPE || type === KEY_TYPE;
      const listed = read
        ? apiList(p.PolicyAttributeDescriptions, policiesCall, `PolicyAttributeDescriptions of ${quoted(policyName)}`)
        : (p.PolicyAttributeDescriptions ?? []);
      const attributes = listed.map((a): [string, string] => [
        apiString(a?.AttributeName, policiesCall, `an AttributeName of ${quoted(policyName)}`),
        typeof a.AttributeValue === 'string' ? a.AttributeValue : '',
      ]);
      byName.set(policyName, { type, attributes });
    }
    // A policy a port (or an authentication policy) names must be described: else what it holds is unknown.
    const policy = (policyName: string, namedBy: string) => {
      const found = byName.get(policyName);
      if (!found)
        throw new Error(
          `${policiesCall}: ${namedBy} names policy ${quoted(policyName)}, which the answer does not describe`,
        );
      return found;
    };
    for (const { port, policyNames } of ports) {
      const authPolicies = policyNames
        .map((n) => [n, policy(n, `instance port ${port}`)] as const)
        .filter(([, p]) => p.type === AUTH_TYPE);
      if (authPolicies.length === 0) continue;
      const keys = authPolicies.flatMap(([authName, p]) =>
        p.attributes
          .filter(([attr]) => attr === 'PublicKeyPolicyName')
          .flatMap(([, keyName]) => {
            const keyPolicy = policy(keyName, `authentication policy ${quoted(authName)}`);
            if (keyPolicy.type !== KEY_TYPE) {
              throw new Error(
                `${policiesCall}: authentication policy ${quoted(authName)} names ${quoted(keyName)}, a ${quoted(keyPolicy.type)}, not a ${KEY_TYPE}`,
              );
            }
            const values = keyPolicy.attributes.filter(([attr]) => attr === 'PublicKey').map(([, v]) => v);
            if (values.length === 0 || values.some((v) => v === ''))
              throw new Error(`${policiesCall}: ${KEY_TYPE} ${quoted(keyName)} has no PublicKey`);
            return values.map((value) => normalizedPublicKey(value, name));
          }),
      );
      auth.set(port, keys);
    }
    return auth;
  };
}

/**
 * A PublicKeyPolicyType's `PublicKey` as base64 DER SubjectPublicKeyInfo. AWS's
 * guide asks for "the public key" without PEM armour, yet its own example pastes a
 * whole certificate; both are read (a certificate gives its key). Anything else is
 * an error naming the load balancer, never a key that matches nothing silently.
 */
export function normalizedPublicKey(value: string, lb: string): string {
  const der = Buffer.from(value.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  try {
    return new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    // not a certificate: a public key, or nothing
  }
  try {
    return createPublicKey({ key: der, format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'der' })
      .toString('base64');
  } catch {
    throw new Error(
      `${lb}: a PublicKeyPolicyType PublicKey is neither a public key nor a certificate (${JSON.stringify(value.slice(0, 40))}…)`,
    );
  }
}
