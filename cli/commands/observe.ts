import { summaryOf } from './catalog';
import { Command } from 'commander';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { nodeCycleDeps } from '../../shared/wiring/node-deps';
import { needsOwnNames } from '../../shared/config/identity';
import { snapshotConfigured, type LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import { nameResolved, type Observation } from '../../shared/nodes/observation';
import { printable, UsageError } from '../../shared/errors';
import { backendJson, formatBackendsTable } from '../format/backends-table';
import { alignRows, formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { configFromFlags } from './flags-to-config';
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
      const config = configFromFlags(
        { ...flags, lb: names },
        io.env,
        'observe: give at least one DNS name or --config FILE',
      );
      // Whose backends they are must be unambiguous: the R per node is matched against that load balancer's nodes.
      if (flags.backend.length > 0 && names.length !== 1)
        throw new UsageError(
          'observe: --backend needs exactly one DNS name (several load balancers and their backends: --config FILE)',
        );
      const region = io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      // The ELB API clients (and their SDK code) are loaded only when a name needs them: an alias configured by
      // "name" or "arn". A one-shot observe of a load balancer's own DNS name starts its first query sooner without.
      const deps = needsOwnNames(config.loadBalancers)
        ? (await import('../../shared/wiring/cycle-deps')).awsCycleDeps(config, ec2ClientsByRegion(), region)
        : nodeCycleDeps(config, ec2ClientsByRegion(), region);
      // Each snapshot carries its load balancer's key and identity: what is printed is never paired by position.
      // Without --backend, nodes only: a configuration file's status pages are not read.
      const withBackends = flags.backend.length > 0;
      const snapshots = await snapshotConfigured(
        withBackends
          ? config
          : { ...config, loadBalancers: config.loadBalancers.map((lb) => ({ ...lb, backends: [] })) },
        deps,
      );
      if (flags.json) {
        const json = snapshots.map((s) => observationJson(s, withBackends));
        io.out(JSON.stringify(json.length === 1 ? json[0] : json, null, 2));
      } else {
        io.out(
          withBackends
            ? snapshots.map(formatSnapshot).join('\n\n')
            : snapshots.map((s) => formatNodesTable(s.observation)).join('\n\n'),
        );
      }
      const failed = reportUnresolved(
        snapshots.map((s) => s.observation),
        io,
      );
      // The field notes' whole manual method (dig, dig -x, server-status) in one run.
      for (const b of snapshots.flatMap((s) => s.backends))
        if (b.report.error) io.err(printable(`elbscope: ${b.name}: ${b.report.error}`));
      setExit(failed || snapshots.some((s) => s.backends.some((b) => b.report.error)) ? EXIT.notObserved : EXIT.ok);
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

/**
 * One load balancer as `observe --json` prints it: its observation and its identity (the snapshot's own, never the
 * configuration's at the same position); with `--backend`, its backends too.
 */
export function observationJson(s: LoadBalancerSnapshot, withBackends: boolean) {
  return {
    ...s.observation,
    identity: s.identity,
    ...(withBackends
      ? { backends: s.backends.map((b) => ({ ...backendJson(b.report), readingByNode: b.readingByNode })) }
      : {}),
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
