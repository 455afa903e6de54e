import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Endpoint, type Ec2State } from '../../../lab/ec2/server';
import { iamState, startIamEndpoint } from '../../../lab/iam/server';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { LAB_CALLER, startStsEndpoint } from '../../../lab/sts/server';
import { checkPermissions } from '../../../shared/doctor/permissions';

// The stand-ins `elbscope doctor` is tested against, each held to its documented contract, through the real SDK.
const ROLE = 'arn:aws:iam::123456789012:role/elbscope-prod-ObserveRole-X';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:alerts';
const iam = iamState();
const ec2State: Ec2State = { enis: [], failNext: [], requests: [] };
const sns: SnsState = { messages: [], failNext: [], topics: new Set([TOPIC]) };
const closers: (() => Promise<void>)[] = [];
let clients: { iam: IAMClient; ec2: EC2Client; sns: SNSClient; sts: STSClient };

beforeAll(async () => {
  const [i, e, s, t] = await Promise.all([
    startIamEndpoint(iam),
    startEc2Endpoint(ec2State),
    startSnsEndpoint(sns),
    startStsEndpoint([]),
  ]);
  closers.push(i.close, e.close, s.close, t.close);
  const region = 'us-east-1';
  clients = {
    iam: new IAMClient({ region, endpoint: i.url, maxAttempts: 1 }),
    ec2: new EC2Client({ region, endpoint: e.url, maxAttempts: 1 }),
    sns: new SNSClient({ region, endpoint: s.url, maxAttempts: 1 }),
    sts: new STSClient({ region, endpoint: t.url, maxAttempts: 1 }),
  };
  iam.principals.set(ROLE, { notAllowed: new Set(['sns:Publish']), denied: new Set(['ec2:DescribeInstances']) });
});
afterAll(async () => {
  for (const c of Object.values(clients ?? {})) c.destroy();
  await Promise.all(closers.map((close) => close()));
});

/** What a call threw: its code and HTTP status. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const err = (await call.then(
    () => null,
    (e: unknown) => e,
  )) as { name: string; $metadata?: { httpStatusCode?: number } } | null;
  if (!err) throw new Error('the call succeeded');
  return { name: err.name, status: err.$metadata?.httpStatusCode };
}

const simulate = (input: Partial<ConstructorParameters<typeof SimulatePrincipalPolicyCommand>[0]>) =>
  clients.iam.send(
    new SimulatePrincipalPolicyCommand({
      PolicySourceArn: ROLE,
      ActionNames: ['ec2:DescribeNetworkInterfaces'],
      ...input,
    }),
  );

describe('Lab IAM: SimulatePrincipalPolicy', () => {
  it('evaluates each action for each resource: allowed, implicitDeny, explicitDeny', async () => {
    const answer = await simulate({
      ActionNames: ['ec2:DescribeNetworkInterfaces', 'sns:Publish', 'ec2:DescribeInstances'],
      ResourceArns: ['*', TOPIC],
    });
    expect(answer.IsTruncated).toBe(false);
    expect(answer.EvaluationResults?.map((r) => [r.EvalActionName, r.EvalResourceName, r.EvalDecision])).toEqual([
      ['ec2:DescribeNetworkInterfaces', '*', 'allowed'],
      ['ec2:DescribeNetworkInterfaces', TOPIC, 'allowed'],
      ['sns:Publish', '*', 'implicitDeny'],
      ['sns:Publish', TOPIC, 'implicitDeny'],
      ['ec2:DescribeInstances', '*', 'explicitDeny'],
      ['ec2:DescribeInstances', TOPIC, 'explicitDeny'],
    ]);
  });

  it('pages by MaxItems with the Marker it gave, and refuses one it did not give', async () => {
    const first = await simulate({ ActionNames: ['ec2:DescribeNetworkInterfaces', 'sns:Publish'], MaxItems: 1 });
    expect([first.IsTruncated, first.EvaluationResults?.length]).toEqual([true, 1]);
    const second = await simulate({
      ActionNames: ['ec2:DescribeNetworkInterfaces', 'sns:Publish'],
      MaxItems: 1,
      Marker: first.Marker,
    });
    expect([second.IsTruncated, second.Marker, second.EvaluationResults?.[0]?.EvalActionName]).toEqual([
      false,
      undefined,
      'sns:Publish',
    ]);
    expect(await refusal(simulate({ Marker: 'forged' }))).toEqual({ name: 'InvalidInputException', status: 400 });
  });

  it('refuses what the contract refuses: no action, a bad action name, MaxItems out of 1-1000, a non-principal ARN', async () => {
    const invalid = { name: 'InvalidInputException', status: 400 };
    expect(await refusal(simulate({ ActionNames: [] }))).toEqual(invalid);
    expect(await refusal(simulate({ ActionNames: ['DescribeNetworkInterfaces'] }))).toEqual(invalid);
    expect(await refusal(simulate({ MaxItems: 0 }))).toEqual(invalid);
    expect(await refusal(simulate({ MaxItems: 1001 }))).toEqual(invalid);
    expect(await refusal(simulate({ PolicySourceArn: 'arn:aws:sts::123456789012:assumed-role/r/s' }))).toEqual(invalid);
  });

  it('answers NoSuchEntity (404) for a principal that does not exist, AccessDenied (403) where simulation is refused', async () => {
    expect(await refusal(simulate({ PolicySourceArn: 'arn:aws:iam::123456789012:role/gone' }))).toEqual({
      name: 'NoSuchEntityException',
      status: 404,
    });
    iam.simulationRefused.add(ROLE);
    try {
      expect(await refusal(simulate({}))).toMatchObject({ status: 403 });
    } finally {
      iam.simulationRefused.clear();
    }
  });

  it("the doctor follows IAM's Marker when a page holds fewer results than asked", async () => {
    iam.pageLimit = 1;
    const before = iam.requests.length;
    try {
      const check = await checkPermissions(
        clients.iam,
        { arn: ROLE, label: ROLE, fn: 'observe' },
        [
          {
            Effect: 'Allow',
            Action: ['ec2:DescribeNetworkInterfaces', 'cloudwatch:GetMetricData', 'sns:Publish'],
            Resource: '*',
          },
        ],
        null,
      );
      expect(check).toMatchObject({ ok: false, why: 'denied: sns:Publish implicitDeny' });
      expect(iam.requests.length - before).toBe(3);
    } finally {
      iam.pageLimit = undefined;
    }
  });
});

describe('Lab STS, SNS, EC2: what the doctor calls', () => {
  it('STS GetCallerIdentity names the caller', async () => {
    expect(await clients.sts.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Arn: LAB_CALLER.arn,
      Account: LAB_CALLER.account,
      UserId: LAB_CALLER.userId,
    });
  });

  it('SNS GetTopicAttributes: the attributes of a topic; NotFound (404), InvalidParameter (400), AuthorizationError (403)', async () => {
    const get = (TopicArn: string) => clients.sns.send(new GetTopicAttributesCommand({ TopicArn }));
    expect((await get(TOPIC)).Attributes).toMatchObject({ TopicArn: TOPIC, Owner: '123456789012' });
    expect(await refusal(get(`${TOPIC}-gone`))).toEqual({ name: 'NotFoundException', status: 404 });
    expect(await refusal(get('not-an-arn'))).toEqual({ name: 'InvalidParameterException', status: 400 });
    sns.unauthorized = new Set([TOPIC]);
    try {
      expect(await refusal(get(TOPIC))).toEqual({ name: 'AuthorizationErrorException', status: 403 });
    } finally {
      sns.unauthorized = undefined;
    }
    expect(sns.messages).toEqual([]);
  });

  it('EC2 DryRun: DryRunOperation (412) when allowed, UnauthorizedOperation (403) when not, with or without DryRun', async () => {
    const call = (DryRun: boolean) => clients.ec2.send(new DescribeNetworkInterfacesCommand({ DryRun, MaxResults: 5 }));
    expect(await refusal(call(true))).toEqual({ name: 'DryRunOperation', status: 412 });
    ec2State.unauthorized = new Set(['DescribeNetworkInterfaces']);
    try {
      expect(await refusal(call(true))).toEqual({ name: 'UnauthorizedOperation', status: 403 });
      expect(await refusal(call(false))).toEqual({ name: 'UnauthorizedOperation', status: 403 });
    } finally {
      ec2State.unauthorized = undefined;
    }
    expect((await call(false)).NetworkInterfaces).toEqual([]);
  });
});
