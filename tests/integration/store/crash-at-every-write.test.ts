import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { flushOutbox, recordCycle, recordTls, type RecordDeps } from '../../../shared/cycle/record';
import type { LoadBalancerSnapshot } from '../../../shared/cycle/snapshot';
import type { BackendTls } from '../../../shared/cycle/tls-round';
import type { ChainedEvent } from '../../../shared/detect/state';
import { verifyChain } from '../../../shared/store/chain';
import { DynamoDbStore } from '../../../shared/store/dynamodb';
import { LocalStore } from '../../../shared/store/local';
import type { Store } from '../../../shared/store/store';
import { createTable, startDynalite } from '../../helpers/dynalite';
import { InjectedCrash, crashingDynamoClient, faultyStore, type Crashable } from '../../helpers/faulty-store';
import { nodeSnapshot } from '../../helpers/snapshots';

// "Nothing lost, nothing twice", proven by crashing: a scripted run (a scale-up, a
// node replaced, a DNS failure and its recovery, a TLS failure and its end) is run
// once whole, then once per write with the store killed right after that write;
// each time the run restarts (the same cycle again, as Lambda retries it) and goes
// on to the end. Every run must store the same events, publish each exactly once
// (a recording sink counts), leave no outbox behind, and verify. Both adapters.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig({
  loadBalancers: [{ dnsName: DNS, backends: [{ name: 'b1', tls: { target: '127.0.0.1:1' } }] }],
  detect: { confirm: { m: 1, n: 1 } },
  capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
}, 'test');
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000);

const dnsFailure = (): LoadBalancerSnapshot => {
  const s = nodeSnapshot(DNS, []);
  s.observation.azs = {};
  s.observation.errors = [{ source: 'dns', message: `${DNS}: NXDOMAIN (the name does not exist)` }];
  return s;
};
const tls = (error: string | null): BackendTls[] => [{ loadBalancer: DNS, backend: 'b1', finding: { target: '127.0.0.1:1', protocol: null, cipher: null, subject: null, issuer: null, sans: [], selfSigned: null, authorized: null, authorizationError: null, validFrom: null, validTo: '2027-11-25T00:00:00.000Z', daysLeft: error ? null : 365, fingerprint256: error ? null : 'AB:CD', publicKey: null, findings: [], error } }];

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

/** Run the script on a store that dies after write `crashAfter` (`open(n)` opens the same store, dying after its nth write; null: never). */
async function runScript(open: (crashAfter: number | null) => Crashable, crashAfter: number | null): Promise<{ published: string[]; writes: number; crashes: number }> {
  const published: string[] = [];
  const sink: AlertSink = { description: 'recording', publish: async (event: ChainedEvent) => (published.push(event.id), { messageId: `m-${published.length}` }) };
  let faulty = open(crashAfter);
  let writes = 0;
  let crashes = 0;
  let clock = at(0);
  const deps = (store: Store): RecordDeps => ({ store, sink, now: () => clock, claimant: `run-${crashes}`, leaseMs: 60_000, warn: () => undefined });
  for (const step of STEPS) {
    clock = at(step.minute);
    for (;;) {
      try {
        await step.run(deps(faulty.store));
        // recordCycle reports one load balancer's store trouble as a warning and goes on: a dead store still shows.
        if (faulty.crashed()) throw new InjectedCrash('died during the step');
        break;
      } catch (err) {
        if (!(err instanceof InjectedCrash) && !faulty.crashed()) throw err;
        // Restarted: a new process (no crash this time), the same invocation again, half a minute later.
        crashes++;
        writes += faulty.writes();
        faulty = open(null);
        clock = new Date(clock.getTime() + 30_000);
      }
    }
  }
  // Later, once every lease has run out: whatever a crash left queued goes out.
  clock = at(60);
  await flushOutbox(deps(faulty.store));
  writes += faulty.writes();
  return { published, writes, crashes };
}

/** What a store holds at the end: its events (kind, status, scope, time) in order, the outbox, and the chain check. */
async function outcome(store: Store) {
  const lb = 'web';
  const events = await store.listEvents(lb);
  const state = await store.getState(lb);
  return {
    events: events.map((e) => `${e.record.seq} ${e.record.kind}/${e.record.status} ${e.record.az ?? e.record.backend ?? '-'} ${e.record.at}`),
    ids: events.map((e) => e.record.id),
    unpublished: events.filter((e) => e.publishedAt === null).map((e) => e.record.id),
    outbox: (await store.listOutbox()).length,
    chain: verifyChain(lb, events, state?.state.chain ?? null),
  };
}

describe.each([
  // The local store crashes after a Store method's writes (its file operations are not counted apart).
  ['a local directory (crash after each Store write)', async () => {
    const inner = new LocalStore(mkdtempSync(join(tmpdir(), 'elbscope-crash-')));
    return { open: (n: number | null): Crashable => faultyStore(inner, n), store: inner };
  }],
  // DynamoDB crashes after each of the table's own write requests.
  ['DynamoDB (dynalite; crash after each PutItem/UpdateItem/DeleteItem)', async () => {
    const table = `crash-${Math.random().toString(36).slice(2)}`;
    await createTable(dynamo.client, table);
    return {
      open: (n: number | null): Crashable => {
        const c = crashingDynamoClient(dynamo.endpoint, n);
        return { store: new DynamoDbStore(c.client, table), writes: c.writes, crashed: c.crashed };
      },
      store: new DynamoDbStore(dynamo.client, table),
    };
  }],
] as const)('Crashing the store after every write: %s', (_name, fresh) => {
  it('stores the same events, publishes each exactly once, leaves no outbox, and verifies, whichever write the crash follows', async () => {
    const reference = await fresh();
    const clean = await runScript(reference.open, null);
    const expected = await outcome(reference.store);
    expect(expected.events.map((e) => e.replace(/^\d+ /, '').replace(/ \S+$/, ''))).toEqual([
      'scaled/event us-east-1a', 'node-replaced/event us-east-1a', 'observation-failed/firing -', 'recovered/event -', 'tls-failed/firing b1', 'tls-failed/resolved b1',
    ]);
    expect(clean.published.sort()).toEqual([...expected.ids].sort());
    expect(clean.writes).toBeGreaterThan(20);

    const problems: string[] = [];
    for (let n = 1; n <= clean.writes; n++) {
      const { open, store } = await fresh();
      const run = await runScript(open, n);
      const got = await outcome(store);
      const twice = run.published.filter((id, i) => run.published.indexOf(id) !== i);
      const label = `crash after write ${n}`;
      if (run.crashes !== 1) problems.push(`${label}: ${run.crashes} crashes`);
      if (JSON.stringify(got.events) !== JSON.stringify(expected.events)) problems.push(`${label}: events ${JSON.stringify(got.events)}`);
      if (twice.length > 0) problems.push(`${label}: published twice ${twice.join(', ')}`);
      const missing = got.ids.filter((id) => !run.published.includes(id));
      if (missing.length > 0) problems.push(`${label}: never published ${missing.join(', ')}`);
      if (got.unpublished.length > 0 || got.outbox > 0) problems.push(`${label}: ${got.unpublished.length} without a receipt, ${got.outbox} left in the outbox`);
      if (got.chain) problems.push(`${label}: chain broken: ${got.chain.reason}`);
    }
    expect(problems).toEqual([]);
  }, 240_000);
});

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.stop());
