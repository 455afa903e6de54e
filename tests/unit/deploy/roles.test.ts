import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** The observe role's actions for a configuration, from deploy/roles.cjs as the framework calls it. */
async function observeActions(config: unknown): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'elbscope-roles-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const script = `require('./deploy/roles.cjs').resources({ resolveVariable: async (v) => (v === 'self:service' ? 'elbscope' : v === 'sls:stage' ? 'test' : undefined) })
    .then((r) => console.log(JSON.stringify(r.ObserveRole.Properties.Policies[0].PolicyDocument.Statement.flatMap((s) => [s.Action].flat()))))`;
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, ELBSCOPE_CONFIG_FILE: file } });
  return JSON.parse(stdout);
}

describe('IAM: DescribeLoadBalancers only where an alias name needs it', () => {
  it('grants it when a load balancer is configured by an alias name with its "name"', async () => {
    expect(await observeActions({ loadBalancers: [{ dnsName: 'shop.example.com', name: 'shop', region: 'us-east-1' }] })).toContain('elasticloadbalancing:DescribeLoadBalancers');
  }, 30_000);

  it('does not grant it for load balancers configured by their own DNS names', async () => {
    expect(await observeActions({ loadBalancers: [{ dnsName: 'shop-1.us-east-1.elb.amazonaws.com' }] })).not.toContain('elasticloadbalancing:DescribeLoadBalancers');
  }, 30_000);
});
