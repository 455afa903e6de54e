import { summaryOf } from './catalog';
import { Command } from 'commander';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { awsCycleDeps } from '../../shared/wiring/cycle-deps';
import { loadConfigFile, loadConfigFromEnv, parseConfig } from '../../shared/config/load';
import type { Config } from '../../shared/config/schema';
import { identityOf } from '../../shared/config/identity';
import { observeConfigured } from '../../shared/cycle/observe-configured';
import { snapshotConfigured, type LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import { nameResolved, type Observation } from '../../shared/nodes/observation';
import { printable, UsageError } from '../../shared/errors';
import { backendJson, formatBackendsTable } from '../format/backends-table';
import { alignRows, formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { dnsNameArg, intArg, regionArg, dnsServerArg, statusUrlArg } from './args';

interface ObserveFlags {
  dnsServer: string[];
  queries?: number;
  timeout?: number;
  eni: boolean;
  region?: string;
  config?: string;
  json?: boolean;
  backend: string[];
  acceptFilterNone?: boolean;
  allowLoopbackNodes?: boolean;
}

/** `elbscope observe <dns-name>...`: one observation of each load balancer's nodes. */
export function observeCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('observe')
    .description(summaryOf('observe'))
    .argument('[dns-name...]', 'load balancer DNS names (default: the configured ones)', dnsNameArg, [])
    .option(
      '--dns-server <host:port>',
      'DNS server IP[:port] to ask (repeatable; default: the system resolvers)',
      dnsServerArg,
      [],
    )
    .option('--queries <n>', 'queries per name (answers hold 8 records and rotate)', intArg(1, 32))
    .option('--timeout <ms>', 'DNS timeout per try, in milliseconds', intArg(50, 30_000))
    .option('--no-eni', 'skip the EC2 ENI lookup (no Availability Zones)')
    .option('--region <region>', 'region for EC2 calls (default: from the DNS name)', regionArg)
    .option('--config <file>', 'configuration file (JSON)')
    .option(
      '--backend <status-url>',
      "a backend's Apache /server-status or nginx stub_status URL: its ..reading.. connections per node, in the same run (repeatable; one DNS name)",
      statusUrlArg,
      [],
    )
    .option('--accept-filter-none', 'the backends run "AcceptFilter http none" (no deferred-accept caveat)')
    .option(
      '--allow-loopback-nodes',
      "take loopback addresses in DNS answers as nodes (the lab's are; no real node is)",
    )
    .option('--json', 'print the observations as JSON')
    .action(async (names: string[], flags: ObserveFlags) => {
      const config = configFor(names, flags, io.env);
      const deps = awsCycleDeps(config, ec2ClientsByRegion(), io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION);
      if (flags.backend.length > 0) {
        // The field notes' whole manual method (dig, dig -x, server-status) in one run.
        const snapshots = await snapshotConfigured(config, deps);
        io.out(
          flags.json
            ? JSON.stringify(
                snapshots.length === 1
                  ? snapshotJson(snapshots[0] as LoadBalancerSnapshot)
                  : snapshots.map(snapshotJson),
                null,
                2,
              )
            : snapshots.map(formatSnapshot).join('\n\n'),
        );
        const failed = reportUnresolved(
          snapshots.map((s) => s.observation),
          io,
        );
        for (const b of snapshots.flatMap((s) => s.backends))
          if (b.report.error) io.err(printable(`elbscope: ${b.name}: ${b.report.error}`));
        setExit(failed || snapshots.some((s) => s.backends.some((b) => b.report.error)) ? EXIT.notObserved : EXIT.ok);
        return;
      }
      const observations = await observeConfigured(config, deps);
      if (flags.json) {
        const withIdentity = observations.map((o, i) => ({
          ...o,
          identity: identityOf(config.loadBalancers[i] as Config['loadBalancers'][number], o.kind, config.region),
        }));
        io.out(JSON.stringify(withIdentity.length === 1 ? withIdentity[0] : withIdentity, null, 2));
      } else {
        io.out(observations.map(formatNodesTable).join('\n\n'));
      }
      setExit(reportUnresolved(observations, io) ? EXIT.notObserved : EXIT.ok);
    });
}

/** Say which names did not resolve; true when any did not. */
function reportUnresolved(observations: Observation[], io: CliIo): boolean {
  const unresolved = observations.filter((o) => !nameResolved(o));
  for (const o of unresolved) {
    const why = o.errors.find((e) => e.source === 'dns')?.message ?? 'no A or AAAA records';
    io.err(printable(`elbscope: ${o.loadBalancer} did not resolve: ${why}`));
  }
  return unresolved.length > 0;
}

/** One load balancer and its backends as `observe --backend --json` prints them. */
function snapshotJson(s: LoadBalancerSnapshot) {
  return {
    ...s.observation,
    identity: s.identity,
    backends: s.backends.map((b) => ({ ...backendJson(b.report), readingByNode: b.readingByNode })),
  };
}

/** Nodes, then each backend's status, then whose pre-opened connections those are. */
function formatSnapshot(s: LoadBalancerSnapshot): string {
  const rows = [['BACKEND', 'NODE (CLIENT IP)', 'AZ', 'R']];
  for (const b of s.backends) {
    for (const n of b.readingByNode?.byNode ?? []) rows.push([b.name, n.clientIp, n.az ?? '-', String(n.reading)]);
    if (b.readingByNode && b.readingByNode.fromOthers > 0)
      rows.push([b.name, 'not a node of this load balancer', '-', String(b.readingByNode.fromOthers)]);
  }
  const parts = [formatNodesTable(s.observation), formatBackendsTable(s.backends.map((b) => b.report))];
  if (rows.length > 1) parts.push(alignRows(rows).join('\n'));
  return parts.join('\n\n');
}

function configFor(names: string[], flags: ObserveFlags, env: NodeJS.ProcessEnv): Config {
  let base: Config | null = null;
  if (flags.config) base = loadConfigFile(flags.config);
  else if (names.length === 0) base = loadConfigFromEnv(env);
  if (names.length === 0 && !base) throw new UsageError('observe: give at least one DNS name or --config FILE');
  // Whose backends they are must be unambiguous: the R per node is matched against that load balancer's nodes.
  if (flags.backend.length > 0 && names.length !== 1)
    throw new UsageError(
      'observe: --backend needs exactly one DNS name (several load balancers and their backends: --config FILE)',
    );
  const dns = {
    ...(base?.dns ?? {}),
    ...(flags.dnsServer.length > 0 ? { servers: flags.dnsServer } : {}),
    ...(flags.queries !== undefined ? { queries: flags.queries } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.allowLoopbackNodes ? { allowLoopbackNodes: true } : {}),
  };
  return parseConfig(
    {
      ...(base ?? {}),
      loadBalancers:
        names.length > 0
          ? names.map((dnsName) => ({
              dnsName,
              ...(flags.region ? { region: flags.region } : {}),
              ...(flags.backend.length > 0
                ? {
                    backends: flags.backend.map((statusUrl) => ({
                      statusUrl,
                      acceptFilterNone: flags.acceptFilterNone === true,
                    })),
                  }
                : {}),
            }))
          : base?.loadBalancers,
      dns,
      eni: { enabled: flags.eni && (base?.eni.enabled ?? true) },
    },
    'command line',
  );
}
