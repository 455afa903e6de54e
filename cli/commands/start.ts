import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summaryOf } from './catalog';
import { Command } from 'commander';
import { EC2Client } from '@aws-sdk/client-ec2';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { createBackendAuthLookup } from '../../shared/backends/auth-policy';
import { createMetricsLookup } from '../../shared/capacity/cloudwatch';
import { createAlarmApi } from '../../shared/capacity/alarm-api';
import { createReservationLookup } from '../../shared/capacity/reservation';
import { consoleSink } from '../../shared/alerts/sinks';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { buildReport } from '../../shared/report/build';
import { renderReport } from '../../shared/report/render';
import { localStore } from '../../shared/store/local';
import { defaultKeyFile, keyFilePort } from '../../shared/ledger/seal';
import { loadScenario, runScenario, type Scenario } from '../../lab/scenario';
import type { Lab } from '../../lab/lab';
import { SteppedClock } from '../../lab/stepped-clock';
import { wallClock } from '../../shared/clock';
import { printable } from '../../shared/errors';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import { formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { DEFAULT_SCENARIO, SCENARIO_OPTION, describeLab, scenarioArg, speedArg, startLab } from './lab';
import { startMetrics, watchLoop } from './watch';
import { formatCycleLine } from '../format/cycle-line';
import { listenArg } from './args';

/**
 * `elbscope start` (what `npm start` runs): the lab with its scenario, and
 * elbscope watching it through its production code path (node:dns, the AWS SDK
 * to the lab's EC2 endpoint, status pages, TLS) with the local store, printing
 * each cycle and each alert; at the end (or Ctrl-C) the run's HTML report.
 */
export interface LabSessionOptions {
  scenario: Scenario;
  speed: number;
  store?: string;
  table?: boolean;
  io: CliIo;
  signal: AbortSignal;
  /**
   * Run on a stepped clock: scenario time moves only between cycles, after the lab
   * has settled, so the run takes as long as the work (not the scenario's
   * duration) and a busy machine cannot change what is observed. `speed` is then 1.
   */
  stepped?: boolean;
  /** Serve OpenMetrics here while the session runs (`--metrics-listen`). */
  metricsListen?: { host: string; port: number };
  /** Configuration to lay over the lab's own (lab.monitorConfig's `extra`), e.g. a capacity mode; tests only. */
  monitor?: Record<string, unknown>;
  /** Called after every cycle with the lab, for ground-truth checks in tests. */
  onCycle?: (lab: Lab, snapshots: LoadBalancerSnapshot[], at: string) => void;
}

/** Run a scenario on the lab with elbscope watching it; returns the store directory and the report's path. */
export async function runLabSession(
  o: LabSessionOptions,
): Promise<{ dir: string; reportFile: string; startedAt: string }> {
  const { scenario, io } = o;
  const clock = o.stepped ? new SteppedClock() : wallClock;
  const speed = o.stepped ? 1 : o.speed;
  const { lab, endpoints } = await startLab(scenario, speed, clock);
  if (clock instanceof SteppedClock) clock.settle = () => lab.settled();
  const credentials = { accessKeyId: 'lab', secretAccessKey: 'lab' };
  const region = scenario.loadBalancer.region;
  const ec2 = new EC2Client({ region, endpoint: endpoints.ec2Url, credentials });
  const cloudwatch = new CloudWatchClient({ region, endpoint: endpoints.cloudwatchUrl, credentials });
  const elbv2 = new ElasticLoadBalancingV2Client({ region, endpoint: endpoints.elbUrl, credentials });
  const elb = new ElasticLoadBalancingClient({ region, endpoint: endpoints.elbUrl, credentials });
  const config = lab.monitorConfig(endpoints.dnsServer, o.monitor);
  const dir = o.store ?? (await mkdtemp(join(tmpdir(), 'elbscope-lab-')));
  // Sealed with the same key as every other command's store (ELBSCOPE_SEAL_KEY, else ~/.config/elbscope/seal.key).
  const key = io.env.ELBSCOPE_SEAL_KEY || defaultKeyFile(io.env);
  const store = localStore(dir, key ? { seal: keyFilePort(key, { create: true }) } : {});
  const now = () => new Date(clock.now());
  const deps = {
    dns: createDnsLookup(config.dns),
    enisFor: () => createEniLookup(ec2),
    now,
    // AWS's own capacity signals, from the lab's CloudWatch and ELB API.
    capacity: {
      metricsFor: () => createMetricsLookup(cloudwatch),
      reservationsFor: () => createReservationLookup(elbv2),
      // The spillover arrives through an alarm the lab's CloudWatch evaluates (capacity.mode "alarms").
      alarmsFor: () => createAlarmApi(cloudwatch),
    },
    // A Classic lab ELB's back-end authentication policies (it has none: its ports check nothing).
    backendAuthFor: () => createBackendAuthLookup(elb),
  };
  const record = {
    store,
    sink: consoleSink(io.out),
    now,
    claimant: `start-${process.pid}`,
    warn: (m: string) => io.err(`elbscope: ${printable(m)}`),
  };
  io.out(describeLab(lab, endpoints).join('\n'));
  // Stepped: one second of lab time first, so the scenario starts from the lab at rest
  // (pre-opened connections open), as a wall-clock run reaches it while it starts.
  if (o.stepped) await clock.sleep(1000, o.signal);
  const startedAt = now().toISOString();
  io.out(
    `store ${dir}; scenario "${scenario.name}" started at ${startedAt}, runs ${scenario.duration / speed / 1000}s; Ctrl-C stops early\n`,
  );
  const stop = new AbortController();
  o.signal.addEventListener('abort', () => stop.abort(), { once: true });
  const served = o.metricsListen ? await startMetrics(o.metricsListen, io) : null;
  try {
    const scenarioDone = runScenario(
      lab,
      scenario,
      speed,
      {
        log: io.out,
        prewarm: async ({ lcu, ...t }) =>
          store.prewarms({
            op: 'put',
            target: {
              id: `pw-${randomUUID().slice(0, 8)}`,
              loadBalancer: scenario.loadBalancer.name,
              requestedAt: now().toISOString(),
              ...t,
              ...(lcu ? { lcu } : {}),
            },
          }),
      },
      stop.signal,
    ).finally(() => stop.abort());
    await watchLoop(config, deps, record, {
      clock,
      interval: scenario.cycle / speed,
      tlsEveryMs: 0,
      signal: stop.signal,
      ...(served ? { metrics: served.metrics } : {}),
      print: (_config, snapshots, at, heads) => {
        io.out(
          o.table
            ? snapshots.map((s) => formatNodesTable(s.observation)).join('\n')
            : formatCycleLine(snapshots, at, heads),
        );
        o.onCycle?.(lab, snapshots, at);
      },
    });
    await scenarioDone;
    if (lab.unsettled > 0)
      io.err(
        `elbscope: the lab did not settle ${lab.unsettled} time(s) within 10 s; those cycles may have seen it mid-change`,
      );
  } finally {
    await served?.close();
    ec2.destroy();
    cloudwatch.destroy();
    elbv2.destroy();
    elb.destroy();
    await lab.stop();
  }
  const reportFile = join(dir, 'report.html');
  await writeFile(reportFile, renderReport(await buildReport(store, scenario.loadBalancer.name, {}, now()), 'html'));
  io.out(`\nreport of this run: ${reportFile}`);
  return { dir, reportFile, startedAt };
}

/**
 * `elbscope start` (what `npm start` runs): the lab with its scenario, and
 * elbscope watching it through its production code path (node:dns, the AWS SDK
 * to the lab's EC2 endpoint, status pages, TLS) with the local store, printing
 * each cycle and each alert; at the end (or Ctrl-C) the run's HTML report.
 */
export function startCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('start')
    .description(summaryOf('start'))
    .option(...SCENARIO_OPTION, scenarioArg, DEFAULT_SCENARIO)
    .option('--speed <n>', 'run the scenario (and the watch cycle) this many times faster', speedArg, 1)
    .option('--store <dir>', 'store directory (default: a new temporary one)')
    .option('--table', 'print the full node table every cycle instead of one line')
    .option(
      '--stepped',
      'stepped time: each cycle as soon as the lab has settled, the same events in seconds (--speed ignored)',
    )
    .option(
      '--metrics-listen <host:port>',
      'serve OpenMetrics for Prometheus on http://HOST:PORT/metrics while it runs',
      listenArg,
    )
    .action(
      async (flags: {
        scenario: string;
        speed: number;
        store?: string;
        table?: boolean;
        stepped?: boolean;
        metricsListen?: { host: string; port: number };
      }) => {
        await runLabSession({
          scenario: loadScenario(flags.scenario),
          speed: flags.speed,
          store: flags.store,
          table: flags.table,
          io,
          signal,
          stepped: flags.stepped === true,
          ...(flags.metricsListen ? { metricsListen: flags.metricsListen } : {}),
        });
        setExit(EXIT.ok);
      },
    );
}
