// Serverless variable source: one IAM role per function, each with only the calls
// that function makes (least privilege). `report` is read-only on the table;
// discovery permissions exist only when the configuration turns discovery on,
// and sts:AssumeRole only for the roles it names.
const { config } = require('./config.cjs');
const { vpc } = require('./vpc.cjs');
const tsx = require('tsx/cjs/api');

const TABLE = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
const TOPIC = { Ref: 'AlertTopic' };
const SEAL_KEY = { 'Fn::GetAtt': ['SealKey', 'Arn'] };
const sub = (text) => ({ 'Fn::Sub': text });

module.exports.resources = async ({ resolveVariable }) => {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const c = config();
  const inVpc = (await vpc({ resolveVariable })) !== null;
  const topic = c.alerts.snsTopicArn ?? TOPIC;
  const roles = [
    ...new Set([
      ...(c.discovery?.accounts ?? []).map((a) => a.roleArn),
      ...c.loadBalancers.flatMap((lb) => (lb.roleArn ? [lb.roleArn] : [])),
    ]),
  ];

  // Each function writes its own log group only (the framework creates the groups).
  const logs = (fn) => [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream'],
      Resource: [
        sub(
          `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${stage}-${fn}:*`,
        ),
      ],
    },
    {
      Effect: 'Allow',
      Action: ['logs:PutLogEvents'],
      Resource: [
        sub(
          `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${stage}-${fn}:*:*`,
        ),
      ],
    },
  ];
  // EC2 Describe calls support no resource-level permissions: '*' is the only resource they take.
  const enis = { Effect: 'Allow', Action: ['ec2:DescribeNetworkInterfaces'], Resource: '*' };
  const discovery = c.discovery
    ? [
        {
          Effect: 'Allow',
          Action: [
            'elasticloadbalancing:DescribeLoadBalancers',
            'elasticloadbalancing:DescribeTags',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'ec2:DescribeInstances',
          ],
          Resource: '*',
        },
      ]
    : [];
  // A load balancer configured by an alias name: its own DNS name comes from DescribeLoadBalancers
  // (Describe calls take no resource-level permission either). Discovery's statement has it already.
  const { needsOwnNames } = tsx.require('../shared/config/identity.ts', __filename);
  const ownNames =
    !c.discovery && needsOwnNames(c.loadBalancers)
      ? [{ Effect: 'Allow', Action: ['elasticloadbalancing:DescribeLoadBalancers'], Resource: '*' }]
      : [];
  // A possibly-Classic load balancer with TLS backends: its back-end authentication policies, each TLS round.
  const { needsBackendAuth } = tsx.require('../shared/cycle/tls-round.ts', __filename);
  const backendAuth = needsBackendAuth(c)
    ? [
        {
          Effect: 'Allow',
          Action: ['elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerPolicies'],
          Resource: '*',
        },
      ]
    : [];
  // AWS's own capacity signals beside the nodes. Neither call takes a resource-level permission
  // (CloudWatch GetMetricData and elbv2 Describe* authorize on '*' only), so '*' is their only resource.
  const capacity = [
    ...(c.capacity.cloudwatch.enabled
      ? [{ Effect: 'Allow', Action: ['cloudwatch:GetMetricData'], Resource: '*' }]
      : []),
    // capacity.mode "alarms": the alarms elbscope keeps, only those named elbscope-* (any region and account the
    // function's own role reaches; another account's role needs the same statement there: docs/deploy.md).
    ...(c.capacity.cloudwatch.enabled && c.capacity.mode === 'alarms'
      ? [
          {
            Effect: 'Allow',
            Action: [
              'cloudwatch:DescribeAlarms',
              'cloudwatch:PutMetricAlarm',
              'cloudwatch:DeleteAlarms',
              'cloudwatch:TagResource',
            ],
            Resource: sub('arn:${AWS::Partition}:cloudwatch:*:*:alarm:elbscope-*'),
          },
        ]
      : []),
    ...(c.capacity.reservationEveryMinutes > 0
      ? [{ Effect: 'Allow', Action: ['elasticloadbalancing:DescribeCapacityReservation'], Resource: '*' }]
      : []),
  ];
  const assume = roles.length > 0 ? [{ Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: roles }] : [];
  const tableWrite = {
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
    Resource: TABLE,
  };
  const tableRead = { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: TABLE };
  const publish = [
    { Effect: 'Allow', Action: ['sns:Publish'], Resource: topic },
    // The topic's KMS key, through SNS only (any key: a topic of your own may have its own).
    {
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': sub('sns.${AWS::Region}.amazonaws.com') } },
    },
  ];
  // The audit's seal key (serverless.yml SealKey): a function that records seals and checks; the report only checks.
  // DescribeKey: the key's creation date, from when every record carries a seal (one later without is stripped or
  // forged).
  const seal = { Effect: 'Allow', Action: ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'], Resource: SEAL_KEY };
  const checkSeals = { Effect: 'Allow', Action: ['kms:VerifyMac', 'kms:DescribeKey'], Resource: SEAL_KEY };
  // The on-failure destination of the scheduled functions.
  const failures = {
    Effect: 'Allow',
    Action: ['sqs:SendMessage'],
    Resource: { 'Fn::GetAtt': ['FailedInvocations', 'Arn'] },
  };
  const work = { 'Fn::GetAtt': ['WorkQueue', 'Arn'] };

  const role = (fn, statements) => ({
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      },
      ...(inVpc
        ? {
            ManagedPolicyArns: [
              sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole'),
            ],
          }
        : {}),
      Policies: [
        {
          PolicyName: `${service}-${stage}-${fn}`,
          PolicyDocument: { Version: '2012-10-17', Statement: [...logs(fn), ...statements] },
        },
      ],
    },
  });
  return {
    ObserveRole: role('observe', [
      enis,
      ...capacity,
      ...discovery,
      ...ownNames,
      ...assume,
      tableWrite,
      seal,
      ...publish,
      failures,
    ]),
    TlsProbeRole: role('tls-probe', [
      ...backendAuth,
      ...(backendAuth.length > 0 ? assume : []),
      tableWrite,
      seal,
      ...publish,
      failures,
    ]),
    DispatchRole: role('dispatch', [
      ...discovery,
      ...assume,
      { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: work },
      failures,
    ]),
    // The worker reads its queue (the SQS event source polls with the function's role).
    WorkerRole: role('worker', [
      enis,
      ...capacity,
      ...discovery,
      ...ownNames,
      ...assume,
      tableWrite,
      seal,
      ...publish,
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        Resource: work,
      },
    ]),
    // Invoked by a person for a report: reads the table, nothing else.
    ReportRole: role('report', [tableRead, checkSeals]),
  };
};
