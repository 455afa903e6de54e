import { summaryOf } from './catalog';
import { Command, InvalidArgumentError } from 'commander';
import { discoveryClientsByRegion } from '../../shared/wiring/discovery-clients';
import { discover } from '../../shared/discovery/discover';
import { printable } from '../../shared/errors';
import { alignRows } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { collect, regionArg } from './args';

function tagArg(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const m = /^([^=]+)=(.*)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`"${value}" is not KEY=VALUE (VALUE may be *)`);
  return { ...previous, [m[1] as string]: m[2] as string };
}

/** `elbscope discover`: find load balancers by tag; prints them as configuration to paste or to check. */
export function discoverCommand(io: CliIo, setExit: (code: number) => void): Command {
  return (
    new Command('discover')
      .description(summaryOf('discover'))
      // No defaults: a required option with one counts as given (discover without --tag would match nothing, silently).
      .requiredOption('--region <region>', 'region to search (repeatable)', (v: string, p: string[] | undefined) => [
        ...(p ?? []),
        regionArg(v),
      ])
      .requiredOption(
        '--tag <key=value>',
        'tag every load balancer must carry (repeatable; value * matches any)',
        tagArg,
      )
      .option('--role <arn>', 'role to assume, for another account (repeatable)', collect, [])
      .option(
        '--status-url-template <template>',
        'backend status URL from its private IP, e.g. http://{ip}/server-status',
      )
      .option('--tls-target-template <template>', 'backend TLS target from its private IP, e.g. {ip}:443')
      .option('--json', 'print the loadBalancers configuration as JSON')
      .action(
        async (flags: {
          region: string[];
          tag: Record<string, string>;
          role: string[];
          statusUrlTemplate?: string;
          tlsTargetTemplate?: string;
          json?: boolean;
        }) => {
          const { loadBalancers, errors } = await discover(
            {
              regions: flags.region,
              tags: flags.tag,
              accounts: flags.role.map((roleArn) => ({ roleArn })),
              statusUrlTemplate: flags.statusUrlTemplate,
              tlsTargetTemplate: flags.tlsTargetTemplate,
              refreshMinutes: 15,
            },
            discoveryClientsByRegion(),
          );
          for (const e of errors) io.err(printable(`elbscope: ${e}`));
          if (flags.json) io.out(JSON.stringify({ loadBalancers }, null, 2));
          else
            io.out(
              alignRows([
                ['NAME', 'REGION', 'DNS NAME', 'BACKENDS'],
                ...loadBalancers.map((l) => [l.name ?? '-', l.region ?? '-', l.dnsName, String(l.backends.length)]),
              ]).join('\n'),
            );
          setExit(errors.length > 0 ? EXIT.notObserved : EXIT.ok);
        },
      )
  );
}
