import { summaryOf } from './catalog';
import { Command, InvalidArgumentError } from 'commander';
import { allSinks } from '../../shared/alerts/sinks';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { awsCycleDeps } from '../../shared/wiring/cycle-deps';
import type { Config } from '../../shared/config/schema';
import { loadBalancerKey } from '../../shared/config/identity';
import type { ChainHeads } from '../../shared/cycle/record';
import type { CycleDeps } from '../../shared/cycle/observe-configured';
import { cycleDeadlines } from '../../shared/deadline';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import { runCycle, type CycleMetrics, type RunDeps } from '../../shared/cycle/run';
import { runTlsRound } from '../../shared/cycle/run-tls';
import { discoveryClientsByRegion } from '../../shared/wiring/discovery-clients';
import { discoveringConfig } from '../../shared/discovery/merge';
import { discoveryRecorder } from '../../shared/discovery/ledger';
import { describeError, printable, UsageError, type EnvironmentError } from '../../shared/errors';
import { environmentFailureOf } from '../failures';
import { StoreConflictError } from '../../shared/ledger/store';
import { EXIT, type CliIo } from '../io';
import { cliSinks } from '../sinks';
import { regionsByKey } from '../../shared/alerts/chat';
import { openStore } from '../store';
import { collect, dnsNameArg, intArg, listenArg, regionArg, dnsServerArg } from './args';
import { OpenMetrics, serveMetrics } from '../../shared/metrics/openmetrics';
import { durationArg } from './duration';
import { configFromFlags } from './flags-to-config';
import { formatCycleLine } from '../format/cycle-line';
import { wallClock, type Clock } from '../../shared/clock';

interface WatchFlags {
  config?: string;
  lb: string[];
  dnsServer: string[];
  region?: string;
  backend: string[];
  snsTopic?: string;
  confirm?: { m: number; n: number };
  cycles?: number;
  interval: number;
  store?: string;
  table?: string;
  alertFile?: string;
  metricsListen?: { host: string; port: number };
  allowLoopbackNodes?: boolean;
}

/** `--interval`: a duration of at least one second (a cycle every 10 ms would hammer DNS, EC2 and every backend). */
function intervalArg(value: string): number {
  const ms = durationArg(value);
  if (ms < 1000) throw new InvalidArgumentError(`"${value}": the interval must be at least 1s`);
  return ms;
}

function confirmArg(value: string): { m: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > Number(m[2]))
    throw new InvalidArgumentError(`"${value}" is not M/N with 1 <= M <= N, such as 2/3`);
  return { m: Number(m[1]), n: Number(m[2]) };
}

/**
 * The cycle loop shared by `watch` and `start`: the cycle runner (observe, record,
 * flush, metrics), then print; the TLS round every `tlsEveryMs`. Stops after
 * `cycles`, or between cycles when `signal` aborts. A failure of the environment in
 * a cycle (a full disk, too many open files, a store that refuses: see
 * cli/failures.ts) is said in one line and the loop goes on: what was not stored or
 * sent, the next cycle observes and sends again. Only a bug ends it.
 */
export async function watchLoop(
  config: Config,
  deps: CycleDeps,
  record: RunDeps['record'],
  loop: {
    interval: number;
    cycles?: number;
    tlsEveryMs: number;
    signal: AbortSignal;
    /** Told each cycle once it is recorded, with each load balancer's audit-chain head (its anchor). */
    print: (
      config: Config,
      snapshots: LoadBalancerSnapshot[],
      at: string,
      heads: ReadonlyMap<string, ChainHeads>,
    ) => void;
    /** The configuration of each cycle, when discovery can change it. */
    current?: () => Promise<Config>;
    /** Whose time cycles start on (default: the wall clock; the lab's stepped clock in `start --stepped`). */
    clock?: Clock;
    /** OpenMetrics for `--metrics-listen`: updated after every cycle and TLS round. */
    metrics?: CycleMetrics;
  },
): Promise<void> {
  const clock = loop.clock ?? wallClock;
  const run = { record, metrics: loop.metrics };
  let lastTls = Number.NEGATIVE_INFINITY;
  /** A survivable failure is said (naming the step and what met it), and the loop goes on; anything else ends it. */
  const survive = (what: string, err: unknown): void => {
    const named = survivable(err);
    if (!named) throw err;
    record.warn?.(`${what}: ${describeError(named)}; the next cycle tries again`, { error: describeError(named) });
  };
  for (let cycle = 1; !loop.signal.aborted && (loop.cycles === undefined || cycle <= loop.cycles); cycle++) {
    const started = clock.now();
    const at = new Date(started).toISOString();
    if (loop.current) {
      try {
        config = await loop.current();
      } catch (err) {
        survive('discovery', err);
      }
    }
    // Locally a late cycle only delays the next, so only starting is bounded (by the interval): what was observed is
    // always committed.
    const done = await untilStopped(
      runCycle(config, at, deps, run, { startBy: cycleDeadlines(started, loop.interval).startBy }),
      loop.signal,
      clock,
    );
    if (done === null) return;
    if (done.unrecorded !== undefined) survive(`cycle ${at} not all recorded or sent`, done.unrecorded);
    loop.print(config, done.snapshots, at, done.heads);
    const hasTls = config.loadBalancers.some((lb) => lb.backends.some((b) => b.tls));
    if (hasTls && started - lastTls >= loop.tlsEveryMs) {
      lastTls = started;
      try {
        const round = await untilStopped(runTlsRound(config, at, deps, run), loop.signal, clock);
        if (round === null) return;
        // The round's observation errors (a policy lookup that failed) are said, as a cycle's are on its line.
        for (const e of round.errors) record.warn?.(`TLS round: ${e.loadBalancer} ${e.source}: ${e.message}`);
        if (round.unrecorded !== undefined) throw round.unrecorded;
      } catch (err) {
        survive(`TLS round ${at}`, err);
      }
    }
    // Cycles start every `interval`, however long one took; a clock set back meanwhile (NTP, a VM resumed) makes the
    // cycle look longer than it was, never the wait longer than an interval.
    if (loop.cycles === undefined || cycle < loop.cycles)
      await clock.sleep(Math.min(loop.interval, Math.max(0, loop.interval - (clock.now() - started))), loop.signal);
  }
}

/** How long a cycle under way may still take after Ctrl-C (its commit is ms; a store that hangs would be for ever). */
const STOP_GRACE_MS = 5_000;

/**
 * `work`, or null once `signal` has aborted and STOP_GRACE_MS of `clock` has passed: Ctrl-C lets a cycle under way
 * commit what it observed, but a store or sink whose calls never end does not hold `watch` (the ledger's commit
 * survives a stop at any point: what was not stored, the next run observes again).
 */
async function untilStopped<T>(work: Promise<T>, signal: AbortSignal, clock: Clock): Promise<T | null> {
  let onAbort = () => {};
  const stopped = new Promise<null>((resolve) => {
    onAbort = () => void clock.delay(STOP_GRACE_MS).then(() => resolve(null));
  });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([work, stopped]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Serve OpenMetrics on `--metrics-listen`; a port in use or an address not here is one line naming it. */
export async function startMetrics(
  listen: { host: string; port: number },
  io: CliIo,
): Promise<{ metrics: OpenMetrics; close: () => Promise<void> }> {
  const metrics = new OpenMetrics();
  const server = await serveMetrics(metrics, listen.host, listen.port).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      `--metrics-listen ${listen.host}:${listen.port}: cannot listen there (${err.code ?? err.message})`,
    );
  });
  io.out(`metrics: ${server.url}`);
  return { metrics, close: server.close };
}

/** `elbscope watch`: observe → detect → store → alert in a loop, the local twin of the scheduled Lambda. */
export function watchCommand(io: CliIo, setExit: (code: number) => void, signal: AbortSignal): Command {
  return new Command('watch')
    .description(summaryOf('watch'))
    .option('--config <file>', 'configuration file (JSON)')
    .option('--lb <dnsname>', 'load balancer DNS name (repeatable; instead of --config)', dnsNameArg, [])
    .option('--dns-server <host:port>', 'DNS server IP[:port] to ask (repeatable)', dnsServerArg, [])
    .option(
      '--allow-loopback-nodes',
      "take loopback addresses in DNS answers as nodes (the lab's are; no real node is)",
    )
    .option('--region <region>', 'region for EC2 calls', regionArg)
    .option('--backend <status-url>', 'backend status page for every --lb (repeatable)', collect, [])
    .option('--sns-topic <arn>', 'also publish alerts to this SNS topic (AWS_ENDPOINT_URL_SNS applies)')
    .option('--confirm <m/n>', 'a change must hold in M of the last N cycles', confirmArg)
    .option('--cycles <n>', 'stop after N cycles (default: until Ctrl-C)', intArg(1, 10_000_000))
    .option('--interval <duration>', 'time between cycles (at least 1s)', intervalArg, 60_000)
    .option('--store <dir>', 'local store directory (default: .elbscope)')
    .option('--table <name>', 'use a DynamoDB table as the store instead')
    .option('--alert-file <path>', 'also append every alert to this file, one JSON line each')
    .option('--metrics-listen <host:port>', 'serve OpenMetrics for Prometheus on http://HOST:PORT/metrics', listenArg)
    .action(async (flags: WatchFlags) => {
      const config = configFromFlags(flags, io.env, 'watch: give --config FILE or at least one --lb DNSNAME');
      const store = openStore(flags, { write: true, sealKey: config.store.sealKey, env: io.env });
      const { sinks, close } = cliSinks(io, {
        snsTopicArn: config.alerts.snsTopicArn,
        alertFile: flags.alertFile,
        regionOf: regionsByKey(config.loadBalancers, config.region),
      });
      const ec2 = ec2ClientsByRegion();
      const deps = awsCycleDeps(config, ec2, io.env.AWS_REGION, { capacity: true });
      // Every warning is one line: a name or an answer's text in it is escaped (printable).
      const warn = (m: string) => io.err(`elbscope: ${printable(m)}`);
      const record = { store, sink: allSinks(sinks), now: deps.now, claimant: `watch-${process.pid}`, warn };
      // A store that cannot be read at all (a missing table, a refused endpoint, no access) is said now, exit 1;
      // once the watch runs, a store failure is said each cycle and survived (watchLoop).
      await store.listLoadBalancers();
      // A key that matches none of the store's seals is refused now (one line, exit 1): nothing is moved aside or
      // sealed with it.
      await store.checkKey?.();
      io.out(
        printable(
          `watching ${config.loadBalancers.map(loadBalancerKey).join(', ') || '(load balancers from discovery)'}; store: ${store.description}; alerts: ${record.sink.description}; confirm ${config.detect.confirm.m}/${config.detect.confirm.n}`,
        ),
      );
      const current = discoveringConfig(
        config,
        discoveryClientsByRegion(ec2),
        deps.now,
        warn,
        discoveryRecorder(store),
      );
      const served = flags.metricsListen ? await startMetrics(flags.metricsListen, io) : null;
      try {
        await watchLoop(config, deps, record, {
          interval: flags.interval,
          cycles: flags.cycles,
          tlsEveryMs: 3_600_000,
          signal,
          current,
          print: (_config, snapshots, at, heads) => io.out(formatCycleLine(snapshots, at, heads)),
          ...(served ? { metrics: served.metrics } : {}),
        });
      } finally {
        await served?.close();
      }
      close();
      setExit(EXIT.ok);
    });
}

/**
 * Whether `watch` says `err` and goes on with its next cycle: a failure of the
 * environment, or a store write that lost to another writer for too long (the next
 * cycle retries both). Anything else is a bug, and ends the watch (exit 70).
 */
function survivable(err: unknown): EnvironmentError | StoreConflictError | null {
  return err instanceof StoreConflictError ? err : environmentFailureOf(err);
}
