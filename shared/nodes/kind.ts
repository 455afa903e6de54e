import { loadBalancerNameOf, type LoadBalancerEni } from './eni';
import { parseLoadBalancerArn, type LoadBalancerName } from './lb-name';

/** The three kinds of Elastic Load Balancer elbscope watches. */
export type LoadBalancerKind = 'classic' | 'application' | 'network';

/**
 * A load balancer's kind from the evidence there is, strongest first: its ENIs'
 * descriptions (`ELB <name>` Classic, `ELB app/…` ALB, `ELB net/…` NLB), the
 * configured ARN, the DNS name's shape (only an NLB's is its own). Null when
 * nothing says (a Classic/ALB-shaped name with no ENIs read).
 */
export function kindOf(evidence: {
  enis: LoadBalancerEni[] | null;
  arn?: string | undefined;
  dnsName: LoadBalancerName | null;
}): LoadBalancerKind | null {
  const fromEnis = new Set(
    (evidence.enis ?? []).flatMap((e) =>
      loadBalancerNameOf(e.description) === null ? [] : [kindOfDescription(e.description)],
    ),
  );
  if (fromEnis.size === 1) return [...fromEnis][0] as LoadBalancerKind;
  const arn = evidence.arn ? parseLoadBalancerArn(evidence.arn) : null;
  if (arn) return arn.type === 'app' ? 'application' : 'network';
  return evidence.dnsName?.shape === 'network' ? 'network' : null;
}

function kindOfDescription(description: string): LoadBalancerKind {
  if (description.startsWith('ELB app/')) return 'application';
  if (description.startsWith('ELB net/')) return 'network';
  return 'classic';
}
