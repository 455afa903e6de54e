import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../../lab/elb';
import { Lab } from '../../../lab/lab';
import { emptyElbApi, startElbApi, type RunningElbApi } from '../../../lab/elb-api/server';
import { runElbscope } from '../../helpers/cli';

// The real executable in a child process against the lab's DNS server and EC2 endpoint.
const lab = new LabElb({ name: 'cli', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 1 } });
let dnsServer: string;
let env: Record<string, string>;

beforeAll(async () => {
  const started = await lab.start();
  dnsServer = started.dnsServer;
  env = { AWS_ENDPOINT_URL_EC2: started.ec2Url };
});
afterAll(() => lab.stop());

describe('Command: elbscope observe', () => {
  it('--json prints the Observation with exactly the documented keys, and exits 0', async () => {
    const r = await runElbscope(
      ['observe', lab.dnsName, '--dns-server', dnsServer, '--allow-loopback-nodes', '--json'],
      env,
    );

    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o).sort()).toEqual(['azs', 'errors', 'identity', 'kind', 'loadBalancer', 'nodes', 'observedAt']);
    expect(o.kind).toBe('classic'); // the lab's ENIs are described `ELB <name>`
    // The monitor's own account (no role, no ARN: a Classic ELB has none), the region from the DNS name.
    expect(o.identity).toEqual({
      key: lab.options.name,
      account: null,
      region: 'us-east-1',
      name: lab.options.name,
      arn: null,
      kind: 'classic',
    });
    expect(o.loadBalancer).toBe(lab.dnsName);
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 2, advertised: 2 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    expect(o.errors).toEqual([]);
    for (const node of o.nodes) {
      expect(node).toMatchObject({
        hostname: `ec2-${node.ip.replaceAll('.', '-')}.compute-1.amazonaws.com`,
        region: 'us-east-1',
        sources: ['dns', 'all', 'eni'],
      });
      expect(node.eniId).toMatch(/^eni-/);
    }
    expect(o.nodes.map((n: { ip: string; az: string }) => [n.ip, n.az])).toEqual(
      lab.nodes.map((n) => [n.publicIp, n.az]),
    );
  });

  it('prints a table grouped by AZ', async () => {
    const r = await runElbscope(['observe', lab.dnsName, '--dns-server', dnsServer, '--allow-loopback-nodes'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /us-east-1a {2}provisioned 2, advertised 2\n {4}127\.1\.0\.1 {2}ec2-127-1-0-1\.compute-1\.amazonaws\.com/,
    );
  });

  it('--no-eni skips EC2 and says the AZs are unknown', async () => {
    const r = await runElbscope(
      ['observe', lab.dnsName, '--dns-server', dnsServer, '--allow-loopback-nodes', '--no-eni', '--json'],
      env,
    );
    const o = JSON.parse(r.stdout);
    expect(r.code).toBe(0);
    expect(o.azs).toEqual({});
    expect(o.errors).toEqual([
      { source: 'eni', code: 'eni-off', message: 'ENI lookup is off: nodes are not placed in Availability Zones' },
    ]);
  });

  it('exits 1 with one line when the name does not resolve', async () => {
    const r = await runElbscope(
      ['observe', 'gone-1.us-east-1.elb.amazonaws.com', '--dns-server', dnsServer, '--no-eni'],
      env,
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'elbscope: gone-1.us-east-1.elb.amazonaws.com did not resolve: gone-1.us-east-1.elb.amazonaws.com: NXDOMAIN (the name does not exist)',
    );
  });

  it.each([
    [['observe', 'bad..name'], /"bad\.\.name" is not a valid DNS name/],
    [['observe', 'x.example.com', '--queries', 'many'], /--queries <n>.*expected a whole number from 1 to 32/],
    [['observe', 'x.example.com', '--dns-server', 'a b'], /"a b": expected host or host:port/],
    [['observe', 'x.example.com', '--region', 'mars'], /"mars" is not an AWS region/],
    [['observe', '--bogus'], /unknown option '--bogus'/],
    [['observe'], /^elbscope: no configuration: set ELBSCOPE_CONFIG/],
    [['nope'], /unknown command 'nope'/],
  ])('exits 2 with a one-line reason for %j', async (args, reason) => {
    const r = await runElbscope(args, env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')[0]).toMatch(reason);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 naming the key of a bad config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ loadBalancers: [{ dnsName: lab.dnsName, colour: 'red' }] }));
    const r = await runElbscope(['observe', '--config', file], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`elbscope: config ${file}: loadBalancers[0]: unknown key(s) "colour"`);
  });

  it('observes the load balancers of a config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-cli-'));
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        loadBalancers: [{ dnsName: lab.dnsName }],
        dns: { servers: [dnsServer], queries: 2, allowLoopbackNodes: true },
      }),
    );
    const r = await runElbscope(['observe', '--config', file, '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).nodes).toHaveLength(3);
  });

  // The ELB API clients are loaded only for a name that needs them (cli/commands/observe.ts): this is that path.
  it("observes an alias configured with its load balancer's name through the ELB API", async () => {
    const api = emptyElbApi();
    api.classic.push({ name: lab.options.name, dnsName: lab.dnsName });
    const running: RunningElbApi = await startElbApi(api);
    try {
      lab.zone.hosts.set('alias.cli.example', { alias: lab.dnsName });
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-cli-'));
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({
          loadBalancers: [{ dnsName: 'alias.cli.example', name: lab.options.name, region: 'us-east-1' }],
          dns: { servers: [dnsServer], queries: 2, allowLoopbackNodes: true },
        }),
      );
      const r = await runElbscope(['observe', '--config', file, '--json'], {
        ...env,
        AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING: running.url,
        AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: running.url,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const o = JSON.parse(r.stdout);
      expect(o.aliasOf).toBe(lab.dnsName);
      expect(o.errors).toEqual([]);
      expect(o.nodes.filter((n: { state: string }) => n.state === 'in-service')).toHaveLength(3);
      expect(api.requests.length).toBeGreaterThan(0);
    } finally {
      await running.close();
    }
  });
});

// The field notes' whole manual method (dig, dig -x per node, server-status per
// backend) in one process: a full lab whose proxy nodes pre-open connections.
describe('Command: elbscope observe --backend', () => {
  const full = new Lab({
    name: 'obsb',
    region: 'us-east-1',
    nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 },
    backends: [{ name: 'web', slots: 64 }],
    idleTimeoutMs: 60_000,
    trafficWindowMs: 2000,
  });
  let fullEnv: Record<string, string>;
  let fullDns: string;
  beforeAll(async () => {
    const started = await full.start();
    fullDns = started.dnsServer;
    fullEnv = { AWS_ENDPOINT_URL_EC2: started.ec2Url };
  });
  afterAll(() => full.stop());

  it("--json gives nodes, AZs and each backend's R per node, in one run", async () => {
    const status = `http://127.0.0.1:${full.backend('web').statusPort}/server-status`;
    const r = await runElbscope(
      ['observe', full.elb.dnsName, '--dns-server', fullDns, '--allow-loopback-nodes', '--backend', status, '--json'],
      fullEnv,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.azs).toEqual({
      'us-east-1a': { provisioned: 1, advertised: 1 },
      'us-east-1b': { provisioned: 1, advertised: 1 },
    });
    expect(o.backends).toHaveLength(1);
    const [web] = o.backends;
    expect(web.url).toBe(status);
    expect(web.error).toBeNull();
    // Every node pre-opens to the backend at rest (one per listener): the R the page shows is the nodes', placed in
    // their AZs.
    const byNode = web.readingByNode.byNode as { clientIp: string; az: string; reading: number }[];
    expect(byNode.map((n) => [n.clientIp, n.az]).sort()).toEqual(full.elb.nodes.map((n) => [n.privateIp, n.az]).sort());
    for (const n of byNode) expect(n.reading).toBeGreaterThanOrEqual(1);
    expect(byNode.reduce((sum, n) => sum + n.reading, 0) + web.readingByNode.fromOthers).toBe(web.reading);
  });

  it('prints nodes, the backend and R per node as tables', async () => {
    const status = `http://127.0.0.1:${full.backend('web').statusPort}/server-status`;
    const r = await runElbscope(
      ['observe', full.elb.dnsName, '--dns-server', fullDns, '--allow-loopback-nodes', '--backend', status],
      fullEnv,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('BACKEND');
    for (const n of full.elb.nodes)
      expect(r.stdout).toMatch(new RegExp(`${n.privateIp.replaceAll('.', '\\.')} +${n.az} +\\d+`));
  });

  it('exits 2 when --backend is given with more than one name, and 1 naming a backend that fails', async () => {
    const two = await runElbscope(
      ['observe', full.elb.dnsName, 'other.example.com', '--backend', 'http://127.0.0.1:9/server-status'],
      fullEnv,
    );
    expect(two.code).toBe(2);
    expect(two.stderr.trim()).toBe(
      'elbscope: observe: --backend needs exactly one DNS name (several load balancers and their backends: --config FILE)',
    );
    const dead = await runElbscope(
      [
        'observe',
        full.elb.dnsName,
        '--dns-server',
        fullDns,
        '--allow-loopback-nodes',
        '--backend',
        'http://127.0.0.1:9/server-status',
      ],
      fullEnv,
    );
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/^elbscope: 127\.0\.0\.1:9.*: /m);
  });
});
