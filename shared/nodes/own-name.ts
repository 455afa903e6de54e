import {
  DescribeLoadBalancersCommand as DescribeClassic,
  type ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeLoadBalancersCommand as DescribeV2,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { apiList, guardQueryAnswers, quoted, theOneAsked } from '../answer';
import { describeError } from '../errors';
import { parseLoadBalancerDnsName } from './lb-name';

/** What names a load balancer to the ELB APIs: its ARN (ALB/NLB) or its name. */
interface OwnNameQuery {
  name?: string | undefined;
  arn?: string | undefined;
}

/**
 * Finds a load balancer's own DNS name (`<name>-<id>.<region>.elb.amazonaws.com`)
 * through the ELB APIs: what a Route 53 alias hides (an alias shows no CNAME).
 * Throws one line naming what was asked and why it found none.
 */
export type OwnNameLookup = (query: OwnNameQuery) => Promise<string>;

/** The two ELB API clients of one region (and account). */
export interface ElbApiClients {
  elb: ElasticLoadBalancingClient;
  elbv2: ElasticLoadBalancingV2Client;
}

/**
 * An OwnNameLookup over DescribeLoadBalancers: by ARN on the v2 API; by name on
 * both APIs (a Classic ELB and an ALB may share a name: then it is ambiguous and
 * said so). The SDK retries throttling; its clients carry the deadlines. An answer
 * must describe the load balancer asked, once: asked by name or ARN, the ELB APIs
 * answer LoadBalancerNotFound for one they do not have ([C], [V] below), never an
 * empty list, and a list of others is not an answer to the question.
 *  [C] https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_DescribeLoadBalancers.html
 *  [V] https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeLoadBalancers.html
 */
export function createOwnNameLookup(clients: ElbApiClients): OwnNameLookup {
  // Whoever built the clients: their 2xx answers must be DescribeLoadBalancersResponse documents.
  guardQueryAnswers(clients.elb, 'query');
  guardQueryAnswers(clients.elbv2, 'query');
  return async ({ name, arn }) => {
    if (arn) {
      const call = `DescribeLoadBalancers (${arn})`;
      const out = await clients.elbv2.send(new DescribeV2({ LoadBalancerArns: [arn] })).catch(rethrow(call));
      const [lb] = theOneAsked(
        apiList(out.LoadBalancers, call, 'LoadBalancers'),
        (d) => d.LoadBalancerArn,
        arn,
        call,
        'LoadBalancerArn',
      );
      return checked(lb?.DNSName, arn);
    }
    if (!name)
      throw new Error(
        'neither a name nor an ARN to ask the ELB APIs for the load balancer\'s DNS name; set "name" or "arn"',
      );
    const classicCall = `DescribeLoadBalancers (Classic, ${name})`;
    const v2Call = `DescribeLoadBalancers (${name})`;
    const [classic, v2] = await Promise.all([
      clients.elb
        .send(new DescribeClassic({ LoadBalancerNames: [name] }))
        .then(
          (out) =>
            theOneAsked(
              apiList(out.LoadBalancerDescriptions, classicCall, 'LoadBalancerDescriptions'),
              (d) => d.LoadBalancerName,
              name,
              classicCall,
              'LoadBalancerName',
            ).map((d) => d.DNSName),
          notFoundIsNone(classicCall),
        ),
      clients.elbv2
        .send(new DescribeV2({ Names: [name] }))
        .then(
          (out) =>
            theOneAsked(
              apiList(out.LoadBalancers, v2Call, 'LoadBalancers'),
              (d) => d.LoadBalancerName,
              name,
              v2Call,
              'LoadBalancerName',
            ).map((d) => d.DNSName),
          notFoundIsNone(v2Call),
        ),
    ]);
    const found = [...classic, ...v2];
    if (found.length === 0)
      throw new Error(`no Classic, application or network load balancer is named "${name}" in this region and account`);
    if (classic.length > 0 && v2.length > 0)
      throw new Error(`both a Classic ELB and an ALB/NLB are named "${name}"; set "arn" to pick the ALB/NLB`);
    return checked(found[0], name);
  };
}

/** `LoadBalancerNotFound` is an answer (none of that kind), anything else a failure. */
function notFoundIsNone(call: string): (err: unknown) => (string | undefined)[] {
  return (err) => {
    if (
      (err as { name?: string }).name === 'LoadBalancerNotFoundException' ||
      (err as { name?: string }).name === 'AccessPointNotFoundException'
    )
      return [];
    throw new Error(`${call}: ${describeError(err)}`);
  };
}

function rethrow(call: string): (err: unknown) => never {
  return (err) => {
    throw new Error(`${call}: ${describeError(err)}`);
  };
}

/**
 * The answer's DNS name, only when it is a load balancer's own (an API answer is input too; [C]/[V]: DNSName, "the DNS
 * name of the load balancer").
 */
function checked(dnsName: unknown, asked: string): string {
  const parsed = typeof dnsName === 'string' && dnsName !== '' ? parseLoadBalancerDnsName(dnsName) : null;
  if (!parsed?.name)
    throw new Error(
      `DescribeLoadBalancers (${asked}): the answer's DNSName ${quoted(dnsName, 80)} is not a load balancer DNS name`,
    );
  return parsed.dnsName;
}

/**
 * A lookup that remembers what it found: a load balancer's DNS name never changes
 * while it exists, so the APIs are asked once per process (per warm Lambda), not
 * every cycle. Failures are not remembered: the next cycle asks again.
 */
export function rememberingOwnNames(lookup: OwnNameLookup): OwnNameLookup {
  const known = new Map<string, Promise<string>>();
  return (query) => {
    const key = `${query.arn ?? ''}|${query.name ?? ''}`;
    let found = known.get(key);
    if (!found) {
      found = lookup(query);
      known.set(key, found);
      found.catch(() => known.delete(key));
    }
    return found;
  };
}
