import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ms, startChild, type BenchResult } from './lib';
import { packageFunctions, unzipHandler } from './package';
import { LAMBDA_256_HEAP } from './scale';
import { cpuLimit, LAMBDA_256_CPU_SHARE, type CpuLimit } from './cpu-limit';
import { parseConfig } from '../shared/config/load';
import { cycleDeadlines } from '../shared/deadline';

interface DriverOut {
  runs: { ms: number; observed: number; unresolved: number; skipped: number; errors: number; events: number }[];
  peakRssMb: number;
  heapLimitMb: number;
}

/** Run the packaged handler in a process sized as Lambda sizes it; null when it died (out of memory). */
function runHandler(
  handler: string,
  env: NodeJS.ProcessEnv,
  heap: { oldMb: number; semiMb: number },
  limit?: CpuLimit,
): Promise<DriverOut | { died: string }> {
  const out = join(mkdtempSync(join(tmpdir(), 'elbscope-handler-')), 'out.json');
  const driver = fileURLToPath(new URL('./handler-driver.mjs', import.meta.url));
  const args = [`--max-old-space-size=${heap.oldMb}`, `--max-semi-space-size=${heap.semiMb}`, driver, handler, out];
  const [command, argv] = limit?.limited
    ? limit.wrap(process.execPath, [...args, '2', '50'])
    : [process.execPath, [...args, '2', '50']];
  return new Promise((resolve) => {
    const child = spawn(command, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(readFileSync(out, 'utf8')) as DriverOut);
      else
        resolve({
          died: `exit ${code ?? signal}: ${stderr.split('\n').find((l) => /heap|memory|Error/.test(l)) ?? stderr.slice(-200)}`,
        });
    });
  });
}

/**
 * Benchmark 8: the packaged observe function (`serverless package`'s zip, as
 * deployed) handling 500 load balancers with 6 backends each in one invocation,
 * with the V8 heap Lambda gives a 256 MB function; every AWS call through the real
 * SDK to loopback stand-ins (the scale lab's EC2, dynalite, the lab's SNS). Two
 * scheduled invocations in one process, as a warm Lambda sees them.
 */
export async function handlerAtScale(lbs = 500, backendsPerLb = 6, limitedLbs = 100): Promise<BenchResult> {
  const handler = await unzipHandler(await packageFunctions(), 'observe');
  const lab = await startChild<{ dnsServer: string; ec2Url: string; ports: number[] }>('./scale-lab.ts', [
    `${lbs},${backendsPerLb},50`,
  ]);
  const aws = await startChild<{ dynamodb: string; table: string; sns: string; cloudwatch: string }>(
    './aws-standins.ts',
    [],
  );
  try {
    const { dnsServer, ec2Url, ports } = lab.info;
    const configFor = (n: number) => {
      const file = join(mkdtempSync(join(tmpdir(), 'elbscope-handler-config-')), 'config.json');
      writeFileSync(file, JSON.stringify(configOf(n)));
      return file;
    };
    const configOf = (n: number) => ({
      loadBalancers: Array.from({ length: n }, (_, i) => ({
        dnsName: `scale${i}-1.us-east-1.elb.amazonaws.com`,
        backends: Array.from({ length: backendsPerLb }, (_, b) => ({
          name: `b${b}`,
          statusUrl: `http://127.0.0.1:${ports[(i * backendsPerLb + b) % ports.length]}/lb${i}/b${b}/server-status`,
          acceptFilterNone: true,
        })),
      })),
      dns: { servers: [dnsServer], timeoutMs: 2000, tries: 2, allowLoopbackNodes: true },
    });
    const configFile = configFor(lbs);
    const env = {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_EC2: ec2Url,
      AWS_ENDPOINT_URL_DYNAMODB: aws.info.dynamodb,
      AWS_ENDPOINT_URL_SNS: aws.info.sns,
      AWS_ENDPOINT_URL_CLOUDWATCH: aws.info.cloudwatch,
      // Anything else the SDK might call goes to a closed loopback port, never to AWS.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      ELBSCOPE_CONFIG_FILE: configFile,
      ELBSCOPE_TABLE: aws.info.table,
      ELBSCOPE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:elbscope-bench',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    const r = await runHandler(handler, env, LAMBDA_256_HEAP);
    // The same function with a 256 MB Lambda's share of a CPU, on fewer load balancers (the rest of the lab's):
    // how many one invocation observes before its cycle stops starting new ones (cycleDeadlines, 50 s timeout).
    const limit = cpuLimit(LAMBDA_256_CPU_SHARE);
    let limited: DriverOut | { died: string } | null = null;
    try {
      limited = await runHandler(
        handler,
        { ...env, ELBSCOPE_CONFIG_FILE: configFor(limitedLbs) },
        LAMBDA_256_HEAP,
        limit,
      );
    } finally {
      if (limit.limited) limit.remove();
    }
    if ('died' in r) {
      return {
        title: `8. The packaged observe function: ${lbs} load balancers in one invocation, heap ${LAMBDA_256_HEAP.label}`,
        rows: [['outcome', r.died]],
        checks: [{ target: `completes ${lbs} load balancers with a 256 MB function's heap`, ok: false }],
      };
    }
    const [first, second] = r.runs;
    const row = (label: string, x: DriverOut['runs'][number] | undefined): [string, string] => [
      label,
      x
        ? `${ms(x.ms)}; ${x.observed} observed, ${x.skipped} skipped, ${x.unresolved} unresolved, ${x.errors} errors, ${x.events} events`
        : 'did not run',
    ];
    const complete = (x: DriverOut['runs'][number] | undefined, n = lbs) =>
      x !== undefined && x.observed === n && x.skipped === 0 && x.unresolved === 0 && x.errors === 0;
    // Per load balancer, the slower of the two limited invocations (the first also loads the bundle and stores
    // baselines); what one invocation can observe is what fits before its cycle stops starting new ones.
    const timeoutMs = 50_000;
    const { startBy } = cycleDeadlines(0, timeoutMs);
    const limitedRuns = limited && !('died' in limited) ? limited.runs : [];
    const perLbMs = limitedRuns.length === 2 ? Math.max(...limitedRuns.map((x) => x.ms)) / limitedLbs : null;
    const capacity = perLbMs ? Math.floor(startBy / perLbMs) : null;
    const batchSize = parseConfig({ loadBalancers: [{ dnsName: 'x-1.us-east-1.elb.amazonaws.com' }] }, 'bench').fanout
      .batchSize;
    return {
      title: `8. The packaged observe function: ${lbs} load balancers (${lbs * backendsPerLb} backends) in one invocation, heap ${LAMBDA_256_HEAP.label}`,
      rows: [
        row('first invocation (cold: baselines stored for every load balancer)', first),
        row('second invocation (warm)', second),
        ['peak RSS of the process', `${r.peakRssMb.toFixed(0)} MB (V8 heap limit ${r.heapLimitMb.toFixed(0)} MB)`],
        ['CPU of a 256 MB Lambda (256/1769 of a vCPU)', limit.describe],
        ...(limited === null || 'died' in limited
          ? [[`${limitedLbs} load balancers with that CPU`, limited ? limited.died : 'not run'] as [string, string]]
          : [
              row(`${limitedLbs} load balancers with that CPU: first invocation`, limitedRuns[0]),
              row(`${limitedLbs} load balancers with that CPU: second invocation`, limitedRuns[1]),
            ]),
        [
          'load balancers one invocation observes with that CPU',
          capacity === null
            ? 'not derived'
            : `${capacity} (${(startBy / 1000).toFixed(1)} s before a 50 s invocation stops starting new ones, ${ms(perLbMs as number)} each${limit.limited ? '' : '; NOT CPU-limited: an overestimate'})`,
        ],
        ['fan-out batch size default (fanout.batchSize)', String(batchSize)],
      ],
      checks: [
        {
          target: `both invocations observe all ${lbs} load balancers with nothing skipped or failed`,
          ok: complete(first) && complete(second),
        },
        {
          target: `within the function's 50 s timeout (${ms(Math.max(first?.ms ?? Infinity, second?.ms ?? Infinity))})`,
          ok: Math.max(first?.ms ?? Infinity, second?.ms ?? Infinity) < 50_000,
        },
        { target: `peak RSS under the function's 256 MB (${r.peakRssMb.toFixed(0)} MB)`, ok: r.peakRssMb < 256 },
        {
          target: `with a 256 MB Lambda's CPU (${limit.limited ? 'cgroup quota' : 'not limited here'}), both invocations observe all ${limitedLbs}`,
          ok: limit.limited && complete(limitedRuns[0], limitedLbs) && complete(limitedRuns[1], limitedLbs),
        },
        {
          target: `the fan-out batch size default (${batchSize}) is at most half of what one such invocation observes (${capacity ?? 'n/a'})`,
          ok: limit.limited && capacity !== null && batchSize * 2 <= capacity,
        },
      ],
      notes: [
        'the zip is the one `serverless package` builds for deployment; its handler is required once and invoked twice with scheduled events, as a warm Lambda runs it; the store is dynalite (DynamoDB API) and alerts go to the lab SNS endpoint',
        'a real 256 MB Lambda has 256/1769 of a vCPU (AWS allocates CPU in proportion to memory, one vCPU at 1,769 MB): the CPU-limited rows run the same zip in a cgroup with that quota; the unlimited 500 use both cores of this machine. Half of what one limited invocation observes leaves room for a colder start, a busier host and real network round trips',
      ],
    };
  } finally {
    await Promise.all([lab.stop(), aws.stop()]);
  }
}
