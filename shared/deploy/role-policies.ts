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
  /** The capacity alarms this stage keeps (`…:cloudwatch:*:*:alarm:elbscope-<stage>-*`). */
  alarms: PolicyResource;
  /** The stack's own seal key (used when the configuration names none). */
  sealKey: PolicyResource;
  /** A KMS key named by its bare id in the configuration, as an ARN in the stack's account and region. */
  keyById: (id: string) => PolicyResource;
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
    // capacity.mode "alarms": the alarms elbscope keeps, only those named elbscope-* (any region and account the
    // function's own role reaches; another account's role needs the same statement there: docs/deploy.md).
    ...(c.capacity.cloudwatch.enabled && c.capacity.mode === 'alarms'
      ? [
          allow(
            [
              'cloudwatch:DescribeAlarms',
              'cloudwatch:PutMetricAlarm',
              'cloudwatch:DeleteAlarms',
              'cloudwatch:TagResource',
            ],
            refs.alarms,
          ),
        ]
      : []),
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
  // A key of the configuration's own (`store.sealKey`) is the one the functions use, so it is the one granted.
  const sealGrant = (actions: string[]) => sealKeyStatement(allow, actions, c.store.sealKey, refs);
  const seal = sealGrant(['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey']);
  const checkSeals = sealGrant(['kms:VerifyMac', 'kms:DescribeKey']);
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

/**
 * The statement granting `actions` on the seal key the functions will use: the configuration's
 * `store.sealKey` when it names a KMS key, else the stack's own. An alias names no key ARN before
 * the deploy: KMS authorizes a call against the key's ARN, not the alias's, so the grant is on any
 * key that carries that alias (the `kms:ResourceAliases` condition, "control access to KMS keys
 * based on the aliases that are associated with the KMS key", AWS KMS Developer Guide).
 */
function sealKeyStatement(
  allow: (Action: string[], Resource: PolicyResource | PolicyResource[]) => PolicyStatement,
  actions: string[],
  configured: string | undefined,
  refs: PolicyRefs,
): PolicyStatement {
  if (!configured) return allow(actions, refs.sealKey);
  if (/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\//.test(configured)) return allow(actions, configured);
  const alias = /^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?(alias\/[\w/-]+)$/.exec(configured)?.[1];
  if (alias)
    return { ...allow(actions, '*'), Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias } } };
  if (/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/.test(configured))
    return allow(actions, refs.keyById(configured));
  // A key file's path: the functions cannot use one (docs/ledger.md); the stack's key is what they fall back to.
  return allow(actions, refs.sealKey);
}
