import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** A role's actions for a configuration, from deploy/roles.cjs as the framework calls it. */
async function roleActions(config: unknown, role = 'ObserveRole'): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'elbscope-roles-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const script = `require('./deploy/roles.cjs').resources({ resolveVariable: async (v) => (v === 'self:service' ? 'elbscope' : v === 'sls:stage' ? 'test' : undefined) })
    .then((r) => console.log(JSON.stringify(r[${JSON.stringify(role)}].Properties.Policies[0].PolicyDocument.Statement.flatMap((s) => [s.Action].flat()))))`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    env: { ...process.env, ELBSCOPE_CONFIG_FILE: file },
  });
  return JSON.parse(stdout);
}

describe('IAM: the ELB API only where an alias name or a Classic TLS backend needs it', () => {
  it('grants GetMetricData and DescribeCapacityReservation unless the configuration turns them off', async () => {
    const lb = [{ dnsName: 'shop-1.us-east-1.elb.amazonaws.com' }];
    expect(await roleActions({ loadBalancers: lb })).toEqual(
      expect.arrayContaining(['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeCapacityReservation']),
    );
    const off = await roleActions({
      loadBalancers: lb,
      capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
    });
    expect(
      off.filter((a) => a === 'cloudwatch:GetMetricData' || a === 'elasticloadbalancing:DescribeCapacityReservation'),
    ).toEqual([]);
  }, 60_000);

  it('grants the tls-probe function DescribeLoadBalancers and DescribeLoadBalancerPolicies for a possibly-Classic load balancer with TLS backends only', async () => {
    const tlsBackend = [{ tls: { target: '10.0.0.1:443' } }];
    expect(
      await roleActions(
        { loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com', backends: tlsBackend }] },
        'TlsProbeRole',
      ),
    ).toEqual(
      expect.arrayContaining([
        'elasticloadbalancing:DescribeLoadBalancers',
        'elasticloadbalancing:DescribeLoadBalancerPolicies',
      ]),
    );
    expect(
      await roleActions(
        {
          loadBalancers: [
            {
              dnsName: 'web-1.us-east-1.elb.amazonaws.com',
              arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188',
              backends: tlsBackend,
            },
          ],
        },
        'TlsProbeRole',
      ),
    ).not.toContain('elasticloadbalancing:DescribeLoadBalancerPolicies');
    expect(
      await roleActions({ loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }] }, 'TlsProbeRole'),
    ).not.toContain('elasticloadbalancing:DescribeLoadBalancers');
  }, 60_000);

  it('grants it when a load balancer is configured by an alias name with its "name"', async () => {
    expect(
      await roleActions({ loadBalancers: [{ dnsName: 'shop.example.com', name: 'shop', region: 'us-east-1' }] }),
    ).toContain('elasticloadbalancing:DescribeLoadBalancers');
  }, 30_000);

  it('does not grant it for load balancers configured by their own DNS names', async () => {
    expect(await roleActions({ loadBalancers: [{ dnsName: 'shop-1.us-east-1.elb.amazonaws.com' }] })).not.toContain(
      'elasticloadbalancing:DescribeLoadBalancers',
    );
  }, 30_000);
});

describe("IAM: the audit's seal key, only the MAC calls each function makes", () => {
  /** A role's statements for a configuration. */
  async function statements(role: string): Promise<{ Action: string | string[]; Resource: unknown }[]> {
    const file = join(mkdtempSync(join(tmpdir(), 'elbscope-roles-')), 'config.json');
    writeFileSync(file, JSON.stringify({ loadBalancers: [{ dnsName: 'shop-1.us-east-1.elb.amazonaws.com' }] }));
    const script = `require('./deploy/roles.cjs').resources({ resolveVariable: async (v) => (v === 'self:service' ? 'elbscope' : v === 'sls:stage' ? 'test' : undefined) })
      .then((r) => console.log(JSON.stringify(r[${JSON.stringify(role)}].Properties.Policies[0].PolicyDocument.Statement)))`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: { ...process.env, ELBSCOPE_CONFIG_FILE: file },
    });
    return JSON.parse(stdout);
  }
  const kmsMac = (s: { Action: string | string[]; Resource: unknown }[]) =>
    s.filter((x) => [x.Action].flat().some((a) => a.endsWith('Mac')));

  it('grants GenerateMac and VerifyMac to the functions that record, VerifyMac alone to the report, nothing to the dispatcher: on the SealKey only', async () => {
    const sealKey = { 'Fn::GetAtt': ['SealKey', 'Arn'] };
    for (const role of ['ObserveRole', 'TlsProbeRole', 'WorkerRole'])
      expect(kmsMac(await statements(role)), role).toEqual([
        { Effect: 'Allow', Action: ['kms:GenerateMac', 'kms:VerifyMac', 'kms:DescribeKey'], Resource: sealKey },
      ]);
    expect(kmsMac(await statements('ReportRole'))).toEqual([
      { Effect: 'Allow', Action: ['kms:VerifyMac', 'kms:DescribeKey'], Resource: sealKey },
    ]);
    expect(kmsMac(await statements('DispatchRole'))).toEqual([]);
  }, 60_000);
});

describe('IAM: the seal key granted is the one the functions will use', () => {
  /** The observe and report roles' KMS statements (actions, resource, condition) for a configuration. */
  async function sealGrants(store: unknown) {
    const file = join(mkdtempSync(join(tmpdir(), 'elbscope-roles-')), 'config.json');
    writeFileSync(file, JSON.stringify({ loadBalancers: [{ dnsName: 'shop-1.us-east-1.elb.amazonaws.com' }], store }));
    const script = `require('./deploy/roles.cjs').resources({ resolveVariable: async (v) => (v === 'self:service' ? 'elbscope' : v === 'sls:stage' ? 'test' : undefined) })
      .then((r) => console.log(JSON.stringify(['ObserveRole', 'ReportRole'].map((role) => r[role].Properties.Policies[0].PolicyDocument.Statement.filter((s) => s.Action.includes('kms:VerifyMac'))))))`;
    const { stdout } = await run(process.execPath, ['-e', script], {
      env: { ...process.env, ELBSCOPE_CONFIG_FILE: file },
    });
    return JSON.parse(stdout) as { Resource: unknown; Condition?: unknown }[][];
  }

  it("the stack's SealKey when the configuration names none; the configured key ARN, alias or id otherwise", async () => {
    for (const grants of await sealGrants({}))
      expect(grants).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': ['SealKey', 'Arn'] } })]);
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    for (const grants of await sealGrants({ sealKey: arn }))
      expect(grants).toEqual([expect.objectContaining({ Resource: arn })]);
    for (const grants of await sealGrants({ sealKey: 'alias/audit' }))
      expect(grants).toEqual([
        expect.objectContaining({
          Resource: '*',
          Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/audit' } },
        }),
      ]);
    const [observe] = await sealGrants({ sealKey: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    expect(JSON.stringify(observe)).toContain('key/1234abcd-12ab-34cd-56ef-1234567890ab');
  }, 60_000);
});
