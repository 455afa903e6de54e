import { readFileSync } from 'node:fs';
import { allSinks, fileSink, type AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle, recordTls, type RecordDeps } from '../../shared/cycle/record';
import type { LoadBalancerSnapshot } from '../../shared/cycle/snapshot';
import type { BackendTls } from '../../shared/cycle/tls-round';
import { Ledger } from '../../shared/ledger/ledger';
import { flushOutbox } from '../../shared/ledger/flush';
import type { Records } from '../../shared/ledger/records';
import { verifyChain } from '../../shared/ledger/chain';
import { type Store, listEvents } from '../../shared/ledger/store';
import { InjectedCrash, type Crashable } from './faulty-store';
import { nodeSnapshot } from './snapshots';

// The crash tests' script — a scale-up, a node replaced, a DNS failure and its
// recovery, a TLS failure and its end; each step one invocation at its minute —
// shared by the in-process crash test and the child process that is killed for real.

const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: DNS, backends: [{ name: 'b1', tls: { target: '127.0.0.1:1' } }] }],
    detect: { confirm: { m: 1, n: 1 } },
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  },
  'test',
);
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000);

const dnsFailure = (): LoadBalancerSnapshot => {
  const s = nodeSnapshot(DNS, []);
  s.observation.azs = {};
  s.observation.errors = [{ source: 'dns', message: `${DNS}: NXDOMAIN (the name does not exist)` }];
  return s;
};
const tls = (error: string | null): BackendTls[] => [
  {
    loadBalancer: DNS,
    backend: 'b1',
    finding: {
      target: '127.0.0.1:1',
      protocol: null,
      cipher: null,
      subject: null,
      issuer: null,
      sans: [],
      selfSigned: null,
      authorized: null,
      authorizationError: null,
      validFrom: null,
      validTo: '2027-11-25T00:00:00.000Z',
      daysLeft: error ? null : 365,
      fingerprint256: error ? null : 'AB:CD',
      publicKey: null,
      findings: [],
      error,
    },
  },
];

/** The script: each step one invocation at its minute. */
const STEPS: { minute: number; run: (deps: RecordDeps) => Promise<unknown> }[] = [
  { minute: 1, run: (d) => recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1'])], at(1).toISOString(), d) },
  { minute: 2, run: (d) => recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1', '10.0.0.2'])], at(2).toISOString(), d) },
  { minute: 3, run: (d) => recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1', '10.0.0.3'])], at(3).toISOString(), d) },
  { minute: 4, run: (d) => recordCycle(config, [dnsFailure()], at(4).toISOString(), d) },
  { minute: 5, run: (d) => recordCycle(config, [nodeSnapshot(DNS, ['10.0.0.1', '10.0.0.3'])], at(5).toISOString(), d) },
  { minute: 6, run: (d) => recordTls(config, tls(null), at(6).toISOString(), d) },
  { minute: 7, run: (d) => recordTls(config, tls('127.0.0.1:1: connection refused'), at(7).toISOString(), d) },
  { minute: 8, run: (d) => recordTls(config, tls(null), at(8).toISOString(), d) },
];

/** The events the script must store, in order (kind/status and AZ or backend). */
export const EXPECTED_EVENTS = [
  'scaled/event us-east-1a',
  'node-replaced/event us-east-1a',
  'observation-failed/firing -',
  'recovered/event -',
  'tls-failed/firing b1',
  'tls-failed/resolved b1',
];

/**
 * What each of the script's sinks got: the console's lines (event ids), SNS's publishes (event ids); the alert file is
 * read back.
 */
export interface Delivered {
  console: string[];
  sns: string[];
}

/**
 * The script's sinks, as `watch --alert-file F --sns-topic T` has them: the console,
 * the alert file, then "SNS" — the console and SNS record into `delivered`; `hooks`
 * may keep each durably first, or kill the process instead.
 */
function scriptSink(
  alertFile: string,
  delivered: Delivered,
  hooks: { onConsole?: (id: string) => void; onPublish?: (id: string) => void } = {},
): AlertSink {
  const console: AlertSink = {
    description: 'console',
    publish: async (event) => (hooks.onConsole?.(event.id), delivered.console.push(event.id), { messageId: null }),
  };
  const sns: AlertSink = {
    description: 'sns',
    publish: async (event) => (
      hooks.onPublish?.(event.id), delivered.sns.push(event.id), { messageId: `m-${delivered.sns.length}` }
    ),
  };
  return allSinks([console, fileSink(alertFile), sns]);
}

/** The event ids the alert file holds, in order (one JSON line each). */
export function filed(alertFile: string): string[] {
  let text = '';
  try {
    text = readFileSync(alertFile, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
}

/** The deps of one invocation on `store` at `clock()`. */
function scriptDeps(store: Store, sink: AlertSink, clock: () => Date, claimant: string): RecordDeps {
  return { store, sink, now: clock, claimant, leaseMs: 60_000, warn: () => undefined };
}

/**
 * Run the script from step `from` on records that die after write `crashAfter`
 * (`open(n)` opens the same store, dying after its nth write; null: never): a
 * crashed step restarts as a new process would — no crash this time, the same
 * invocation again, half a minute later — and the run goes on to the end; then,
 * once every lease has run out, a last flush. `restarted` continues a run killed
 * in step `from` (that step again, half a minute on).
 */
export async function runScript(
  open: (crashAfter: number | null) => Crashable,
  crashAfter: number | null,
  alertFile: string,
  options: {
    from?: number;
    restarted?: boolean;
    delivered?: Delivered;
    steps?: number;
    onStep?: (index: number) => void;
    onConsole?: (id: string) => void;
    onPublish?: (id: string) => void;
  } = {},
): Promise<{ delivered: Delivered; writes: number; crashes: number }> {
  const delivered = options.delivered ?? { console: [], sns: [] };
  const sink = scriptSink(alertFile, delivered, options);
  let faulty = open(crashAfter);
  let writes = 0;
  let crashes = 0;
  let clock = at(0);
  const store = () => new Ledger(faulty.records);
  for (const [i, step] of STEPS.slice(0, options.steps ?? STEPS.length).entries()) {
    if (i < (options.from ?? 0)) continue;
    options.onStep?.(i);
    clock = new Date(at(step.minute).getTime() + (options.restarted && i === options.from ? 30_000 : 0));
    for (;;) {
      try {
        await step.run(scriptDeps(store(), sink, () => clock, `run-${crashes}`));
        // recordCycle reports one load balancer's store trouble as a warning and goes on: a dead store still shows.
        if (faulty.crashed()) throw new InjectedCrash('died during the step');
        break;
      } catch (err) {
        if (!(err instanceof InjectedCrash) && !faulty.crashed()) throw err;
        crashes++;
        writes += faulty.writes();
        faulty = open(null);
        clock = new Date(clock.getTime() + 30_000);
      }
    }
  }
  clock = at(60);
  await flushOutbox(scriptDeps(store(), sink, () => clock, 'late'));
  writes += faulty.writes();
  return { delivered, writes, crashes };
}

/** What a store holds at the end: its events (kind, status, scope, time) in order, the outbox, and the chain check. */
export async function outcome(records: Records) {
  const store = new Ledger(records);
  const lb = 'web';
  const events = await listEvents(store, lb);
  const state = await store.getState(lb);
  return {
    events: events.map(
      (e) =>
        `${e.record.seq} ${e.record.kind}/${e.record.status} ${e.record.az ?? e.record.backend ?? '-'} ${e.record.at}`,
    ),
    ids: events.map((e) => e.record.id),
    unpublished: events.filter((e) => e.publishedAt === null).map((e) => e.record.id),
    outbox: (await store.outbox({ op: 'list' })).length,
    chain: verifyChain(lb, events, state?.state.head.chain ?? null),
  };
}

/**
 * What went wrong in a crashed run, against the uncrashed run's outcome (empty: nothing): per sink, each event exactly
 * once.
 */
export function problemsOf(
  label: string,
  run: { delivered: Delivered; crashes: number; filed: string[] },
  got: Awaited<ReturnType<typeof outcome>>,
  expected: Awaited<ReturnType<typeof outcome>>,
): string[] {
  const problems: string[] = [];
  if (run.crashes !== 1) problems.push(`${label}: ${run.crashes} crashes`);
  if (JSON.stringify(got.events) !== JSON.stringify(expected.events))
    problems.push(`${label}: events ${JSON.stringify(got.events)}`);
  for (const [sink, ids] of [
    ['the console', run.delivered.console],
    ['the alert file', run.filed],
    ['SNS', run.delivered.sns],
  ] as const) {
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (twice.length > 0) problems.push(`${label}: ${sink} got ${twice.join(', ')} twice`);
    const missing = got.ids.filter((id) => !ids.includes(id));
    if (missing.length > 0) problems.push(`${label}: ${sink} never got ${missing.join(', ')}`);
  }
  if (got.unpublished.length > 0 || got.outbox > 0)
    problems.push(`${label}: ${got.unpublished.length} without a receipt, ${got.outbox} left in the outbox`);
  if (got.chain) problems.push(`${label}: chain broken: ${got.chain.reason}`);
  return problems;
}
