import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSinks, type AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle } from '../../shared/cycle/record';
import type { ChainedEvent } from '../../shared/detect/state';
import type { LoadBalancerState } from '../../shared/ledger/state';
import type { PrewarmTarget } from '../../shared/detect/rules';
import { receiptHash, type Ledger } from '../../shared/ledger/ledger';
import type { RecordKey } from '../../shared/ledger/records';
import { keyFilePort, Sealer, sha256, type MacPort } from '../../shared/ledger/seal';
import { auditLoadBalancer } from '../../shared/report/build';
import { canonicalJson } from '../../shared/canonical-json';
import { observationHash, prewarmHash, recordHash } from '../../shared/ledger/chain';
import { dynamoDbStore } from '../../shared/store/dynamodb';
import { localStore } from '../../shared/store/local';
import { type StoredObservation, listEvents } from '../../shared/ledger/store';
import { runCli } from '../../cli/program';
import { createTable, startDynalite } from '../helpers/dynalite';
import { nodeSnapshot } from '../helpers/snapshots';
import { eventKey } from '../../shared/ledger/keys';

// The audit is sealed with a key kept outside the store. Whoever can write the
// store (a bucket, a table) but has no key — and knows the public scheme: SHA-256
// over canonical JSON — edits receipts, the state, pre-warm targets and whole
// chains. None of it passes `verify`, none of it silences a queued alert, and a
// forged pre-warm target never brings a "pre-warm complete".

const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const LB = 'web';
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: DNS }],
    detect: { confirm: { m: 1, n: 1 } },
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  },
  'test',
);
const at = (m: number) => new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
const NODES = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];

/** A sink that records what it was given, or one that is down. */
function recorder(): AlertSink & { got: ChainedEvent[] } {
  const got: ChainedEvent[] = [];
  return {
    description: 'recorder',
    got,
    publish: async (e: ChainedEvent) => (got.push(e), { messageId: `m-${e.seq}` }),
  };
}
const down: AlertSink = {
  description: 'down',
  publish: async () => Promise.reject(Object.assign(new Error('down'), { name: 'InternalError' })),
};

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.stop());

/** A store of one adapter, opened again (same directory or table) with any key, or none. */
type Opener = (seal?: MacPort) => Ledger;
const adapters: Record<string, () => Promise<Opener>> = {
  'a local directory': async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-forged-'));
    return (seal) => localStore(dir, seal ? { seal } : {});
  },
  'DynamoDB (dynalite)': async () => {
    const table = `forged-${Math.random().toString(36).slice(2)}`;
    await createTable(dynamo.client, table);
    return (seal) => dynamoDbStore(dynamo.client, table, seal ? { seal } : {});
  },
};

const newKey = () => join(mkdtempSync(join(tmpdir(), 'elbscope-key-')), 'seal.key');

/** One cycle over `ips` at minute `m`. */
async function cycle(store: Ledger, m: number, ips: string[], sink: AlertSink) {
  return recordCycle(config, [nodeSnapshot(DNS, ips)], at(m), {
    store,
    sink,
    now: () => new Date(at(m)),
    claimant: 't',
  });
}

/**
 * A sealed store: a baseline, a pre-warm target of 5 nodes per AZ (not reached), a
 * scale-up published (#1, a receipt), a second one queued (#2, its sink down).
 */
async function seeded(open: Opener, key: string) {
  const store = open(keyFilePort(key, { create: true }));
  await cycle(store, 0, NODES.slice(0, 1), recorder());
  await store.prewarms({
    op: 'put',
    target: {
      id: 'pw-1',
      loadBalancer: LB,
      nodesPerAz: 5,
      total: null,
      deadline: null,
      caseId: '42',
      requestedAt: at(0),
    },
  });
  await cycle(store, 1, NODES.slice(0, 2), recorder());
  await cycle(store, 2, NODES, down);
  const events = (await listEvents(store, LB)).map((e) => e.record);
  expect(events.map((e) => [e.seq, e.kind])).toEqual([
    [1, 'scaled'],
    [2, 'scaled'],
  ]);
  expect((await store.outbox({ op: 'list' })).map((e) => e.record.seq)).toEqual([2]);
  return { store, events };
}

// The forger's tools: the store's primitives and the public scheme.
const stateKey: RecordKey = { kind: 'state', lb: LB, id: 'state' };
async function rewriteState(store: Ledger, edit: (state: LoadBalancerState, value: Record<string, unknown>) => void) {
  const found = (await store.records.get(stateKey))!;
  const value = structuredClone(found.value) as Record<string, unknown> & { state: LoadBalancerState };
  edit(value.state, value);
  value.digest = createHash('sha256').update(JSON.stringify(value.state)).digest('hex');
  expect(await store.records.putIfVersion(stateKey, value, found.version)).toBe(true);
}
async function rewriteEvents(store: Ledger, edit: (events: ChainedEvent[]) => void) {
  const events = (await store.records.query('event', LB)).map((r) => structuredClone(r.value) as ChainedEvent);
  edit(events);
  let prev = '0'.repeat(64);
  for (const e of events) {
    e.prevHash = prev;
    e.hash = recordHash(e);
    prev = e.hash;
    await store.records.put(eventKey(LB, e.seq), e);
  }
  // The state's chain head, and its digest, recomputed to match (its seal cannot be).
  await rewriteState(store, (s) => (s.head.chain = { seq: events.at(-1)!.seq, hash: prev }));
}

/** What the audit of `web` says: its first break, a rebuilt state, and whether seals could be checked. */
async function audit(store: Ledger) {
  const a = await auditLoadBalancer(store, LB, new Date(at(30)));
  return {
    firstBreak: a.firstBreak?.reason ?? null,
    recovered: a.state?.recovered?.reason ?? null,
    seals: a.sealCheck,
  };
}

/** Forgeries of the sealed store, each with what `verify` must name. */
const forgeries: [string, (s: { store: Ledger; events: ChainedEvent[] }) => Promise<void>, RegExp][] = [
  [
    'a receipt with no seal beside the queued alert',
    async ({ store, events }) => {
      await store.records.put({ kind: 'receipt', lb: LB, id: events[1]!.id }, { publishedAt: at(3), messageId: 'x' });
    },
    /the receipt of record #2 carries no seal/,
  ],
  [
    'a receipt for the queued alert sealed by the public scheme',
    async ({ store, events }) => {
      const e = events[1]!;
      const body = {
        eventId: e.id,
        seq: e.seq,
        eventHash: e.hash,
        publishedAt: at(3),
        messageId: 'x',
        deliveryError: null,
      };
      await store.records.put({ kind: 'receipt', lb: LB, id: e.id }, { ...body, hash: receiptHash(body) });
    },
    /the receipt of record #2 carries no seal/,
  ],
  [
    'a receipt for the queued alert with the seal of another receipt',
    async ({ store, events }) => {
      const sealed = (await store.records.get({ kind: 'receipt', lb: LB, id: events[0]!.id }))!.value as Record<
        string,
        unknown
      >;
      const e = events[1]!;
      const body = {
        eventId: e.id,
        seq: e.seq,
        eventHash: e.hash,
        publishedAt: at(3),
        messageId: 'x',
        deliveryError: null,
      };
      await store.records.put(
        { kind: 'receipt', lb: LB, id: e.id },
        { ...body, hash: receiptHash(body), seal: sealed.seal },
      );
    },
    /the receipt of record #2 its seal does not verify/,
  ],
  [
    'a published receipt edited (its hash recomputed, its seal kept)',
    async ({ store, events }) => {
      const key: RecordKey = { kind: 'receipt', lb: LB, id: events[0]!.id };
      const value = (await store.records.get(key))!.value as Record<string, unknown>;
      const edited = { ...value, publishedAt: at(9) };
      await store.records.put(key, { ...edited, hash: receiptHash(edited) });
    },
    /the receipt of record #1 its seal does not verify/,
  ],
  [
    "a false alert put in the state's pending list, its digest recomputed",
    async ({ store, events }) => {
      const last = events[1]!;
      const fake = {
        ...last,
        id: 'f0f0f0f0f0f0f0f0f0f0f0f0',
        seq: 3,
        prevHash: last.hash,
        summary: 'web: all nodes lost',
        seal: last.seal,
      };
      await rewriteState(store, (s) => {
        s.head.pending = [{ ...fake, hash: recordHash(fake) }];
        s.head.chain = { seq: 3, hash: recordHash(fake) };
      });
    },
    /seal does not verify/,
  ],
  [
    'the state with its seal removed and its digest recomputed',
    async ({ store }) => {
      await rewriteState(store, (s, v) => {
        s.memory.prewarm = { 'pw-1': 'complete' };
        delete v.seal;
      });
    },
    /carries no seal, but the event it names as its chain head \(#2\) is from after keys/,
  ],
  [
    'a pre-warm target edited to what is reached, and its digest in the state',
    async ({ store }) => {
      const key: RecordKey = { kind: 'prewarm', lb: LB, id: 'pw-1' };
      const target = { ...((await store.records.get(key))!.value as PrewarmTarget), nodesPerAz: 1 };
      await store.records.put(key, target);
      await rewriteState(store, (s) => (s.head.prewarmDigests = { 'pw-1': prewarmHash(target) }));
    },
    /seal does not verify/,
  ],
  [
    'a pre-warm target written into the store',
    async ({ store }) => {
      await store.records.put(
        { kind: 'prewarm', lb: LB, id: 'pw-9' },
        { id: 'pw-9', loadBalancer: LB, nodesPerAz: 1, total: null, deadline: null, caseId: '43', requestedAt: at(2) },
      );
    },
    /pre-warm target pw-9 carries no seal/,
  ],
  [
    'the event chain rewritten from its first record (hashes, links and the head recomputed)',
    async ({ store }) => {
      await rewriteEvents(
        store,
        (events) => (events[0]!.summary = 'web us-east-1a scaled 1 → 2 nodes (nothing to see)'),
      );
    },
    /seal does not verify/,
  ],
  [
    'an event with its seal removed',
    async ({ store }) => {
      const key: RecordKey = eventKey(LB, 1);
      const { seal: _gone, ...bare } = (await store.records.get(key))!.value as ChainedEvent;
      await store.records.put(key, bare);
    },
    /record #1 carries no seal, but every record since/,
  ],
  [
    'the observation chain rewritten (hashes, links, seals dropped, the head recomputed)',
    async ({ store }) => {
      const stored = await store.records.query('observation', LB);
      let head: { seq: number; hash: string; expiresAt: string } | null = null;
      for (const found of stored) {
        const { seal: _gone, ...o } = structuredClone(found.value) as StoredObservation;
        if (o.seq === 1)
          (o.snapshot as { observation: { azs: Record<string, unknown> } }).observation.azs = {
            'us-east-1a': { provisioned: 9, advertised: 9 },
          };
        o.prevHash = head?.hash ?? '0'.repeat(64);
        o.hash = observationHash(o);
        head = { seq: o.seq as number, hash: o.hash, expiresAt: o.expiresAt as string };
        await store.records.delete({ kind: 'observation', lb: LB, id: found.id });
        await store.records.put({ kind: 'observation', lb: LB, id: `${o.at}.${o.hash.slice(0, 12)}` }, o);
      }
      await rewriteState(store, (s) => (s.head.observationChain = head!));
    },
    /seal does not verify/,
  ],
];

describe.each(Object.keys(adapters))('A forger without the key (%s)', (adapter) => {
  it('the sealed store verifies: every record sealed, none before keys', async () => {
    const open = await adapters[adapter]!();
    const key = newKey();
    await seeded(open, key);
    const result = await audit(open(keyFilePort(key, { create: false })));
    expect(result.firstBreak).toBeNull();
    expect(result.recovered).toBeNull();
    expect(result.seals).toMatchObject({ unchecked: 0, beforeKeys: 0, firstBreak: null });
    expect(result.seals!.sealed).toBeGreaterThan(6);
  });

  it.each(forgeries)(
    '%s: verify names it, and the queued alert is still published',
    async (_label, forge, named) => {
      const open = await adapters[adapter]!();
      const key = newKey();
      const seed = await seeded(open, key);
      await forge(seed);
      const store = open(keyFilePort(key, { create: false }));
      const result = await audit(store);
      expect(`${result.recovered ?? ''} | ${result.firstBreak ?? ''}`).toMatch(named);
      // The next cycle (3 nodes still: no new event) publishes the alert that was queued, and nothing forged.
      const sink = recorder();
      const decided = await cycle(store, 3, NODES, sink);
      expect(sink.got.map((e) => e.seq)).toContain(2);
      expect(sink.got.map((e) => e.summary)).not.toContain('web: all nodes lost');
      expect(decided.map((e) => e.kind)).not.toContain('prewarm-complete');
      expect((await listEvents(store, LB)).map((e) => e.record.kind)).not.toContain('prewarm-complete');
    },
    30_000,
  );

  it('a forged pre-warm target is never acted on, however the state is edited', async () => {
    const open = await adapters[adapter]!();
    const key = newKey();
    const seed = await seeded(open, key);
    // Reached by the 3 nodes there are: a false "pre-warm complete" if the cycle believed it.
    const forged = {
      id: 'pw-9',
      loadBalancer: LB,
      nodesPerAz: 1,
      total: null,
      deadline: null,
      caseId: '43',
      requestedAt: at(0),
    };
    await seed.store.records.put({ kind: 'prewarm', lb: LB, id: 'pw-9' }, forged);
    const store = open(keyFilePort(key, { create: false }));
    expect((await store.prewarms({ op: 'list', lb: LB })).map((t) => t.id)).toEqual(['pw-1']);
    const decided = [...(await cycle(store, 3, NODES, recorder())), ...(await cycle(store, 4, NODES, recorder()))];
    expect(decided.map((e) => e.kind)).not.toContain('prewarm-complete');
  }, 30_000);
});

describe('Seals without the key, and records from before keys (a local directory, the CLI)', () => {
  async function verify(dir: string, key: string) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['verify', '--store', dir, '--seal-key', key], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: {},
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('verify names a forged receipt in one line (exit 1), and says intact with every seal verified otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-forged-cli-'));
    const key = newKey();
    const { store, events } = await seeded(() => localStore(dir, { seal: keyFilePort(key, { create: true }) }), key);
    const clean = await verify(dir, key);
    expect(clean.code, clean.err).toBe(0);
    expect(clean.out).toContain('web: intact, 2 records');
    expect(clean.out).toMatch(/web: seals: \d+ verified with the key file /);
    await store.records.put({ kind: 'receipt', lb: LB, id: events[1]!.id }, { publishedAt: at(3), messageId: 'x' });
    const forged = await verify(dir, key);
    expect(forged.code).toBe(1);
    expect(forged.err).toMatch(
      /^elbscope: web: the receipt of record #2 carries no seal, but every record since 2026-11-25T10:00:00.000Z is sealed: its seal was removed, or it was written without the key \(forged\) \(.*published.*\.json\)$/m,
    );
  });

  it('with the key file removed, verify says it cannot check the seals (exit 1) and never says intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-forged-cli-'));
    const key = newKey();
    await seeded(() => localStore(dir, { seal: keyFilePort(key, { create: true }) }), key);
    rmSync(key);
    const r = await verify(dir, key);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `^elbscope: web: cannot check seals: seal: no key file at ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .*; \\d+ sealed records not checked$`,
        'm',
      ),
    );
    expect(r.out).not.toMatch(/intact/);
    expect(r.out).toContain('web: hashes and links hold (seals not checked), 2 records');
    // Nor does the report.
    const out: string[] = [];
    await runCli(['report', '--lb', LB, '--store', dir, '--seal-key', key], {
      out: (t) => out.push(t),
      err: () => undefined,
      env: {},
    });
    expect(out.join('\n')).toMatch(
      /Audit chain: NOT CHECKED: \d+ sealed records cannot be checked \(seal: no key file at /,
    );
    // A writer does not make a new key over a sealed store (every seal would then read as forged).
    const writer = localStore(dir, {
      seal: keyFilePort(key, {
        create: async () => ((await writer.holdsSeals()) ? 'the store holds sealed records' : null),
      }),
    });
    const warnings: string[] = [];
    await recordCycle(config, [nodeSnapshot(DNS, NODES)], at(5), {
      store: writer,
      sink: recorder(),
      now: () => new Date(at(5)),
      claimant: 't',
      warn: (m) => warnings.push(m),
    });
    expect(warnings.join('\n')).toMatch(
      /^web: not recorded: seal: no key file at .* \(it is created by the first cycle that writes; restore it if it was removed\); the next cycle tries again$/,
    );
    expect(existsSync(key)).toBe(false);
    // Nor does the CLI: a writing command says to restore the key, in one line (exit 1).
    const err: string[] = [];
    const code = await runCli(['prewarm', '--store', dir, '--seal-key', key, '--lb', LB, '--nodes-per-az', '4'], {
      out: () => undefined,
      err: (t) => err.push(t),
      env: {},
    });
    expect(code).toBe(1);
    expect(err).toEqual([
      `elbscope: seal: no key file at ${key}, and the store holds records sealed with a key: restore that key file (a new key would make every sealed record read as forged)`,
    ]);
    expect(existsSync(key)).toBe(false);
  });

  it('records from before keys are read and named as such, and the first keyed cycle goes on from them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-before-keys-'));
    const before = localStore(dir); // an elbscope from before keys
    await cycle(before, 0, NODES.slice(0, 1), recorder());
    await before.prewarms({
      op: 'put',
      target: {
        id: 'pw-1',
        loadBalancer: LB,
        nodesPerAz: 5,
        total: null,
        deadline: null,
        caseId: null,
        requestedAt: at(0),
      },
    });
    await cycle(before, 1, NODES.slice(0, 2), recorder());
    const key = newKey();
    const r = await verify(dir, key);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/web: seals: 0 verified with the key file .*, \d+ sealed without a key \(before keys\)/);
    // The first keyed cycle reads the state as from before keys (no "could not be used"), and seals from there on.
    const keyed = localStore(dir, { seal: keyFilePort(key, { create: true }) });
    const decided = await cycle(keyed, 2, NODES, recorder());
    expect(decided.map((e) => e.kind)).toEqual(['scaled']);
    const after = await verify(dir, key);
    expect(after.code, after.err).toBe(0);
    expect(after.out).toMatch(
      /web: seals: [1-9]\d* verified with the key file .*, \d+ sealed without a key \(before keys\)/,
    );
    // The pre-warm target from before keys, vouched for by the cycle that read it, is still acted on.
    expect((await keyed.prewarms({ op: 'list', lb: LB })).map((t) => t.id)).toEqual(['pw-1']);
  });
});

// An outbox entry's delivery marks: a sink marked delivered (or given up) is not sent
// the alert. A forger without the key who marks SNS and the alert file delivered on a
// queued alert must not silence it: a mark counts only when its keyed seal verifies.
const SNS_SINK = 'SNS arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const FILE_SINK = 'file /var/log/elbscope-alerts.jsonl';

/** The console, SNS and the alert file as recorders (any of them down). */
function threeSinks(down: string[] = []) {
  const sinks = ['console', SNS_SINK, FILE_SINK].map((description): AlertSink & { got: ChainedEvent[] } => {
    const got: ChainedEvent[] = [];
    const publish = down.includes(description)
      ? async () => Promise.reject(Object.assign(new Error(`${description} down`), { name: 'InternalError' }))
      : async (e: ChainedEvent) => (got.push(e), { messageId: description === SNS_SINK ? `m-${e.seq}` : null });
    return { description, got, publish };
  });
  return {
    sink: allSinks(sinks),
    got: (name: string) => sinks.find((s) => s.description === name)!.got.map((e) => e.seq),
  };
}

/** A sealed store whose alert #2 went to the console and is queued for SNS and the file (both down). */
async function queuedForSnsAndFile(open: Opener, key: string) {
  const store = open(keyFilePort(key, { create: true }));
  await cycle(store, 0, NODES.slice(0, 1), recorder());
  await cycle(store, 1, NODES.slice(0, 2), threeSinks().sink);
  const first = threeSinks([SNS_SINK, FILE_SINK]);
  await cycle(store, 2, NODES, first.sink);
  expect(first.got('console')).toEqual([2]);
  const [entry] = await store.outbox({ op: 'list' });
  expect(entry?.record.seq).toBe(2);
  expect(entry!.sinks.console?.state).toBe('delivered');
  return { store, event: entry!.record };
}

/** The outbox entry of `id` as stored, edited by `edit` through the store's primitives (no key). */
async function editOutbox(
  store: Ledger,
  id: string,
  edit: (value: Record<string, unknown> & { sinks: Record<string, Record<string, unknown>> }) => void,
) {
  const key: RecordKey = { kind: 'outbox', lb: null, id };
  const found = (await store.records.get(key))!;
  const value = structuredClone(found.value) as Record<string, unknown> & {
    sinks: Record<string, Record<string, unknown>>;
  };
  edit(value);
  expect(await store.records.putIfVersion(key, value, found.version)).toBe(true);
}

/** A delivery mark sealed as elbscope seals one, with `port`'s key. */
async function sealedMark(port: MacPort, event: ChainedEvent, sink: string, mark: Record<string, unknown>) {
  const digest = sha256(canonicalJson(mark));
  return {
    ...mark,
    seal: await new Sealer(port).seal({
      kind: 'outbox-sink',
      lb: event.loadBalancer,
      id: event.id,
      part: sink,
      digest,
    }),
  };
}

const markForgeries: [string, (store: Ledger, event: ChainedEvent) => Promise<void>][] = [
  [
    'SNS and the file marked delivered with no seal (and named in the `delivered` list)',
    async (store, event) => {
      await editOutbox(store, event.id, (v) => {
        v.sinks[SNS_SINK] = { state: 'delivered', at: at(2), messageId: 'forged' };
        v.sinks[FILE_SINK] = { state: 'delivered', at: at(2), messageId: null };
        // And a sink whose name is too long for any seal's message (4 KB): no check of it may stop the flush.
        v.sinks['x'.repeat(5000)] = { state: 'delivered', at: at(2), messageId: null, seal: 'AAAA' };
        v.delivered = ['console', SNS_SINK, FILE_SINK];
      });
    },
  ],
  [
    'only the `delivered` list of an earlier elbscope naming SNS and the file',
    async (store, event) => {
      await editOutbox(store, event.id, (v) => {
        delete v.sinks[SNS_SINK];
        delete v.sinks[FILE_SINK];
        v.delivered = ['console', SNS_SINK, FILE_SINK];
      });
    },
  ],
  [
    'SNS and the file marked delivered and sealed with another key',
    async (store, event) => {
      const wrong = keyFilePort(newKey(), { create: true });
      const sns = await sealedMark(wrong, event, SNS_SINK, { state: 'delivered', at: at(2), messageId: 'forged' });
      const file = await sealedMark(wrong, event, FILE_SINK, { state: 'gave-up', at: at(2), error: 'forged' });
      await editOutbox(store, event.id, (v) => {
        v.sinks[SNS_SINK] = sns;
        v.sinks[FILE_SINK] = file;
        v.delivered = ['console', SNS_SINK];
      });
    },
  ],
  [
    "SNS and the file marked delivered with the console's seal copied",
    async (store, event) => {
      await editOutbox(store, event.id, (v) => {
        const seal = v.sinks.console!.seal;
        v.sinks[SNS_SINK] = { ...v.sinks.console!, seal };
        v.sinks[FILE_SINK] = { ...v.sinks.console!, seal };
        v.delivered = ['console', SNS_SINK, FILE_SINK];
      });
    },
  ],
];

describe.each(Object.keys(adapters))('A forged delivery mark on a queued alert (%s)', (adapter) => {
  it.each(markForgeries)(
    '%s: SNS and the file still get the alert once, and verify names the forged mark',
    async (_label, forge) => {
      const open = await adapters[adapter]!();
      const key = newKey();
      const { store: seeding, event } = await queuedForSnsAndFile(open, key);
      await forge(seeding, event);
      const store = open(keyFilePort(key, { create: false }));
      const result = await audit(store);
      expect(result.firstBreak).toMatch(
        new RegExp(
          `^outbox entry ${event.id} marks (SNS|file) .* without a seal that verifies with the key file .*: a forged delivery mark`,
        ),
      );
      const sinks = threeSinks();
      await cycle(store, 10, NODES, sinks.sink);
      await cycle(store, 11, NODES, sinks.sink);
      expect(sinks.got(SNS_SINK)).toEqual([2]);
      expect(sinks.got(FILE_SINK)).toEqual([2]);
      // The console's own sealed mark holds: it is not sent the alert again.
      expect(sinks.got('console')).toEqual([]);
      expect(await store.outbox({ op: 'list' })).toEqual([]);
      expect((await audit(store)).firstBreak).toBeNull();
    },
    30_000,
  );

  it('honest marks, sealed and read back by a restarted process, are trusted: no sink gets the alert again', async () => {
    const open = await adapters[adapter]!();
    const key = newKey();
    const { event } = await queuedForSnsAndFile(open, key);
    // A new process (its seal cache empty): the file comes back, SNS is still down.
    const second = open(keyFilePort(key, { create: false }));
    const fileBack = threeSinks([SNS_SINK]);
    await cycle(second, 10, NODES, fileBack.sink);
    expect(fileBack.got(FILE_SINK)).toEqual([2]);
    expect((await second.outbox({ op: 'list' }))[0]?.sinks[FILE_SINK]).toMatchObject({
      state: 'delivered',
      seal: expect.any(String),
    });
    // And another: SNS comes back; the console and the file have it already.
    const third = open(keyFilePort(key, { create: false }));
    expect((await audit(third)).firstBreak).toBeNull();
    const all = threeSinks();
    await cycle(third, 30, NODES, all.sink);
    expect(all.got(SNS_SINK)).toEqual([2]);
    expect(all.got('console')).toEqual([]);
    expect(all.got(FILE_SINK)).toEqual([]);
    expect((await listEvents(third, LB)).find((e) => e.record.id === event.id)?.publishedAt).not.toBeNull();
  }, 30_000);

  it('a failing state edited to wait for years holds SNS back no longer than the longest backoff', async () => {
    const open = await adapters[adapter]!();
    const key = newKey();
    const { store: seeding, event } = await queuedForSnsAndFile(open, key);
    await editOutbox(
      seeding,
      event.id,
      (v) => (v.sinks[SNS_SINK] = { ...v.sinks[SNS_SINK], notBefore: '9999-01-01T00:00:00.000Z' }),
    );
    const store = open(keyFilePort(key, { create: false }));
    const sinks = threeSinks();
    await cycle(store, 3, NODES, sinks.sink);
    expect(sinks.got(SNS_SINK)).toEqual([2]);
  }, 30_000);

  it('an entry from before keys keeps its `delivered` list: the first keyed cycle sends the console nothing again', async () => {
    const open = await adapters[adapter]!();
    const before = open(); // an elbscope from before keys
    await cycle(before, 0, NODES.slice(0, 1), recorder());
    await cycle(before, 1, NODES.slice(0, 2), threeSinks().sink);
    await cycle(before, 2, NODES, threeSinks([SNS_SINK, FILE_SINK]).sink);
    const [entry] = await before.outbox({ op: 'list' });
    // As the version before per-sink states wrote it: the names of the sinks that accepted.
    await editOutbox(before, entry!.record.id, (v) => {
      delete (v as Record<string, unknown>).sinks;
      v.delivered = ['console'];
    });
    const keyed = open(keyFilePort(newKey(), { create: true, now: () => new Date(at(5)) }));
    expect((await audit(keyed)).firstBreak).toBeNull();
    const sinks = threeSinks();
    await cycle(keyed, 10, NODES, sinks.sink);
    expect(sinks.got('console')).toEqual([]);
    expect(sinks.got(SNS_SINK)).toEqual([2]);
    expect(sinks.got(FILE_SINK)).toEqual([2]);
  }, 30_000);

  it('without a key, marks are trusted as before (and verify checks no seal)', async () => {
    const open = await adapters[adapter]!();
    const store = open();
    await cycle(store, 0, NODES.slice(0, 1), recorder());
    await cycle(store, 1, NODES.slice(0, 2), threeSinks().sink);
    await cycle(store, 2, NODES, threeSinks([SNS_SINK, FILE_SINK]).sink);
    const [entry] = await store.outbox({ op: 'list' });
    await editOutbox(store, entry!.record.id, (v) => (v.delivered = ['console', SNS_SINK]));
    expect((await audit(store)).firstBreak).toBeNull();
    const sinks = threeSinks();
    await cycle(store, 10, NODES, sinks.sink);
    expect(sinks.got(SNS_SINK)).toEqual([]);
    expect(sinks.got(FILE_SINK)).toEqual([2]);
  }, 30_000);
});
