import type { Command } from 'commander';
import { UsageError } from '../../shared/errors';
import type { CliIo } from '../io';

/** What every command's factory may need. */
export interface CommandContext {
  io: CliIo;
  setExit: (code: number) => void;
  signal: AbortSignal;
  now: () => Date;
}

/** One top-level command: its name and summary for help, and how to load it. */
export interface CatalogEntry {
  name: string;
  summary: string;
  /** Loads the command's module (and only it) and builds the commander command. */
  load: (ctx: CommandContext) => Promise<Command>;
}

/**
 * Every top-level command. Why a catalog: importing a command's module loads what
 * it uses (the AWS SDK clients, the lab's DNS server, zod schemas), so the CLI
 * imports only the module of the command it runs; `elbscope --help` loads none.
 * Each summary is the command's description: the module sets it from here.
 */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'observe',
    summary:
      'resolve load balancer DNS names to their nodes, EC2 host names and Availability Zones; with --backend, their ..reading.. connections too',
    load: async (c) => (await import('./observe')).observeCommand(c.io, c.setExit),
  },
  {
    name: 'backends',
    summary: 'read Apache mod_status or nginx stub_status pages: ..reading.. (pre-opened) connections per backend',
    load: async (c) => (await import('./backends')).backendsCommand(c.io, c.setExit),
  },
  {
    name: 'tls',
    summary: 'handshake with backends: protocol, cipher, certificate, self-signed, expiry, SHA-256 fingerprint',
    load: async (c) => (await import('./backends')).tlsCommand(c.io, c.setExit),
  },
  {
    name: 'watch',
    summary: 'observe, detect changes, store and alert in a loop (the local twin of the scheduled functions)',
    load: async (c) => (await import('./watch')).watchCommand(c.io, c.setExit, c.signal),
  },
  {
    name: 'events',
    summary: 'list stored events (the audit trail)',
    load: async (c) => (await import('./audit')).eventsCommand(c.io, c.setExit),
  },
  {
    name: 'alert-test',
    summary: 'send one test alert through the configured sinks and say whether each accepted it',
    load: async (c) => (await import('./alerts')).alertTestCommand(c.io, c.setExit, c.now),
  },
  {
    name: 'redeliver',
    summary: 'retry an undeliverable alert once its cause is fixed',
    load: async (c) => (await import('./alerts')).redeliverCommand(c.io, c.setExit, c.now),
  },
  {
    name: 'verify',
    summary: 'recompute the audit chain of every load balancer',
    load: async (c) => (await import('./audit')).verifyCommand(c.io, c.setExit),
  },
  {
    name: 'prewarm',
    summary: 'record a pre-warm target (for example one requested from AWS support)',
    load: async (c) => (await import('./audit')).prewarmCommand(c.io, c.setExit, c.now),
  },
  {
    name: 'report',
    summary: 'a report for a support case: timeline, nodes per AZ, R per backend, pre-warms, TLS, chain check',
    load: async (c) => (await import('./audit')).reportCommand(c.io, c.setExit, c.now),
  },
  {
    name: 'start',
    summary:
      'watch a simulated load balancer on loopback go through a scenario, with alerts and a report (no AWS account needed)',
    load: async (c) => (await labModule(() => import('./start'))).startCommand(c.io, c.setExit, c.signal),
  },
  {
    name: 'lab',
    summary:
      'run the simulated load balancer on loopback (DNS, EC2, proxy nodes, backends) and its scenario, until Ctrl-C',
    load: async (c) => (await labModule(() => import('./lab'))).labCommand(c.io, c.setExit, c.signal),
  },
  {
    name: 'experiment',
    summary: "run the field notes' experiments against a load balancer (real or the lab)",
    load: async (c) => (await import('./experiment')).experimentCommand(c.io, c.setExit),
  },
  {
    name: 'doctor',
    summary:
      'before a deploy, check without side effects what the functions will need: credentials, role permissions, names, ENIs, CloudWatch, the SNS topic, the seal key',
    load: async (c) => (await import('./doctor')).doctorCommand(c.io, c.setExit, c.signal),
  },
  {
    name: 'discover',
    summary: 'find load balancers by tag (Classic and v2) in regions and accounts, with their backends',
    load: async (c) => (await import('./discover')).discoverCommand(c.io, c.setExit),
  },
];

/** The summary a command module gives its commander command (one text, here). */
export function summaryOf(name: string): string {
  const entry = CATALOG.find((e) => e.name === name);
  if (!entry) throw new Error(`no command ${name} in the catalog`);
  return entry.summary;
}

/** The packages only the development install has; the lab needs some of them (dns2). */
const DEV_ONLY = /Cannot find (?:package|module) '([^']+)'/;

/**
 * Load a lab module, turning "package missing" after `npm ci --omit=dev` into one
 * line that says what to do, instead of a stack trace.
 */
async function labModule<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const missing =
      err instanceof Error && (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
        ? DEV_ONLY.exec(err.message)?.[1]
        : undefined;
    if (missing) throw new LabNeedsDevInstall(missing);
    throw err;
  }
}

/** The lab's simulated servers come with the development install only. */
class LabNeedsDevInstall extends UsageError {
  constructor(readonly missing: string) {
    super(
      `the lab (start, lab) needs the development install: run npm ci without --omit=dev (missing package ${missing})`,
    );
  }
}
