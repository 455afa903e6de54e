import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../../shared/alerts/sinks';
import { parseConfig } from '../../../shared/config/load';
import { recordCycle, type RecordDeps } from '../../../shared/cycle/record';
import { flushOutbox } from '../../../shared/ledger/flush';
import type { ChainedEvent } from '../../../shared/detect/state';
import { verifyChain } from '../../../shared/ledger/chain';
import { checkObservations, readObservations } from '../../../shared/report/build';
import { Ledger } from '../../../shared/ledger/ledger';
import type { Records } from '../../../shared/ledger/records';
import { DynamoDbRecords } from '../../../shared/store/dynamodb';
import { LocalRecords } from '../../../shared/store/local';
import { type Store, listEvents } from '../../../shared/ledger/store';
import { createTable, startDynalite } from '../../helpers/dynalite';
import { faultyRecords, InjectedCrash } from '../../helpers/faulty-store';
import { nodeSnapshot } from '../../helpers/snapshots';

// Two invocations on one load balancer at once (an overlapping schedule, a retry
// beside the original, two `watch` processes on one store): each cycle, both record
// and flush the same snapshot side by side, through their own store objects. The
// events are decided once, chained once, and each published once.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: DNS }],
    detect: { confirm: { m: 1, n: 1 } },
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  },
  'test',
);
const T0 = Date.parse('2026-11-25T10:00:00Z');
const script = [
  ['10.0.0.1'],
  ['10.0.0.1', '10.0.0.2'],
  ['10.0.0.1', '10.0.0.3'],
  ['10.0.0.1', '10.0.0.3', '10.0.0.4'],
  ['10.0.0.5', '10.0.0.3', '10.0.0.4'],
];

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.stop());

describe.each([
  [
    'a local directory',
    async (): Promise<() => Records> => {
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-race-'));
      return () => new LocalRecords(dir);
    },
  ],
  [
    'DynamoDB (dynalite)',
    async (): Promise<() => Records> => {
      const table = `race-${Math.random().toString(36).slice(2)}`;
      await createTable(dynamo.client, table);
      return () => new DynamoDbRecords(dynamo.client, table);
    },
  ],
] as const)('Two writers racing on one load balancer: %s', (_name, open) => {
  it('decides, chains and publishes every event once', async () => {
    const recordsFor = await open();
    const storeFor = () => new Ledger(recordsFor());
    const published: string[] = [];
    // A publish takes a moment, as SNS's does: the other writer reaches the outbox meanwhile.
    // (On a loaded machine the race may come out sequential instead: the test then checks less, never wrongly.)
    const sink: AlertSink = {
      description: 'recording',
      publish: async (e: ChainedEvent) => (
        published.push(e.id), await new Promise((r) => setTimeout(r, 100)), { messageId: null }
      ),
    };
    for (let i = 0; i < script.length; i++) {
      const at = new Date(T0 + i * 60_000);
      const deps = (claimant: string): RecordDeps => ({
        store: storeFor(),
        sink,
        now: () => at,
        claimant,
        leaseMs: 60_000,
      });
      await Promise.all(
        ['a', 'b'].map((c) => recordCycle(config, [nodeSnapshot(DNS, script[i]!)], at.toISOString(), deps(c))),
      );
    }
    await flushOutbox({ store: storeFor(), sink, now: () => new Date(T0 + 3_600_000), claimant: 'late' });
    expect(await problems(storeFor(), published)).toEqual([]);
  }, 60_000);

  it("a writer that loses the commit after storing its observation leaves the winner's intact (same cycle time, different snapshots)", async () => {
    const recordsFor = await open();
    const at = new Date(T0);
    const deps = (store: Store): RecordDeps => ({
      store,
      sink: { description: 'none', publish: async () => ({ messageId: null }) },
      now: () => at,
      claimant: 'x',
      warn: () => undefined,
    });
    const cycle = (store: Store, ips: string[]) =>
      recordCycle(config, [nodeSnapshot(DNS, ips)], at.toISOString(), deps(store));
    // Writer a has stored its observation and is about to commit when writer b, which saw another answer, commits
    // first.
    let raced = false;
    const inner = recordsFor();
    const a = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (prop !== 'putIfVersion' || typeof value !== 'function')
          return typeof value === 'function' ? value.bind(target) : value;
        return async (...args: Parameters<Records['putIfVersion']>) => {
          if (args[0].kind === 'state' && !raced) {
            raced = true;
            await cycle(new Ledger(recordsFor()), ['10.0.0.1', '10.0.0.2']);
          }
          return (value as Records['putIfVersion']).apply(target, args);
        };
      },
    });
    await cycle(new Ledger(a), ['10.0.0.1']);
    expect(raced).toBe(true);
    const store = new Ledger(recordsFor());
    const state = (await store.getState('web'))?.state ?? null;
    const check = checkObservations(
      'web',
      await readObservations(store, 'web'),
      state?.head.observationChain ?? null,
      new Date(T0 + 3_600_000),
    );
    expect(check).toMatchObject({ verified: 1, uncommitted: 1, firstBreak: null });
  });

  it('the same when one of them dies after any of its writes and is restarted, the other carrying on', async () => {
    // Writer a's writes in uncrashed races size the crash points: the most of three, as a
    // loaded machine can run a race nearly in turn (a then writes only its floor: an
    // observation and a commit attempt a cycle), which would leave later points untried.
    let most = 0;
    for (let i = 0; i < 3; i++) most = Math.max(most, (await race(await open(), null)).writes);
    expect(most).toBeGreaterThanOrEqual(2 * script.length);
    const found: string[] = [];
    for (let n = 1; n <= most; n++) {
      const recordsFor = await open();
      const run = await race(recordsFor, n);
      // How much writer a writes depends on how the race falls: a point past its writes this time is no crash point.
      if (!run.crashed && run.writes >= n) found.push(`crash after write ${n}: writer a never died`);
      found.push(
        ...(await problems(new Ledger(recordsFor()), run.published)).map((p) => `crash after write ${n}: ${p}`),
      );
    }
    expect(found).toEqual([]);
  }, 120_000);
});

/**
 * Both writers record and flush each cycle side by side; writer a's records die
 * after its write `crashAfter` (null: never), and it restarts (a new process, the
 * same cycle half a minute later) while b goes on. Then a late flush.
 */
async function race(
  recordsFor: () => Records,
  crashAfter: number | null,
): Promise<{ published: string[]; writes: number; crashed: boolean }> {
  const published: string[] = [];
  // A publish yields, as SNS's answer does: the other writer reaches the outbox meanwhile.
  const sink: AlertSink = {
    description: 'recording',
    publish: async (e: ChainedEvent) => (
      published.push(e.id), await new Promise((r) => setTimeout(r, 2)), { messageId: null }
    ),
  };
  let a = faultyRecords(recordsFor(), crashAfter);
  let writes = 0;
  let crashed = false;
  for (let i = 0; i < script.length; i++) {
    const at = new Date(T0 + i * 60_000);
    const deps = (store: Store, claimant: string, when = at): RecordDeps => ({
      store,
      sink,
      now: () => when,
      claimant,
      leaseMs: 60_000,
      warn: () => undefined,
    });
    const cycle = (store: Store, claimant: string, when = at) =>
      recordCycle(config, [nodeSnapshot(DNS, script[i]!)], at.toISOString(), deps(store, claimant, when));
    const writerA = cycle(new Ledger(a.records), 'a').catch((err: unknown) => {
      if (!(err instanceof InjectedCrash)) throw err;
      return [];
    });
    await Promise.all([writerA, cycle(new Ledger(recordsFor()), 'b')]);
    if (a.crashed()) {
      // Dead: restarted as a new process, the same cycle half a minute later.
      crashed = true;
      writes += a.writes();
      a = faultyRecords(recordsFor(), null);
      await cycle(new Ledger(a.records), 'a-restarted', new Date(at.getTime() + 30_000));
    }
  }
  await flushOutbox({ store: new Ledger(recordsFor()), sink, now: () => new Date(T0 + 3_600_000), claimant: 'late' });
  return { published, writes: writes + a.writes(), crashed };
}

/**
 * What is wrong with the store after a race (empty: nothing): the events, each published once, the chain, the outbox.
 */
async function problems(store: Store, published: string[]): Promise<string[]> {
  const events = await listEvents(store, 'web');
  const found: string[] = [];
  const kinds = events.map((e) => `${e.record.kind} ${e.record.az}`);
  if (
    JSON.stringify(kinds) !==
    JSON.stringify(['scaled us-east-1a', 'node-replaced us-east-1a', 'scaled us-east-1a', 'node-replaced us-east-1a'])
  )
    found.push(`events ${JSON.stringify(kinds)}`);
  if (JSON.stringify([...published].sort()) !== JSON.stringify(events.map((e) => e.record.id).sort()))
    found.push(`published ${JSON.stringify(published)}`);
  if (!events.every((e) => e.publishedAt !== null)) found.push('an event without a receipt');
  const state = (await store.getState('web'))?.state ?? null;
  const broken = verifyChain('web', events, state?.head.chain ?? null);
  if (broken) found.push(`chain: ${broken.reason}`);
  // The observations too: a writer whose commit lost wrote one the chain does not hold; never a break.
  const observations = checkObservations(
    'web',
    await readObservations(store, 'web'),
    state?.head.observationChain ?? null,
    new Date(T0 + 3_600_000),
  );
  if (observations.firstBreak) found.push(`observations: ${observations.firstBreak.reason}`);
  if (observations.verified < script.length) found.push(`observations: ${observations.verified} verified`);
  if ((await store.outbox({ op: 'list' })).length > 0) found.push('left in the outbox');
  return found;
}
