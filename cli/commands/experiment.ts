import { randomUUID } from 'node:crypto';
import { summaryOf } from './catalog';
import { Command, InvalidArgumentError } from 'commander';
import { createDnsLookup } from '../../shared/nodes/dns';
import { preopenExperiment, type PreopenRow } from '../../shared/experiments/preopen';
import { reuseExperiment } from '../../shared/experiments/reuse';
import { tlsExperiment } from '../../shared/experiments/tls';
import { ElbscopeError, printable } from '../../shared/errors';
import { alignRows } from '../format/nodes-table';
import { EXIT, type CliIo } from '../io';
import { dnsNameArg, hostPortArg, intArg, dnsServerArg } from './args';
import { durationArg } from './duration';

function numberList(value: string): number[] {
  if (!/^\d+(,\d+)*$/.test(value))
    throw new InvalidArgumentError(`"${value}" is not a comma-separated list of whole numbers`);
  return value.split(',').map(Number);
}

/** Comma-separated durations; a bare number is seconds (as `durationArg` reads it). */
function durationList(value: string): number[] {
  return value.split(',').map(durationArg);
}

interface Target {
  lb: string[];
  dnsServer: string[];
  port: number;
}

/** The first address the load balancer's name resolves to: experiments talk to one node, as `curl NAME` does. */
async function nodeOf(flags: Target): Promise<{ ip: string; host: string }> {
  const host = flags.lb[0] as string;
  const dns = createDnsLookup({ servers: flags.dnsServer, timeoutMs: 2000, tries: 2 });
  const ips = await dns.resolve4(host).catch((err: { code?: string }) => {
    throw new ElbscopeError(`--lb ${host}: does not resolve (${err.code ?? 'error'})`);
  });
  if (!ips[0]) throw new ElbscopeError(`--lb ${host}: no A records`);
  return { ip: ips[0], host };
}

const targetOptions = (c: Command) =>
  c
    .requiredOption('--lb <dnsname>', 'the load balancer DNS name', dnsNameArg)
    .option(
      '--dns-server <host:port>',
      'DNS server IP[:port] to ask (repeatable; default: the system resolvers)',
      dnsServerArg,
      [],
    )
    .option('--port <port>', 'the load balancer listener port', intArg(1, 65535), 80);

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `elbscope experiment ...`: the field notes' experiments, against a real ELB or the lab. */
export function experimentCommand(io: CliIo, setExit: (code: number) => void): Command {
  const experiment = new Command('experiment').description(summaryOf('experiment'));

  experiment.addCommand(
    targetOptions(
      new Command('preopen').description(
        'N sequential requests through the load balancer → ..reading.. connections on the backend',
      ),
    )
      .requiredOption('--status <url>', "the backend's Apache status page")
      .option('--requests <list>', 'request counts to try', numberList, [0, 1, 2, 5, 8, 10, 15])
      .option('--settle <duration>', 'wait after the requests before reading R', durationArg, 5000)
      .option('--reset <duration>', 'wait at most this long for R to return to rest between rows', durationArg, 60_000)
      .option('--json', 'print JSON')
      .action(
        async (
          flags: Target & { status: string; requests: number[]; settle: number; reset: number; json?: boolean },
        ) => {
          const { ip, host } = await nodeOf(flags);
          const rows = await preopenExperiment({
            ip,
            port: flags.port,
            host,
            statusUrl: flags.status,
            requests: flags.requests,
            settleMs: flags.settle,
            resetMs: flags.reset,
            sleep: wait,
            progress: (done, total) => io.err(`[${'#'.repeat(done).padEnd(total, '.')}] ${done}/${total}`),
          });
          if (flags.json) io.out(JSON.stringify({ loadBalancer: host, node: ip, rows }, null, 2));
          else io.out(formatPreopen(host, ip, rows));
          setExit(rows.some((r) => r.error) ? EXIT.notObserved : EXIT.ok);
        },
      ),
  );

  experiment.addCommand(
    targetOptions(
      new Command('reuse').description(
        'prime, wait W, send a marked request: did it arrive over a connection opened W earlier?',
      ),
    )
      .requiredOption('--status <url>', "the backend's Apache status page (ExtendedStatus On)")
      .requiredOption('--wait <list>', 'waits to try, in seconds or with a unit (5,18 or 500ms,2s)', durationList)
      .option('--json', 'print JSON')
      .action(async (flags: Target & { status: string; wait: number[]; json?: boolean }) => {
        const { ip, host } = await nodeOf(flags);
        const rows = await reuseExperiment({
          ip,
          port: flags.port,
          host,
          statusUrl: flags.status,
          waitsMs: flags.wait,
          sleep: wait,
          unique: () => randomUUID(),
        });
        if (flags.json) io.out(JSON.stringify({ loadBalancer: host, node: ip, rows }, null, 2));
        else {
          io.out(`pre-opened connection reuse through ${host} (node ${ip})`);
          io.out(
            alignRows([
              ['wait', 'connection age at the request', 'pre-opened'],
              ...rows.map((r) => [
                `${r.waitMs / 1000}s`,
                r.connectionAgeSeconds === null ? '-' : `${r.connectionAgeSeconds}s`,
                r.error ? `! ${r.error}` : String(r.preopened),
              ]),
            ]).join('\n'),
          );
        }
        setExit(rows.some((r) => r.error) ? EXIT.notObserved : EXIT.ok);
      }),
  );

  experiment.addCommand(
    targetOptions(
      new Command('tls').description(
        'through the load balancer to a self-signed backend: does it work, and is the backend leg TLS?',
      ),
    )
      .requiredOption(
        '--backend <host:port>',
        "the backend's TLS endpoint",
        hostPortArg((v: string) => v),
      )
      .option('--servername <name>', 'SNI name for the direct handshake')
      .option('--json', 'print JSON')
      .action(async (flags: Target & { backend: string; servername?: string; json?: boolean }) => {
        const { ip, host } = await nodeOf(flags);
        const r = await tlsExperiment({
          ip,
          port: flags.port,
          host,
          backend: flags.backend,
          servername: flags.servername,
        });
        if (flags.json) io.out(JSON.stringify(r, null, 2));
        else {
          io.out(`request through ${host} (node ${ip}): ${r.status === null ? 'failed' : `HTTP ${r.status}`}`);
          // The backend's header and its certificate's subject are the backend's text: printable.
          io.out(
            printable(
              `backend leg as the backend saw it: ${r.backendLeg ?? 'not reported (add an X-Backend-TLS header on the backend, see docs/cli.md)'}`,
            ),
          );
          io.out(
            printable(
              `backend ${flags.backend}: ${r.backend.error ?? `${r.backend.protocol} ${r.backend.cipher}; ${r.backend.selfSigned ? 'self-signed' : 'CA-signed'} ${r.backend.subject}; SHA-256 ${r.backend.fingerprint256}`}`,
            ),
          );
          if (r.error) io.out(printable(`! ${r.error}`));
        }
        setExit(r.error || r.backend.error ? EXIT.notObserved : EXIT.ok);
      }),
  );
  return experiment;
}

function formatPreopen(host: string, ip: string, rows: PreopenRow[]): string {
  return [
    `..reading.. connections after N sequential requests through ${host} (node ${ip})`,
    ...alignRows([
      ['requests', 'reading', ''],
      ...rows.map((r) => [
        String(r.requests),
        r.reading === null ? '-' : String(r.reading),
        r.error ? `! ${r.error}` : '',
      ]),
    ]),
    '(the field notes measured 0 → 1, 1 → 7, 2 → 7, 5 → 11, 8 → 14, 10 → 16, 15 → 17)',
  ].join('\n');
}
