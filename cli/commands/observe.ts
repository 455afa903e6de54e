import { summaryOf } from './catalog';
import { Command } from 'commander';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { awsCycleDeps } from '../../shared/aws/cycle-deps';
import { loadConfigFile, loadConfigFromEnv, parseConfig } from '../../shared/config/load';
import type { Config } from '../../shared/config/schema';
import { observeConfigured } from '../../shared/cycle/observe-configured';
import { nameResolved } from '../../shared/nodes/observation';
import { UsageError } from '../../shared/errors';
import { formatNodesTable } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { collect, dnsNameArg, hostPortArg, intArg, regionArg, dnsServerArg } from './args';

interface ObserveFlags {
  dnsServer: string[];
  queries?: number;
  timeout?: number;
  eni: boolean;
  region?: string;
  config?: string;
  json?: boolean;
}

/** `elbscope observe <dns-name>...`: one observation of each load balancer's nodes. */
export function observeCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('observe').description(summaryOf('observe'))
    .argument('[dns-name...]', 'load balancer DNS names (default: the configured ones)', dnsNameArg, [])
    .option('--dns-server <host:port>', 'DNS server IP[:port] to ask (repeatable; default: the system resolvers)', dnsServerArg, [])
    .option('--queries <n>', 'queries per name (answers hold 8 records and rotate)', intArg(1, 32))
    .option('--timeout <ms>', 'DNS timeout per try, in milliseconds', intArg(50, 30_000))
    .option('--no-eni', 'skip the EC2 ENI lookup (no Availability Zones)')
    .option('--region <region>', 'region for EC2 calls (default: from the DNS name)', regionArg)
    .option('--config <file>', 'configuration file (JSON)')
    .option('--json', 'print the observations as JSON')
    .action(async (names: string[], flags: ObserveFlags) => {
      const config = configFor(names, flags, io.env);
      const observations = await observeConfigured(config, awsCycleDeps(config, ec2ClientsByRegion(), io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION));
      if (flags.json) {
        io.out(JSON.stringify(observations.length === 1 ? observations[0] : observations, null, 2));
      } else {
        io.out(observations.map(formatNodesTable).join('\n\n'));
      }
      const unresolved = observations.filter((o) => !nameResolved(o));
      for (const o of unresolved) {
        const why = o.errors.find((e) => e.source === 'dns')?.message ?? 'no A or AAAA records';
        io.err(`elbscope: ${o.loadBalancer} did not resolve: ${why}`);
      }
      setExit(unresolved.length > 0 ? EXIT.notObserved : EXIT.ok);
    });
}

function configFor(names: string[], flags: ObserveFlags, env: NodeJS.ProcessEnv): Config {
  let base: Config | null = null;
  if (flags.config) base = loadConfigFile(flags.config);
  else if (names.length === 0) base = loadConfigFromEnv(env);
  if (names.length === 0 && !base) throw new UsageError('observe: give at least one DNS name or --config FILE');
  const dns = {
    ...(base?.dns ?? {}),
    ...(flags.dnsServer.length > 0 ? { servers: flags.dnsServer } : {}),
    ...(flags.queries !== undefined ? { queries: flags.queries } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
  };
  return parseConfig(
    {
      ...(base ?? {}),
      loadBalancers: names.length > 0 ? names.map((dnsName) => ({ dnsName, ...(flags.region ? { region: flags.region } : {}) })) : base?.loadBalancers,
      dns,
      eni: { enabled: flags.eni && (base?.eni.enabled ?? true) },
    },
    'command line',
  );
}
