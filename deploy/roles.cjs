// Serverless variable source: one IAM role per function, each with only the calls
// that function makes (least privilege). The statements themselves come from
// shared/deploy/role-policies.ts, which `elbscope doctor` simulates too (one source:
// what is deployed and what is checked cannot drift); here they get the stack's
// resources (intrinsics) and are wrapped in roles.
const { vpc } = require('./vpc.cjs');
const { config } = require('./config.cjs');
const tsx = require('tsx/cjs/api');

const sub = (text) => ({ 'Fn::Sub': text });

module.exports.resources = async ({ resolveVariable }) => {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const inVpc = (await vpc({ resolveVariable })) !== null;
  const { functionStatements } = tsx.require('../shared/deploy/role-policies.ts', __filename);
  // Each function writes its own log group only (the framework creates the groups).
  const group = (fn) =>
    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${service}-${stage}-${fn}`;
  const statements = functionStatements(config(), {
    table: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
    topic: { Ref: 'AlertTopic' },
    // This stage's alarms only: a dev stage's role cannot put or delete prod's (their names start elbscope-<stage>-).
    alarms: sub(`arn:\${AWS::Partition}:cloudwatch:*:*:alarm:elbscope-${stage}-*`),
    sealKey: { 'Fn::GetAtt': ['SealKey', 'Arn'] },
    keyById: (id) => sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${id}`),
    failures: { 'Fn::GetAtt': ['FailedInvocations', 'Arn'] },
    work: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
    logStreams: (fn) => ({ streams: sub(`${group(fn)}:*`), events: sub(`${group(fn)}:*:*`) }),
    snsService: sub('sns.${AWS::Region}.amazonaws.com'),
  });

  const role = (fn) => ({
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
          PolicyDocument: { Version: '2012-10-17', Statement: statements[fn] },
        },
      ],
    },
  });
  // The logical ids `elbscope doctor` recognises a deployed role's function by (shared/doctor/roles.ts).
  return {
    ObserveRole: role('observe'),
    TlsProbeRole: role('tls-probe'),
    DispatchRole: role('dispatch'),
    WorkerRole: role('worker'),
    // Invoked by a person for a report: reads the table, nothing else.
    ReportRole: role('report'),
  };
};
