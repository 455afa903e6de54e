import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStsEndpoint, type AssumeRoleCall } from '../../../lab/sts/server';
import { LabElb } from '../../../lab/elb';
import { parseConfig } from '../../../shared/config/load';
import { ec2ClientsByRegion } from '../../../shared/aws/clients';
import { observeConfigured } from '../../../shared/cycle/observe-configured';
import { createDnsLookup } from '../../../shared/nodes/dns';
import { createEniLookup } from '../../../shared/nodes/eni';

// Cross-account: a load balancer with a roleArn is looked up with credentials
// from STS AssumeRole (the SDK's provider, through AWS_ENDPOINT_URL_STS to a local
// STS), and the EC2 call is signed with them; one without uses the default chain.
const ROLE = 'arn:aws:iam::210987654321:role/elbscope-reader';
const lab = new LabElb({ name: 'other', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1 } });
const calls: AssumeRoleCall[] = [];
let sts: Awaited<ReturnType<typeof startStsEndpoint>>;
let dnsServer: string;

beforeAll(async () => {
  let ec2Url: string;
  ({ dnsServer, ec2Url } = await lab.start());
  sts = await startStsEndpoint(calls);
  process.env.AWS_ENDPOINT_URL_STS = sts.url;
  process.env.AWS_ENDPOINT_URL_EC2 = ec2Url;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_STS;
  delete process.env.AWS_ENDPOINT_URL_EC2;
  await Promise.all([lab.stop(), sts.close()]);
});

describe('Cross-account roles', () => {
  it("assumes the configured role for that load balancer's EC2 calls, and only for it", async () => {
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName: lab.dnsName, roleArn: ROLE }],
        dns: { servers: [dnsServer], queries: 1, allowLoopbackNodes: true },
      },
      'test',
    );
    const ec2 = ec2ClientsByRegion();
    const [o] = await observeConfigured(config, {
      dns: createDnsLookup(config.dns),
      enisFor: (region, roleArn) => createEniLookup(ec2(region, roleArn)),
      now: () => new Date(),
    });
    expect(o?.errors).toEqual([]);
    expect(o?.azs).toEqual({ 'us-east-1a': { provisioned: 1, advertised: 1 } });
    expect(calls).toEqual([{ roleArn: ROLE, sessionName: 'elbscope', callerKeyId: 'test' }]);
    expect(lab.ec2.requests.map((r) => r.signedBy)).toEqual(['ASIA210987654321']);

    const own = parseConfig(
      {
        loadBalancers: [{ dnsName: lab.dnsName }],
        dns: { servers: [dnsServer], queries: 1, allowLoopbackNodes: true },
      },
      'test',
    );
    await observeConfigured(own, {
      dns: createDnsLookup(own.dns),
      enisFor: (region, roleArn) => createEniLookup(ec2(region, roleArn)),
      now: () => new Date(),
    });
    expect(lab.ec2.requests.map((r) => r.signedBy)).toEqual(['ASIA210987654321', 'test']);
    expect(calls).toHaveLength(1);
  });
});

describe('The lab STS endpoint holds AssumeRole to its documented contract', () => {
  it('refuses a session name, duration or role ARN STS would refuse, through the real SDK', async () => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    const client = new STSClient({ region: 'us-east-1', maxAttempts: 1 });
    const assume = (input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number }) =>
      client.send(new AssumeRoleCommand(input)).then(
        () => 'ok',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    expect(await assume({ RoleArn: ROLE, RoleSessionName: 'elbscope' })).toBe('ok');
    expect(await assume({ RoleArn: ROLE, RoleSessionName: 'x' })).toMatch(/^ValidationError: .*roleSessionName/);
    expect(await assume({ RoleArn: ROLE, RoleSessionName: 'elb scope' })).toMatch(
      /^ValidationError: .*roleSessionName/,
    );
    expect(await assume({ RoleArn: ROLE, RoleSessionName: 'elbscope', DurationSeconds: 600 })).toMatch(
      /^ValidationError: .*durationSeconds/,
    );
    expect(await assume({ RoleArn: 'arn:aws:iam::1:role/x', RoleSessionName: 'elbscope' })).toMatch(
      /^ValidationError: .*roleArn/,
    );
    client.destroy();
  });
});
