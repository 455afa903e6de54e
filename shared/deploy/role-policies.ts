import type { Config } from '../config/schema';
import { needsOwnNames } from '../config/identity';
import { needsBackendAuth } from '../cycle/tls-round';

/**
 * The IAM statements of each function's role, from the configuration: one source for the
 * deploy (deploy/roles.cjs wraps them in the stack's roles) and for `elbscope doctor` (which
 * simulates them against a role that exists), so the two cannot drift. Least privilege:
 * each function gets only the calls it makes; `report` is read-only on the table; discovery
 * permissions exist only when the configuration turns discovery on, and sts:AssumeRole only
 * for the roles it names.
 */

/** A resource as a statement names it: an ARN, `*`, or a CloudFormation intrinsic (resolved at deploy). */
type PolicyResource = string | Record<string, unknown>;

export interface PolicyStatement {
  Effect: 'Allow';
  Action: string[];
  Resource: PolicyResource | PolicyResource[];
  Condition?: Record<string, unknown>;
}

/** The stack's resources the statements name (intrinsics for the deploy, ARNs or `*` for the doctor). */
export interface PolicyRefs {
  table: PolicyResource;
  /** The stack's own topic (used when the configuration names none). */
  topic: PolicyResource;
  sealKey: PolicyResource;
  /** The scheduled functions' on-failure queue, and the fan-out work queue. */
  failures: PolicyResource;
  work: PolicyResource;
  /** A function's log streams (`…:log-group:/aws/lambda/<fn>:*`) and their events (`…:*:*`). */
  logStreams: (fn: FunctionName) => { streams: PolicyResource; events: PolicyResource };
  /** The condition value `kms:ViaService` holds for SNS in the stack's region. */
  snsService: PolicyResource;
}

/** The deployed functions, as serverless.yml names them. */
export const FUNCTION_NAMES = ['observe', 'tls-probe', 'dispatch', 'worker', 'report'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Each function's statements (its log group's first). */
export function functionStatements(c: Config, refs: PolicyRefs): Record<FunctionName, PolicyStatement[]> {
  const topic = c.alerts.snsTopicArn ?? refs.topic;
  const roles = [
    ...new Set([
      ...(c.discovery?.accounts ?? []).map((a) => a.roleArn),
      ...c.loadBalancers.flatMap((lb) => (lb.roleArn ? [lb.roleArn] : [])),
    ]),
  ];
  const allow = (Action: string[], Resource: PolicyResource | PolicyResource[]): PolicyStatement => ({
    Effect: 'Allow',
    Action,
    Resource,
  });
  // Each function writes its own log group only (the framework creates the groups).
  const logs = (fn: FunctionName) => {
    const { streams, events } = refs.logStreams(fn);
    return [allow(['logs:CreateLogStream'], [streams]), allow(['logs:PutLogEvents'], [events])];
  };
  // EC2 Describe calls support no resource-level permissions: '*' is the only resource they take.
  const enis = allow(['ec2:DescribeNetworkInterfaces'], '*');
  const discovery = c.discovery
    ? [
        allow(
          [
            'elasticloadbalancing:DescribeLoadBalancers',
            'elasticloadbalancing:DescribeTags',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'ec2:DescribeInstances',
          ],
          '*',
        ),
      ]
    : [];
  // A load balancer configured by an alias name: its own DNS name comes from DescribeLoadBalancers
  // (Describe calls take no resource-level permission either). Discovery's statement has it already.
  const ownNames =
    !c.discovery && needsOwnNames(c.loadBalancers) ? [allow(['elasticloadbalancing:DescribeLoadBalancers'], '*')] : [];
  // A possibly-Classic load balancer with TLS backends: its back-end authentication policies, each TLS round.
  const backendAuth = needsBackendAuth(c)
    ? [allow(['elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerPolicies'], '*')]
    : [];
  // AWS's own capacity signals beside the nodes. Neither call takes a resource-level permission
  // (CloudWatch GetMetricData and elbv2 Describe* authorize on '*' only), so '*' is their only resource.
  const capacity = [
    ...(c.capacity.cloudwatch.enabled ? [allow(['cloudwatch:GetMetricData'], '*')] : []),
    ...(c.capacity.reservationEveryMinutes > 0
      ? [allow(['elasticloadbalancing:DescribeCapacityReservation'], '*')]
      : []),
  ];
  const assume = roles.length > 0 ? [allow(['sts:AssumeRole'], roles)] : [];
  const tableWrite = allow(
    ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
    refs.table,
  );
  const tableRead = allow(['dynamodb:GetItem', 'dynamodb:Query'], refs.table);
  const publish: PolicyStatement[] = [
    allow(['sns:Publish'], topic),
    // The topic's KMS key, through SNS only (any key: a topic of your own may have its own).
    {
      ...allow(['kms:GenerateDataKey', 'kms:Decrypt'], '*'),
      Condition: { StringEquals: { 'kms:ViaService': refs.snsService } },
    },
  ];
  // The audit's seal key (serverless.yml SealKey): a function that records seals and checks; the report only checks.
  // DescribeKey: the key's creation date, from when every record carries a seal (one later without is stripped or
  // forged).
  const seal = allow(['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'], refs.sealKey);
  const checkSeals = allow(['kms:VerifyMac', 'kms:DescribeKey'], refs.sealKey);
  // The on-failure destination of the scheduled functions.
  const failures = allow(['sqs:SendMessage'], refs.failures);
  const statements: Record<FunctionName, PolicyStatement[]> = {
    observe: [enis, ...capacity, ...discovery, ...ownNames, ...assume, tableWrite, seal, ...publish, failures],
    'tls-probe': [...backendAuth, ...(backendAuth.length > 0 ? assume : []), tableWrite, seal, ...publish, failures],
    dispatch: [...discovery, ...assume, allow(['sqs:SendMessage'], refs.work), failures],
    // The worker reads its queue (the SQS event source polls with the function's role).
    worker: [
      enis,
      ...capacity,
      ...discovery,
      ...ownNames,
      ...assume,
      tableWrite,
      seal,
      ...publish,
      allow(
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        refs.work,
      ),
    ],
    // Invoked by a person for a report: reads the table, nothing else.
    report: [tableRead, checkSeals],
  };
  return Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, [...logs(fn), ...statements[fn]]])) as Record<
    FunctionName,
    PolicyStatement[]
  >;
}
