import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { startDynalite } from '../../helpers/dynalite';
import { childEnv } from '../../helpers/env';
import { cfnLintFindings } from '../../helpers/cfn-lint';

// A configuration of any size deploys: one that would not fit Lambda's environment
// ("The total size of all environment variables doesn't exceed 4 KB", Lambda quotas)
// is packaged as a file inside every function's package, chosen at package time, and
// the packaged function reads it from there; `serverless package` refuses only what
// AWS would refuse (an environment over the limit all the same), saying why.
//
// `serverless package` runs in a copy of the service (node_modules linked): its
// work folders (.esbuild, .serverless) are then its own, whatever other test packages
// the repository itself at the same time.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const run = promisify(execFile);
const PACKAGED = 'elbscope.config.packaged.json';
const ENV_LIMIT = 4000;

function serviceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-service-'));
  for (const entry of [
    'serverless.yml',
    'package.json',
    'tsconfig.json',
    'elbscope.config.example.json',
    'deploy',
    'functions',
    'shared',
    'types',
  ]) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

async function packageService(
  service: string,
  out: string,
  configFile: string,
): Promise<{ stdout: string; stderr: string }> {
  return run(
    process.execPath,
    [join(service, 'node_modules/osls/bin/serverless.js'), 'package', '--package', out, '--stage', 'test'],
    {
      cwd: service,
      env: childEnv({ SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', ELBSCOPE_CONFIG_FILE: configFile }),
      timeout: 240_000,
    },
  );
}

/**
 * A function's environment as Lambda counts it, the stricter way: the JSON of the map, a value CloudFormation fills in
 * as 512 bytes.
 */
const environmentBytes = (variables: Record<string, unknown>) =>
  Buffer.byteLength(
    JSON.stringify(
      Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : 'x'.repeat(512)])),
    ),
  );

type Template = { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
const functionsOf = (t: Template) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

const lab = new LabElb({ name: 'many', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 2, 'us-east-1b': 1 } });
let started: Awaited<ReturnType<LabElb['start']>>;
let service: string;
let out: string;
let config: { loadBalancers: { dnsName: string }[] };

beforeAll(async () => {
  started = await lab.start();
  service = serviceCopy();
  // 200 load balancers: the lab's, and 199 its DNS server does not know (each a failed observation, quickly).
  const names = [
    lab.dnsName,
    ...Array.from(
      { length: 199 },
      (_, i) => `elbscope-fleet-${String(i).padStart(3, '0')}-1234567890.us-east-1.elb.amazonaws.com`,
    ),
  ];
  config = {
    loadBalancers: names.map((dnsName) => ({ dnsName })),
    dns: { servers: [started.dnsServer], timeoutMs: 500, tries: 1, allowLoopbackNodes: true },
    concurrency: 32,
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  } as typeof config;
  const file = join(service, 'fleet.config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  out = join(service, 'out');
  await packageService(service, out, file);
}, 300_000);
afterAll(() => lab.stop());

describe('serverless package with a configuration too large for the environment (200 load balancers)', () => {
  it("keeps every function's environment under 4 KB, the configuration in a file of each package that ELBSCOPE_CONFIG_FILE names", async () => {
    const template: Template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
    const fns = functionsOf(template);
    expect(fns.map(([id]) => id).sort()).toEqual([
      'DispatchLambdaFunction',
      'ObserveLambdaFunction',
      'ReportLambdaFunction',
      'TlsDashprobeLambdaFunction',
      'WorkerLambdaFunction',
    ]);
    for (const [, fn] of fns) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      expect(variables.ELBSCOPE_CONFIG).toBeUndefined();
      expect(variables.ELBSCOPE_CONFIG_FILE).toBe(PACKAGED);
      expect(environmentBytes(variables)).toBeLessThan(ENV_LIMIT);
    }
    for (const name of ['observe', 'tls-probe', 'report', 'dispatch', 'worker']) {
      const { stdout } = await run('unzip', ['-p', join(out, `${name}.zip`), PACKAGED], {
        maxBuffer: 16 * 1024 * 1024,
      });
      expect(JSON.parse(stdout)).toEqual(config);
    }
    // Written only while packaging: the service directory is left as it was.
    expect(existsSync(join(service, PACKAGED))).toBe(false);
  });

  it('runs the packaged observe bundle alone, reading its configuration from the packaged file: all 200 load balancers observed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-bundle-observe-'));
    await run('unzip', ['-q', join(out, 'observe.zip'), '-d', dir]);
    const dynamo = await startDynalite();
    const sns: SnsState = { messages: [], failNext: [] };
    const topic = await startSnsEndpoint(sns);
    try {
      const template: Template = JSON.parse(
        readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
      );
      const observe = template.Resources.ObserveLambdaFunction?.Properties.Environment.Variables as Record<
        string,
        unknown
      >;
      const invoke = `require(${JSON.stringify(join(dir, 'functions/observe/handler.js'))}).handler({ time: '2026-11-25T10:00:00Z' }, { awsRequestId: 'r', functionName: 'observe', getRemainingTimeInMillis: () => 50000 }).then((r) => process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n'))`;
      // Lambda runs the code from LAMBDA_TASK_ROOT; the working directory here is elsewhere.
      const { stdout } = await run(process.execPath, ['-e', invoke], {
        cwd: tmpdir(),
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
        env: childEnv({
          ELBSCOPE_CONFIG_FILE: String(observe.ELBSCOPE_CONFIG_FILE),
          LAMBDA_TASK_ROOT: dir,
          ELBSCOPE_TABLE: dynamo.table,
          ELBSCOPE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:elbscope-test',
          AWS_ENDPOINT_URL_EC2: started.ec2Url,
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_ENDPOINT_URL_SNS: topic.url,
        }),
      }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`${err.message}\n${err.stderr ?? ''}`.slice(0, 4000));
      });
      const result = JSON.parse(
        stdout
          .split('\n')
          .find((l) => l.startsWith('RESULT '))
          ?.slice(7) ?? 'null',
      );
      expect(result).toMatchObject({ observed: 200 });
      expect(result.unresolved).toHaveLength(199);
      expect(result.unresolved).not.toContain(lab.dnsName);
    } finally {
      await Promise.all([dynamo.stop(), topic.close()]);
    }
  }, 180_000);

  it('refuses only what AWS would refuse, saying why: an environment still over the limit once the configuration is out of it', async () => {
    const other = serviceCopy();
    // Another variable of 4,100 bytes: no placement of the configuration can make this environment fit.
    const yml = readFileSync(join(other, 'serverless.yml'), 'utf8');
    writeFileSync(
      join(other, 'serverless.yml'),
      yml.replace(/(\n {2}environment:\n)/, `$1    ELBSCOPE_EXTRA: '${'x'.repeat(4100)}'\n`),
    );
    writeFileSync(join(other, 'fleet.config.json'), JSON.stringify(config));
    const failed = await packageService(other, join(other, 'out'), join(other, 'fleet.config.json')).then(
      () => null,
      (err: { stdout: string; stderr: string }) => err,
    );
    expect(failed).not.toBeNull();
    expect(`${failed?.stdout}${failed?.stderr}`).toMatch(
      /ObserveLambdaFunction: its environment would be \d+ bytes .*over Lambda's limit \("The total size of all environment variables doesn't exceed 4 KB", Lambda quotas.*AWS would refuse the deploy/,
    );
  }, 300_000);

  it("passes cfn-lint: the packaged templates of a configuration in a file (no error; warnings as package.test.ts's)", async () => {
    expect(await cfnLintFindings([out])).toEqual([]);
  }, 240_000);
});
