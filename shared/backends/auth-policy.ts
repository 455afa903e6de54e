import { createPublicKey, X509Certificate } from 'node:crypto';
import { DescribeLoadBalancerPoliciesCommand, DescribeLoadBalancersCommand, type ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { apiList } from '../aws/answer';
import { describeError } from '../errors';

/**
 * A Classic ELB's back-end server authentication: per instance port with a
 * `BackendServerAuthenticationPolicyType` policy, the public keys it accepts
 * (base64 DER SubjectPublicKeyInfo). A port not in the map has no policy: the
 * ELB then does not check the backend's certificate at all.
 */
export type BackendAuth = Map<number, string[]>;

/** A Classic ELB's back-end authentication by name; null when no Classic ELB has that name (an ALB/NLB). */
export type BackendAuthLookup = (classicName: string) => Promise<BackendAuth | null>;

const AUTH_TYPE = 'BackendServerAuthenticationPolicyType';
const KEY_TYPE = 'PublicKeyPolicyType';

/**
 * A BackendAuthLookup over DescribeLoadBalancers (which ports carry which
 * policies) and DescribeLoadBalancerPolicies (what the policies hold). Throws one
 * line naming the call when a call fails: "unknown" is never read as "no policy".
 */
export function createBackendAuthLookup(elb: ElasticLoadBalancingClient): BackendAuthLookup {
  return async (name) => {
    let described;
    try {
      described = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
    } catch (err) {
      if ((err as { name?: string }).name === 'AccessPointNotFoundException') return null;
      throw new Error(`DescribeLoadBalancers (Classic, ${name}): ${describeError(err)}`);
    }
    const lb = apiList(described.LoadBalancerDescriptions, 'DescribeLoadBalancers (Classic)', 'LoadBalancerDescriptions')[0];
    const ports = (lb?.BackendServerDescriptions ?? []).filter((b) => b.InstancePort !== undefined && (b.PolicyNames ?? []).length > 0);
    const auth: BackendAuth = new Map();
    if (ports.length === 0) return auth;
    let policies;
    try {
      policies = apiList((await elb.send(new DescribeLoadBalancerPoliciesCommand({ LoadBalancerName: name }))).PolicyDescriptions, 'DescribeLoadBalancerPolicies', 'PolicyDescriptions');
    } catch (err) {
      throw new Error(`DescribeLoadBalancerPolicies (${name}): ${describeError(err)}`);
    }
    const byName = new Map(policies.map((p) => [p.PolicyName ?? '', p]));
    const attribute = (policy: (typeof policies)[number] | undefined, attr: string) => (policy?.PolicyAttributeDescriptions ?? []).filter((a) => a.AttributeName === attr).map((a) => a.AttributeValue ?? '');
    for (const port of ports) {
      const authPolicies = (port.PolicyNames ?? []).map((n) => byName.get(n)).filter((p) => p?.PolicyTypeName === AUTH_TYPE);
      if (authPolicies.length === 0) continue;
      const keys = authPolicies
        .flatMap((p) => attribute(p, 'PublicKeyPolicyName'))
        .map((n) => byName.get(n))
        .filter((p) => p?.PolicyTypeName === KEY_TYPE)
        .flatMap((p) => attribute(p, 'PublicKey'))
        .map((value) => normalizedPublicKey(value, name));
      auth.set(port.InstancePort as number, keys);
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
    return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' }).toString('base64');
  } catch {
    throw new Error(`${lb}: a PublicKeyPolicyType PublicKey is neither a public key nor a certificate (${JSON.stringify(value.slice(0, 40))}…)`);
  }
}
