import { summaryOf } from './catalog';
import { Command, InvalidArgumentError } from 'commander';
import pLimit from 'p-limit';
import { probeBackend } from '../../shared/backends/probe';
import { DEFAULT_FETCH_LIMITS } from '../../shared/backends/http';
import { probeTls } from '../../shared/backends/tls-probe';
import { hostPortSchema } from '../../shared/config/schema';
import { backendJson, formatBackendsTable, formatTlsTable } from '../format/backends-table';
import { EXIT, type CliIo } from '../io';
import { intArg, statusUrlArg } from './args';

function targetArg(value: string, previous: string[]): string[] {
  if (!hostPortSchema.safeParse(value).success) throw new InvalidArgumentError(`"${value}" is not HOST:PORT`);
  return [...previous, value];
}

/** `elbscope backends <status-url>...`: pre-opened connections as each backend's status page shows them. */
export function backendsCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('backends')
    .description(summaryOf('backends'))
    .argument('<status-url...>', 'Apache /server-status[?auto] or nginx stub_status URLs', statusUrlArg, [])
    .option('--timeout <ms>', 'timeout per fetch', intArg(100, 60_000), DEFAULT_FETCH_LIMITS.timeoutMs)
    .option('--accept-filter-none', 'the backends run "AcceptFilter http none" (no deferred-accept caveat)')
    .option('--json', 'print JSON')
    .action(async (urls: string[], flags: { timeout: number; acceptFilterNone?: boolean; json?: boolean }) => {
      const limit = pLimit(8);
      const reports = await Promise.all(
        urls.map((url) =>
          limit(() =>
            probeBackend(url, {
              limits: { ...DEFAULT_FETCH_LIMITS, timeoutMs: flags.timeout },
              acceptFilterNone: flags.acceptFilterNone === true,
            }),
          ),
        ),
      );
      if (flags.json) {
        io.out(JSON.stringify({ backends: reports.map(backendJson) }, null, 2));
      } else io.out(formatBackendsTable(reports));
      setExit(reports.some((r) => r.error) ? EXIT.notObserved : EXIT.ok);
    });
}

/** `elbscope tls <host:port>...`: one TLS handshake per backend, certificate facts and findings. */
export function tlsCommand(io: CliIo, setExit: (code: number) => void): Command {
  return new Command('tls')
    .description(summaryOf('tls'))
    .argument('<host:port...>', 'backend TLS endpoints', targetArg, [])
    .option('--servername <name>', 'SNI name to send (default: the host, unless it is an IP)')
    .option('--pin <sha256>', 'expected SHA-256 fingerprint (AB:CD:...)')
    .option('--timeout <ms>', 'handshake timeout', intArg(100, 60_000), 5_000)
    .option('--json', 'print JSON')
    .action(
      async (targets: string[], flags: { servername?: string; pin?: string; timeout: number; json?: boolean }) => {
        const findings = await Promise.all(
          targets.map((t) =>
            probeTls(t, { servername: flags.servername, pinSha256: flags.pin, timeoutMs: flags.timeout }),
          ),
        );
        if (flags.json) io.out(JSON.stringify({ targets: findings }, null, 2));
        else io.out(formatTlsTable(findings));
        setExit(findings.some((f) => f.error) ? EXIT.notObserved : EXIT.ok);
      },
    );
}
