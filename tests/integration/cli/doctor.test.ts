import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudWatchState, startCloudWatch } from '../../../lab/cloudwatch/server';
import { LabElb } from '../../../lab/elb';
import { iamState, startIamEndpoint } from '../../../lab/iam/server';
import { labHmacKey, startKmsEndpoint, type KmsState } from '../../../lab/kms/server';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { LAB_CALLER, startStsEndpoint } from '../../../lab/sts/server';
import { runElbscope } from '../../helpers/cli';

// The real executable against the lab: its DNS server and EC2, CloudWatch, STS, IAM, SNS and KMS stand-ins.
const lab = new LabElb({ name: 'doc', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const OBSERVE_ROLE = 'arn:aws:iam::123456789012:role/elbscope-prod-ObserveRole-1A2B3C4D';
const iam = iamState();
const sns: SnsState = { messages: [], failNext: [], topics: new Set([TOPIC]) };
const key = labHmacKey();
const kms: KmsState = { keys: [key], calls: [], failNext: [] };
const closers: (() => Promise<void>)[] = [];
let env: Record<string, string>;
let dir: string;
let dnsServer: string;

/** A configuration file watching the lab, with `extra` over it. */
function configFile(extra: Record<string, unknown> = {}): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      loadBalancers: [{ dnsName: lab.dnsName }],
      dns: { servers: [dnsServer], timeoutMs: 1000, tries: 1, queries: 2, allowLoopbackNodes: true },
      alerts: { snsTopicArn: TOPIC },
      store: { sealKey: key.arn },
      ...extra,
    }),
  );
  return file;
}

const doctor = (args: string[] = [], file = configFile()) => runElbscope(['doctor', '--config', file, ...args], env);
const failing = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('✗'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'elbscope-doctor-'));
  const started = await lab.start();
  dnsServer = started.dnsServer;
  const cloudwatch = await startCloudWatch(cloudWatchState(() => []));
  const sts = await startStsEndpoint([]);
  const iamEndpoint = await startIamEndpoint(iam);
  const snsEndpoint = await startSnsEndpoint(sns);
  const kmsEndpoint = await startKmsEndpoint(kms);
  closers.push(cloudwatch.close, sts.close, iamEndpoint.close, snsEndpoint.close, kmsEndpoint.close, () => lab.stop());
  iam.principals.set(LAB_CALLER.arn, {});
  iam.principals.set(OBSERVE_ROLE, {});
  env = {
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_EC2: started.ec2Url,
    AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_IAM: iamEndpoint.url,
    AWS_ENDPOINT_URL_SNS: snsEndpoint.url,
    AWS_ENDPOINT_URL_KMS: kmsEndpoint.url,
  };
});
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

describe('Command: elbscope doctor', () => {
  it('passes every check against the lab, one line each, and exits 0 without publishing or changing anything', async () => {
    const r = await doctor();
    expect(r.stderr).toBe('');
    expect(failing(r.stdout)).toEqual([]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual([
      `✓ credentials: ${LAB_CALLER.arn} (account 123456789012)`,
      expect.stringMatching(
        new RegExp(
          `^✓ ${LAB_CALLER.arn} may make the observe function's calls \\(\\d+ actions simulated; \\d+ not: on the stack's own resources, or conditional\\)$`,
        ),
      ),
      `✓ ${lab.dnsName} resolves (2 node addresses)`,
      `✓ ${lab.dnsName}'s ENIs found (2 in us-east-1a, us-east-1b)`,
      `✓ CloudWatch readable for classic load balancers (GetMetricData, ${lab.dnsName})`,
      `✓ SNS topic ${TOPIC} reachable`,
      `✓ KMS seal key ${key.arn} usable (HMAC_256, enabled)`,
      'all 7 checks passed',
    ]);
    expect(r.code).toBe(0);
    // Nothing published, no MAC made: reads, a simulation and DescribeKey only.
    expect(sns.messages).toEqual([]);
    expect(kms.calls.map((c) => c.operation)).toEqual(['DescribeKey']);
    // The simulation asked for what the deploy grants the observe function (shared/deploy/role-policies.ts).
    const asked = iam.requests.flatMap((q) =>
      Object.entries(q)
        .filter(([k]) => k.startsWith('ActionNames.'))
        .map(([, v]) => v),
    );
    expect(asked).toEqual(
      expect.arrayContaining(['ec2:DescribeNetworkInterfaces', 'cloudwatch:GetMetricData', 'sns:Publish']),
    );
    expect(iam.requests.every((q) => q.PolicySourceArn === LAB_CALLER.arn)).toBe(true);
  });

  it('names the action a principal is not allowed, and exits 1', async () => {
    iam.principals.set(LAB_CALLER.arn, { notAllowed: new Set(['cloudwatch:GetMetricData']) });
    try {
      const r = await doctor();
      expect(failing(r.stdout)).toEqual([
        expect.stringMatching(
          /^✗ .* may make the observe function's calls: denied: cloudwatch:GetMetricData implicitDeny — grant them to /,
        ),
      ]);
      expect(r.code).toBe(1);
    } finally {
      iam.principals.set(LAB_CALLER.arn, {});
    }
  });

  it('--role simulates a stack role as the function its name says, and names an explicit deny', async () => {
    iam.principals.set(OBSERVE_ROLE, { denied: new Set(['ec2:DescribeNetworkInterfaces']) });
    try {
      const r = await doctor(['--role', OBSERVE_ROLE]);
      expect(failing(r.stdout)).toEqual([
        expect.stringContaining(
          `✗ ${OBSERVE_ROLE} may make the observe function's calls: denied: ec2:DescribeNetworkInterfaces explicitDeny`,
        ),
      ]);
      expect(r.code).toBe(1);
    } finally {
      iam.principals.set(OBSERVE_ROLE, {});
    }
    const ok = await doctor(['--role', `report=${OBSERVE_ROLE}`]);
    expect(ok.stdout).toContain(`✓ ${OBSERVE_ROLE} may make the report function's calls`);
    expect(ok.code).toBe(0);
  });

  it('says a role that does not exist does not exist', async () => {
    const missing = 'arn:aws:iam::123456789012:role/nobody';
    const r = await doctor(['--role', `worker=${missing}`]);
    expect(failing(r.stdout)).toEqual([
      expect.stringContaining(
        `✗ ${missing} may make the worker function's calls: ${missing} does not exist (NoSuchEntity`,
      ),
    ]);
    expect(r.code).toBe(1);
  });

  it('falls back to EC2 DryRun where simulation is refused: DryRunOperation passes, UnauthorizedOperation fails', async () => {
    iam.simulationRefused.add(LAB_CALLER.arn);
    try {
      const allowed = await doctor();
      expect(allowed.stdout).toMatch(
        /^✓ these credentials may call ec2:DescribeNetworkInterfaces \(DryRun, as iam:SimulatePrincipalPolicy on .* refused\); the other \d+ actions were not checked/m,
      );
      expect(allowed.code).toBe(0);
      expect(lab.ec2.requests.some((q) => q.DryRun === 'true')).toBe(true);
      lab.ec2.unauthorized = new Set(['DescribeNetworkInterfaces']);
      const denied = await doctor();
      expect(failing(denied.stdout)[0]).toMatch(
        /^✗ these credentials may call ec2:DescribeNetworkInterfaces \(DryRun, .*\): denied \(UnauthorizedOperation/,
      );
      expect(denied.code).toBe(1);
    } finally {
      iam.simulationRefused.clear();
      lab.ec2.unauthorized = undefined;
    }
  });

  it('names a load balancer whose DNS name does not resolve, and exits 1', async () => {
    const wrong = 'nosuch-123.us-east-1.elb.amazonaws.com';
    const r = await doctor([], configFile({ loadBalancers: [{ dnsName: lab.dnsName }, { dnsName: wrong }] }));
    expect(failing(r.stdout)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^✗ ${wrong.replaceAll('.', '\\.')} resolves: .* — check loadBalancers\\[1\\]\\.dnsName`),
        ),
      ]),
    );
    expect(r.stdout).toContain(`✓ ${lab.dnsName} resolves`);
    expect(r.code).toBe(1);
  });

  it('names a topic that does not exist, or that the credentials may not read, and exits 1', async () => {
    const other = 'arn:aws:sns:us-east-1:123456789012:no-such-topic';
    const missing = await doctor([], configFile({ alerts: { snsTopicArn: other } }));
    expect(failing(missing.stdout)).toEqual([
      expect.stringMatching(
        /^✗ SNS topic .*no-such-topic reachable: no such topic \(NotFound.* — create it, or correct "alerts.snsTopicArn"/,
      ),
    ]);
    expect(missing.code).toBe(1);
    sns.unauthorized = new Set([TOPIC]);
    try {
      const refused = await doctor();
      expect(failing(refused.stdout)).toEqual([
        expect.stringMatching(/^✗ SNS topic .* reachable: not allowed \(AuthorizationError/),
      ]);
      expect(refused.code).toBe(1);
    } finally {
      sns.unauthorized = undefined;
    }
    expect(sns.messages).toEqual([]);
  });

  it('refuses a --role that is not a role ARN, or names no function, with one line and exit 2', async () => {
    const bad = await doctor(['--role', 'arn:aws:iam::123456789012:user/x']);
    expect(bad.stderr).toMatch(/is not an IAM role ARN/);
    expect(bad.code).toBe(2);
    const unnamed = await doctor(['--role', 'arn:aws:iam::123456789012:role/my-role']);
    expect(unnamed.stderr).toMatch(/its name says no function .* give FUNCTION=ARN/);
    expect(unnamed.code).toBe(2);
  });
});
