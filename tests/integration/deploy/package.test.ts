import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { startSqsEndpoint, type QueuedMessage } from '../../../lab/sqs/server';
import { cloudWatchState, startCloudWatch } from '../../../lab/cloudwatch/server';
import { startStsEndpoint, type AssumeRoleCall } from '../../../lab/sts/server';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../../lab/kms/server';
import { METRIC } from '../../../shared/cycle/metrics';
import { startDynalite } from '../../helpers/dynalite';
import { childEnv } from '../../helpers/env';
import { cfnLintFindings } from '../../helpers/cfn-lint';

// The framework's own `serverless package` output (osls + serverless-esbuild),
// with dummy credentials and no AWS account.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const serverless = join(root, 'node_modules/osls/bin/serverless.js');
const run = promisify(execFile);

/** Every directory a test packaged successfully: cfn-lint reads each one's templates (the last test). */
const packaged: string[] = [];

function packageTo(dir: string, extraEnv: Record<string, string> = {}, params: string[] = []) {
  return runPackage(dir, extraEnv, params).then((r) => {
    packaged.push(dir);
    return r;
  });
}

function runPackage(dir: string, extraEnv: Record<string, string>, params: string[]) {
  return run(
    process.execPath,
    [serverless, 'package', '--package', dir, '--stage', 'test', ...params.map((p) => `--param=${p}`)],
    {
      cwd: root,
      env: childEnv({ SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', ...extraEnv }),
      timeout: 240_000,
    },
  );
}

type Template = {
  Resources: Record<
    string,
    { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
  >;
};
let template: Template;
let packageDir: string;

beforeAll(async () => {
  packageDir = mkdtempSync(join(tmpdir(), 'elbscope-package-'));
  await packageTo(packageDir);
  template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 240_000);

/**
 * Unzip a packaged function into a directory of its own (no node_modules in reach)
 * and invoke its handler once in a fresh node process with a scheduled event.
 */
async function runBundle(
  name: string,
  env: Record<string, string>,
): Promise<{ result: any; logs: Record<string, any>[] }> {
  const dir = mkdtempSync(join(tmpdir(), `elbscope-bundle-${name}-`));
  await run('unzip', ['-q', join(packageDir, `${name}.zip`), '-d', dir]);
  const invoke = `require('./functions/${name}/handler.js').handler({ time: '2026-11-25T10:00:00Z' }, { awsRequestId: 'r', functionName: '${name}', getRemainingTimeInMillis: () => 50000 }).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'))`;
  const { stdout } = await run(process.execPath, ['-e', invoke], { cwd: dir, env: childEnv(env), timeout: 60_000 });
  const lines = stdout.split('\n');
  return {
    result: JSON.parse(lines.find((l) => l.startsWith('RESULT '))?.slice(7) ?? 'null'),
    logs: lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)),
  };
}

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

describe('serverless package', () => {
  it('defines the observe function on nodejs22.x with the config in its environment', () => {
    const [[, fn] = []] = ofType('AWS::Lambda::Function').filter(([id]) => id === 'ObserveLambdaFunction');
    expect(fn?.Properties.Runtime).toBe('nodejs22.x');
    expect(fn?.Properties.Handler).toBe('functions/observe/handler.handler');
    const config = JSON.parse(fn?.Properties.Environment.Variables.ELBSCOPE_CONFIG);
    expect(config.loadBalancers[0].dnsName).toBe('test-738445577.us-east-1.elb.amazonaws.com');
  });

  it('schedules observe every minute and tls-probe every hour by default', () => {
    const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules).toContainEqual(expect.objectContaining({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' }));
    expect(rules).toContainEqual(expect.objectContaining({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' }));
    const [[, tlsFn] = []] = ofType('AWS::Lambda::Function').filter(([id]) => id === 'TlsDashprobeLambdaFunction');
    expect(tlsFn?.Properties.Handler).toBe('functions/tls-probe/handler.handler');
    expect(tlsFn?.Properties.VpcConfig).toBeUndefined();
  });

  // The bound says the SDK is tree-shaken (whole clients would make each zip several MB), not a size budget: import
  // time is bench 4's to measure. Alarms and chat cards took observe and worker from 240 to 251 KB.
  it('packages each function on its own, with its tree-shaken AWS SDK, under 300 KB', () => {
    for (const name of ['observe', 'tls-probe', 'report', 'dispatch', 'worker']) {
      const size = statSync(join(packageDir, `${name}.zip`)).size;
      expect(size).toBeGreaterThan(10_000);
      expect(size).toBeLessThan(300_000);
    }
  });

  it('runs the packaged observe bundle alone (no node_modules): one cycle through its bundled SDK to loopback EC2 (with an assumed role), DynamoDB and SNS', async () => {
    const lab = new LabElb({ name: 'pkg', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 1 } });
    const sns: SnsState = { messages: [], failNext: [] };
    const assumed: AssumeRoleCall[] = [];
    const started = await lab.start();
    const dynamo = await startDynalite();
    const topic = await startSnsEndpoint(sns);
    const sts = await startStsEndpoint(assumed);
    // CloudWatch says the lab's load balancer dropped 17 requests a minute ago.
    const cloudwatch = cloudWatchState((q) =>
      q.metricName === 'SpilloverCount' && q.dimensions.LoadBalancerName === 'pkg' ? [[q.end - 60_000, 17]] : [],
    );
    const cw = await startCloudWatch(cloudwatch);
    // The stack's seal key (SealKey: HMAC_256, GENERATE_VERIFY_MAC), held by the lab's KMS.
    const sealKey = labHmacKey();
    const kms: KmsState = { keys: [sealKey], calls: [], failNext: [] };
    const kmsEndpoint = await startKmsEndpoint(kms);
    try {
      const roleArn = 'arn:aws:iam::210987654321:role/elbscope-reader';
      const config = {
        loadBalancers: [{ dnsName: lab.dnsName, roleArn }, { dnsName: 'gone-1.us-east-1.elb.amazonaws.com' }],
        dns: { servers: [started.dnsServer], timeoutMs: 300, tries: 1, allowLoopbackNodes: true },
        detect: { confirm: { m: 1, n: 1 } },
      };
      const { result, logs } = await runBundle('observe', {
        ELBSCOPE_CONFIG: JSON.stringify(config),
        ELBSCOPE_TABLE: dynamo.table,
        ELBSCOPE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:elbscope-test',
        AWS_ENDPOINT_URL_EC2: started.ec2Url,
        AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
        AWS_ENDPOINT_URL_SNS: topic.url,
        AWS_ENDPOINT_URL_STS: sts.url,
        AWS_ENDPOINT_URL_CLOUDWATCH: cw.url,
        ELBSCOPE_SEAL_KEY: sealKey.arn,
        AWS_ENDPOINT_URL_KMS: kmsEndpoint.url,
      });
      expect(result).toMatchObject({ observed: 2, unresolved: ['gone-1.us-east-1.elb.amazonaws.com'], errors: 1 });
      // The ENIs came back through the bundled EC2 deserializer: every node placed in its AZ.
      const observation = logs.find((r) => r.message === 'observation' && r.observation?.loadBalancer === lab.dnsName);
      expect(observation?.observation.azs).toEqual({
        'us-east-1a': { provisioned: 2, advertised: 2 },
        'us-east-1b': { provisioned: 1, advertised: 1 },
      });
      expect(sns.messages.map((m) => m.subject).sort()).toEqual([
        expect.stringContaining('gone dns observation failing'),
        expect.stringMatching(
          /^elbscope: pkg: 17 requests dropped \(SpilloverCount\) in \d\d:\d\d-\d\d:\d\d UTC: the surge queue is full$/,
        ),
      ]);
      // The bundled CloudWatch client, within GetMetricData's contract, signed with the assumed role's key.
      expect(cloudwatch.refused).toEqual([]);
      expect(cloudwatch.signedBy).toEqual(['ASIA210987654321']);
      // Cross-account through the bundled STS client: one EC2 call signed with the assumed
      // role's key (the lab's load balancer), one with the function's own ('gone', no role).
      expect(assumed.map((c) => c.roleArn)).toEqual([roleArn]);
      expect(lab.ec2.requests.map((r) => r.signedBy).sort()).toEqual(['ASIA210987654321', 'test']);
      // The records are sealed through the bundled KMS client, within GenerateMac's contract.
      expect(kms.calls.filter((c) => c.operation === 'GenerateMac' && c.error === null).length).toBeGreaterThanOrEqual(
        2,
      );
      expect(kms.calls.filter((c) => c.error !== null)).toEqual([]);
    } finally {
      await Promise.all([lab.stop(), dynamo.stop(), topic.close(), sts.close(), cw.close(), kmsEndpoint.close()]);
    }
  }, 120_000);

  it('runs the packaged dispatch bundle alone: its bundled SQS client puts the batches on a loopback queue', async () => {
    const queued: QueuedMessage[] = [];
    const endpoint = await startSqsEndpoint(queued);
    try {
      const queueUrl = `${endpoint.url}/123456789012/elbscope-work`;
      const config = {
        loadBalancers: ['pa', 'pb', 'pc'].map((n) => ({ dnsName: `${n}-1.us-east-1.elb.amazonaws.com` })),
        fanout: { enabled: true, batchSize: 2 },
      };
      const { result } = await runBundle('dispatch', {
        ELBSCOPE_CONFIG: JSON.stringify(config),
        ELBSCOPE_QUEUE_URL: queueUrl,
        AWS_ENDPOINT_URL_SQS: endpoint.url,
      });
      expect(result).toEqual({ cycle: '2026-11-25T10:00:00.000Z', messages: 2 });
      expect(queued.map((m) => JSON.parse(m.body).loadBalancers)).toEqual([['pa', 'pb'], ['pc']]);
    } finally {
      await endpoint.close();
    }
  }, 120_000);

  it('attaches the functions to a VPC when subnetIds and securityGroupIds are given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-vpc-'));
    await packageTo(dir, {}, [
      'subnetIds=subnet-0123456789abcdef0,subnet-0123456789abcdef1',
      'securityGroupIds=sg-0123456789abcdef0',
    ]);
    const t: Template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
    expect(t.Resources.ObserveLambdaFunction?.Properties.VpcConfig).toEqual({
      SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      SecurityGroupIds: ['sg-0123456789abcdef0'],
    });
  }, 240_000);

  it('gives each function its own IAM role with only what it calls: no "*" action, report read-only, no discovery or cross-account grants unless configured', () => {
    const statementsOf = (role: string): any[] =>
      (template.Resources[role]?.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement);
    const actionsOf = (role: string): string[] =>
      statementsOf(role)
        .flatMap((s: any) => [s.Action].flat())
        .filter((a: string) => !a.startsWith('logs:'))
        .sort();
    const fns = {
      ObserveLambdaFunction: 'ObserveRole',
      TlsDashprobeLambdaFunction: 'TlsProbeRole',
      DispatchLambdaFunction: 'DispatchRole',
      WorkerLambdaFunction: 'WorkerRole',
      ReportLambdaFunction: 'ReportRole',
    };
    for (const [fn, role] of Object.entries(fns))
      expect(template.Resources[fn]?.Properties.Role).toEqual({ 'Fn::GetAtt': [role, 'Arn'] });
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined(); // no shared role
    for (const role of Object.values(fns))
      for (const a of statementsOf(role).flatMap((s: any) => [s.Action].flat())) expect(a).not.toMatch(/\*/);

    const write = [
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ];
    const publish = ['kms:Decrypt', 'kms:GenerateDataKey', 'sns:Publish'];
    const seal = ['kms:DescribeKey', 'kms:GenerateMac', 'kms:VerifyMac'];
    expect(actionsOf('ReportRole')).toEqual(['dynamodb:GetItem', 'dynamodb:Query', 'kms:DescribeKey', 'kms:VerifyMac']);
    expect(actionsOf('ObserveRole')).toEqual(
      [
        'ec2:DescribeNetworkInterfaces',
        'cloudwatch:GetMetricData',
        'cloudwatch:DeleteAlarms',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:TagResource',
        'elasticloadbalancing:DescribeCapacityReservation',
        ...write,
        ...seal,
        ...publish,
        'sqs:SendMessage',
      ].sort(),
    );
    expect(actionsOf('TlsProbeRole')).toEqual([...write, ...seal, ...publish, 'sqs:SendMessage'].sort());
    expect(actionsOf('DispatchRole')).toEqual(['sqs:SendMessage', 'sqs:SendMessage']);
    expect(actionsOf('WorkerRole')).toEqual(
      [
        'ec2:DescribeNetworkInterfaces',
        'cloudwatch:GetMetricData',
        'cloudwatch:DeleteAlarms',
        'cloudwatch:DescribeAlarms',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:TagResource',
        'elasticloadbalancing:DescribeCapacityReservation',
        ...write,
        ...seal,
        ...publish,
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ].sort(),
    );
    // Each function writes its own log group only.
    expect(
      statementsOf('ReportRole').find((s: any) => [s.Action].flat().includes('logs:PutLogEvents'))?.Resource[0][
        'Fn::Sub'
      ],
    ).toMatch(/log-group:\/aws\/lambda\/elbscope-test-report:\*:\*$/);
    const all = Object.values(fns).flatMap(statementsOf);
    const resourceOf = (prefix: string) =>
      all.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith(prefix))).map((s: any) => s.Resource);
    for (const r of resourceOf('dynamodb:')) expect(r).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
    for (const r of resourceOf('sns:')) expect(r).toEqual({ Ref: 'AlertTopic' });
    // The capacity alarms: only this stage's (elbscope-<stage>-*), in any region and account the role reaches.
    for (const r of all
      .filter((s: any) =>
        [s.Action]
          .flat()
          .some((a: string) => a.endsWith('Alarms') || a.endsWith('Alarm') || a === 'cloudwatch:TagResource'),
      )
      .map((s: any) => s.Resource))
      expect(r).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:cloudwatch:*:*:alarm:elbscope-test-*' });
    // The seal key's MAC calls, on the stack's SealKey alone.
    for (const r of all
      .filter((s: any) => [s.Action].flat().some((a: string) => a.endsWith('Mac')))
      .map((s: any) => s.Resource))
      expect(r).toEqual({ 'Fn::GetAtt': ['SealKey', 'Arn'] });
    for (const r of resourceOf('sqs:'))
      expect([{ 'Fn::GetAtt': ['FailedInvocations', 'Arn'] }, { 'Fn::GetAtt': ['WorkQueue', 'Arn'] }]).toContainEqual(
        r,
      );
    // Runaways are bounded: one copy of each scheduled function, two reports; workers by their event source (below).
    expect(
      Object.fromEntries(
        Object.keys(fns).map((fn) => [fn, template.Resources[fn]?.Properties.ReservedConcurrentExecutions]),
      ),
    ).toEqual({
      ObserveLambdaFunction: 1,
      TlsDashprobeLambdaFunction: 1,
      DispatchLambdaFunction: 1,
      WorkerLambdaFunction: undefined,
      ReportLambdaFunction: 2,
    });
  });

  it('grants discovery and cross-account calls only when the configuration asks for them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-iam-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        loadBalancers: [
          {
            dnsName: 'test-738445577.us-east-1.elb.amazonaws.com',
            roleArn: 'arn:aws:iam::210987654321:role/elbscope-reader',
          },
        ],
        discovery: { regions: ['us-east-1'], tags: { elbscope: 'watch' } },
      }),
    );
    await packageTo(join(dir, 'out'), { ELBSCOPE_CONFIG_FILE: file }, ['reservedConcurrency=off']);
    const t: Template = JSON.parse(readFileSync(join(dir, 'out', 'cloudformation-template-update-stack.json'), 'utf8'));
    const actions = (role: string): string[] =>
      (t.Resources[role]?.Properties.Policies ?? [])
        .flatMap((p: any) => p.PolicyDocument.Statement)
        .flatMap((s: any) => [s.Action].flat());
    expect(actions('ObserveRole')).toEqual(
      expect.arrayContaining(['elasticloadbalancing:DescribeLoadBalancers', 'ec2:DescribeInstances', 'sts:AssumeRole']),
    );
    expect(actions('ReportRole').filter((a) => !a.startsWith('logs:'))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'kms:VerifyMac',
      'kms:DescribeKey',
    ]);
    const assume = (t.Resources.ObserveRole?.Properties.Policies ?? [])
      .flatMap((p: any) => p.PolicyDocument.Statement)
      .find((s: any) => [s.Action].flat().includes('sts:AssumeRole'));
    expect(assume.Resource).toEqual(['arn:aws:iam::210987654321:role/elbscope-reader']);
    expect(
      Object.values(t.Resources)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => r.Properties.ReservedConcurrentExecutions),
    ).toEqual([undefined, undefined, undefined, undefined, undefined]);
  }, 240_000);

  it('defines the table (on demand, TTL on observations, point-in-time recovery) and a KMS-encrypted topic', () => {
    const table = template.Resources.StateTable?.Properties;
    expect(template.Resources.StateTable).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' }); // the audit trail outlives the stack
    expect(table?.DeletionProtectionEnabled).toBe(true);
    expect(table).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(template.Resources.AlertTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertTopicKey' });
    const fn = template.Resources.ObserveLambdaFunction?.Properties;
    expect(fn?.Environment.Variables).toMatchObject({
      ELBSCOPE_TABLE: { Ref: 'StateTable' },
      ELBSCOPE_TOPIC_ARN: { Ref: 'AlertTopic' },
      ELBSCOPE_SEAL_KEY: { 'Fn::GetAtt': ['SealKey', 'Arn'] },
    });
    // The audit's seal key: an HMAC key, kept with the table it seals.
    expect(template.Resources.SealKey).toMatchObject({
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
    });
  });

  it('sends failed scheduled runs to a queue, and defines the dashboard', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, r]) => r.Properties);
    expect(configs).toHaveLength(3); // observe, tls-probe, dispatch
    for (const c of configs) {
      expect(c.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': ['FailedInvocations', 'Arn'] });
      // A late scheduled run is dropped, not replayed up to 6 hours later (Lambda's default), and retried once.
      expect(c).toMatchObject({ MaximumEventAgeInSeconds: 120, MaximumRetryAttempts: 1 });
    }
    const body = JSON.parse(template.Resources.Dashboard?.Properties.DashboardBody);
    expect(body.widgets.map((w: any) => w.properties.title)).toEqual([
      'Nodes per AZ (provisioned: ENIs)',
      'Nodes per AZ (advertised in DNS)',
      'Pre-opened connections (R) per backend',
      'elbscope itself: observation failures by source',
      'elbscope itself: completed cycles',
      'elbscope itself: alerts undeliverable',
    ]);
    expect(body.widgets[0].properties.metrics[0][0].expression).toContain('MetricName="NodesProvisioned"');
  });

  it('monitors the monitor: alarms on its own metrics (the names the code emits), the queues and the functions, routed to the alert topic', () => {
    const alarms: Record<string, Record<string, any>> = Object.fromEntries(
      ofType('AWS::CloudWatch::Alarm').map(([, r]) => [r.Properties.AlarmName, r.Properties]),
    );
    const names = Object.keys(alarms).sort();
    expect(names).toEqual(
      [
        'elbscope-test-alerts-undeliverable',
        ...['dispatch', 'observe', 'report', 'tls-probe', 'worker'].flatMap((f) => [
          `elbscope-test-${f}-errors`,
          `elbscope-test-${f}-near-timeout`,
        ]),
        'elbscope-test-failed-invocations',
        'elbscope-test-heartbeat',
        ...['dispatch', 'observe', 'report', 'tls-probe', 'worker'].map((f) => `elbscope-test-${f}-throttles`),
        'elbscope-test-observation-failed-cloudwatch',
        'elbscope-test-observation-failed-reservation',
        'elbscope-test-work-queue-age',
        'elbscope-test-observation-failed-dns',
        'elbscope-test-observation-failed-eni',
        'elbscope-test-observation-failed-statuspage',
        'elbscope-test-observation-failed-tls',
        'elbscope-test-work-dead-letters',
      ].sort(),
    );
    for (const a of Object.values(alarms))
      expect([a.AlarmActions, a.OKActions]).toEqual([[{ Ref: 'AlertTopic' }], [{ Ref: 'AlertTopic' }]]);
    const service = { Name: 'service', Value: 'elbscope' };
    // Heartbeat: no completed cycle in 3 one-minute periods, missing data breaching.
    expect(alarms['elbscope-test-heartbeat']).toMatchObject({
      Namespace: 'elbscope',
      MetricName: METRIC.cycleCompleted,
      Dimensions: [service],
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(alarms['elbscope-test-observation-failed-eni']).toMatchObject({
      MetricName: METRIC.observationFailed,
      Dimensions: [service, { Name: 'Source', Value: 'ENI' }],
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
    expect(alarms['elbscope-test-observation-failed-tls']).toMatchObject({ Period: 3600 }); // the TLS round runs hourly
    expect(alarms['elbscope-test-alerts-undeliverable']).toMatchObject({
      MetricName: METRIC.alertsUndeliverable,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarms['elbscope-test-failed-invocations']).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['FailedInvocations', 'QueueName'] } }],
    });
    expect(alarms['elbscope-test-work-dead-letters']?.Dimensions[0].Value).toEqual({
      'Fn::GetAtt': ['WorkDeadLetters', 'QueueName'],
    });
    expect(alarms['elbscope-test-work-queue-age']).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['WorkQueue', 'QueueName'] } }],
    });
    expect(alarms['elbscope-test-worker-throttles']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }],
    });
    expect(alarms['elbscope-test-observation-failed-cloudwatch']).toMatchObject({
      MetricName: METRIC.observationFailed,
      Dimensions: [service, { Name: 'Source', Value: 'CloudWatch' }],
    });
    expect(alarms['elbscope-test-observe-near-timeout']).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: 40_000,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ObserveLambdaFunction' } }],
    });
    expect(alarms['elbscope-test-dispatch-near-timeout']?.Threshold).toBe(24_000); // its own 30 s timeout
    expect(alarms['elbscope-test-tls-probe-errors']?.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: 'TlsDashprobeLambdaFunction' } },
    ]);
    // Every alarm's metric is one the code names (shared/cycle/metrics.ts) or AWS's own.
    const ours = new Set<string>(Object.values(METRIC));
    for (const a of Object.values(alarms)) if (a.Namespace === 'elbscope') expect(ours).toContain(a.MetricName);
    // CloudWatch can publish to the topic: a key of the stack's own that lets it, and a topic policy for its alarms.
    const key = template.Resources.AlertTopicKey?.Properties;
    expect(key?.EnableKeyRotation).toBe(true);
    expect(key?.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    expect(template.Resources.AlertTopicPolicy?.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: 'AlertTopic' },
      }),
    ]);
  });

  it('runs the single scheduled function by default, and the dispatcher and workers when the config turns fan-out on', async () => {
    const schedules = (t: Template) =>
      Object.fromEntries(
        Object.entries(t.Resources)
          .filter(([, r]) => r.Type === 'AWS::Events::Rule')
          .map(([id, r]) => [id, r.Properties.State]),
      );
    expect(schedules(template)).toMatchObject({
      ObserveEventsRuleSchedule1: 'ENABLED',
      DispatchEventsRuleSchedule1: 'DISABLED',
    });
    const mapping = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
    )?.Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // The documented cap of an SQS event source's concurrency (not reserved concurrency, which it does not see).
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    // AWS: a visibility timeout at least 6 × the function's timeout; retention that outlives a day's worker outage.
    const queue = template.Resources.WorkQueue?.Properties;
    const workerTimeout = template.Resources.WorkerLambdaFunction?.Properties.Timeout;
    expect(queue?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * workerTimeout);
    expect(queue?.MessageRetentionPeriod).toBeGreaterThanOrEqual(86_400);
    expect(template.Resources.WorkQueue?.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['WorkDeadLetters', 'Arn'] },
      maxReceiveCount: 3,
    });

    const dir = mkdtempSync(join(tmpdir(), 'elbscope-fanout-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        loadBalancers: [{ dnsName: 'test-738445577.us-east-1.elb.amazonaws.com' }],
        fanout: { enabled: true },
      }),
    );
    await packageTo(join(dir, 'out'), { ELBSCOPE_CONFIG_FILE: file });
    const fanout: Template = JSON.parse(
      readFileSync(join(dir, 'out', 'cloudformation-template-update-stack.json'), 'utf8'),
    );
    expect(schedules(fanout)).toMatchObject({
      ObserveEventsRuleSchedule1: 'DISABLED',
      DispatchEventsRuleSchedule1: 'ENABLED',
    });
  }, 240_000);

  it('refuses to package a bad configuration, naming the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-badconfig-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ loadBalancers: [{ dnsName: 'not..valid' }] }));
    const failed = await packageTo(join(dir, 'out'), { ELBSCOPE_CONFIG_FILE: file }).then(
      () => null,
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(failed).not.toBeNull();
    expect(`${failed?.stdout}${failed?.stderr}`).toContain(`loadBalancers[0].dnsName: not a valid DNS name`);
  }, 240_000);

  // Last: every template the tests above packaged (default, VPC, IAM, fan-out).
  it("passes cfn-lint (AWS's CloudFormation linter): no error, every warning fixed or justified (tests/helpers/cfn-lint.ts)", async () => {
    expect(packaged.length).toBeGreaterThanOrEqual(4);
    expect(await cfnLintFindings(packaged)).toEqual([]);
  }, 240_000);
});
