import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SNSClient } from '@aws-sdk/client-sns';
import { allSinks, consoleSink, fileSink, snsSink, type AlertSink } from '../../../shared/alerts/sinks';
import { requestHandlerWith } from '../../../shared/aws/deadlines';
import { makeEvent } from '../../../shared/detect/events';
import type { ChainedEvent } from '../../../shared/detect/state';
import { commitEvents } from '../../../shared/ledger/commit';
import { flushOutbox, type FlushDeps, type FlushResult } from '../../../shared/ledger/flush';
import { Ledger } from '../../../shared/ledger/ledger';
import { verifyChain } from '../../../shared/ledger/chain';
import { DynamoDbRecords } from '../../../shared/store/dynamodb';
import { LocalRecords, localStore } from '../../../shared/store/local';
import { type Store, listEvents } from '../../../shared/ledger/store';
import { LabElb } from '../../../lab/elb';
import { startSnsEndpoint, type SnsState } from '../../../lab/sns/server';
import { runElbscope } from '../../helpers/cli';
import { createTable, startDynalite } from '../../helpers/dynalite';

// Sinks are independent: each (console, alert file, SNS) has its own delivery state on
// the outbox entry — delivered, failing with its own backoff, given up — and none waits
// for another. Every pairing is tried in process with the real sinks where one can fail
// for real: the alert file on a full device (/dev/full: ENOSPC), a FIFO nobody reads, SNS
// through the real SDK to the lab's endpoint refusing (failNext) or never answering
// (hangNext); the console through a writer that fails as a closed pipe does. A sink that
// hangs where nothing real hangs here (the console, a file on a hung mount) is the real
// sink behind a gate the test opens. Deadlines are the test's: a call's deadline passes
// when the test sees the sink hang, never by the wall clock.

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:elbscope-alerts';
const T0 = Date.parse('2026-11-25T10:03:00Z');
const AZS = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];
/** Four alerts, as the tester's run had. */
const scaleUps = () =>
  AZS.map((az, i) =>
    makeEvent({
      kind: 'scaled',
      status: 'event',
      severity: 'info',
      loadBalancer: 'web',
      az,
      backend: null,
      from: 1,
      to: 3,
      at: `2026-11-25T10:02:0${i}.000Z`,
      summary: `web ${az} scaled 1 → 3 nodes`,
      details: { direction: 'up' },
    }),
  );

const sns: SnsState = { messages: [], failNext: [], refused: [] };
let endpoint: Awaited<ReturnType<typeof startSnsEndpoint>>;
let client: SNSClient;
beforeAll(async () => {
  endpoint = await startSnsEndpoint(sns);
  // One attempt per publish (the SDK's own retries would take several of failNext's answers), the wiring's deadlines.
  client = new SNSClient({
    region: 'us-east-1',
    endpoint: endpoint.url,
    maxAttempts: 1,
    requestHandler: requestHandlerWith(),
  });
});
afterAll(async () => {
  client.destroy();
  await endpoint.close();
});
beforeEach(() => {
  sns.messages.length = 0;
  sns.failNext.length = 0;
  sns.refused!.length = 0;
  delete sns.hangNext;
  delete sns.onHang;
});

/** Deadlines the test ends: every pending call's deadline passes when `expire()` is called, never by itself. */
function testDeadlines() {
  const pending = new Set<() => void>();
  return {
    timer: (_ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        const done = () => {
          pending.delete(done);
          resolve();
        };
        pending.add(done);
        signal.addEventListener('abort', done, { once: true });
      }),
    /** After the current call has set its deadline (a sink may report its hang from inside the call). */
    expire: () =>
      setImmediate(() => {
        for (const done of [...pending]) done();
      }),
  };
}

/** `inner` behind a gate: its calls wait (hang) until `release()`; each call is counted, and `onHang` told. */
function gated(inner: AlertSink, onHang: () => void) {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let holding = true;
  let held: Promise<unknown> = Promise.resolve();
  const calls: string[] = [];
  const sink: AlertSink = {
    description: inner.description,
    publish: (event, options) => {
      calls.push(event.id);
      if (!holding) return inner.publish(event, options);
      onHang();
      const call = gate.then(() => inner.publish(event, options));
      held = call.catch(() => undefined);
      return call;
    },
  };
  return {
    sink,
    calls,
    /** Stop hanging: the held call goes on; resolves once it has settled, and the guard has seen it. */
    release: async () => {
      holding = false;
      open();
      await held;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const epipe = () => Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });

type Name = 'console' | 'file' | 'sns';
/** The order `watch` lists its sinks in, and the reverse: which comes first never matters. */
const WATCH_ORDER: readonly Name[] = ['console', 'file', 'sns'];
const REVERSED: readonly Name[] = ['sns', 'file', 'console'];
const ORDERS = [
  ['console, file, SNS', WATCH_ORDER],
  ['SNS, file, console', REVERSED],
] as const;

interface Rig {
  store: Store;
  events: ChainedEvent[];
  deps: FlushDeps;
  alertFile: string;
  deadlines: ReturnType<typeof testDeadlines>;
  /** Move the test's clock. */
  advance(ms: number): void;
  flush(): Promise<FlushResult>;
  /** What each sink holds, as event ids in arrival order. */
  got(): { console: string[]; file: string[]; sns: string[] };
  /** The console's writer fails (a closed pipe) while true. */
  consoleBroken: { value: boolean };
}

/**
 * A local store with the four alerts queued, and the sinks of `watch --alert-file F
 * --sns-topic T` (the console, the file, SNS through the lab's endpoint); `swap` may
 * replace any of them (given the real one) by a failing or hanging stand-in.
 */
async function rig(
  options: {
    alertFile?: string;
    order?: readonly Name[];
    swap?: (
      real: { console: AlertSink; file: AlertSink; sns: AlertSink },
      deadlines: ReturnType<typeof testDeadlines>,
    ) => Partial<Record<'console' | 'file' | 'sns', AlertSink>>;
    store?: Store;
  } = {},
): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-independent-'));
  const store = options.store ?? localStore(dir);
  const alertFile = options.alertFile ?? join(dir, 'alerts.jsonl');
  const lines: string[] = [];
  const consoleBroken = { value: false };
  const deadlines = testDeadlines();
  const real = {
    console: consoleSink((line) => {
      if (consoleBroken.value) throw epipe();
      lines.push(line);
    }),
    file: fileSink(alertFile),
    sns: snsSink(client, TOPIC),
  };
  const chosen = { ...real, ...options.swap?.(real, deadlines) };
  let now = T0;
  const deps: FlushDeps = {
    store,
    sink: allSinks(
      (options.order ?? WATCH_ORDER).map((n) => chosen[n]),
      { timer: deadlines.timer },
    ),
    now: () => new Date(now),
    claimant: 'test',
    leaseMs: 60_000,
    warn: () => undefined,
  };
  const events = await commitEvents(store, 'web', scaleUps, { at: '2026-11-25T10:00:00.000Z' });
  const byAt = new Map(events.map((e) => [e.at, e.id]));
  return {
    store,
    events,
    deps,
    alertFile,
    deadlines,
    consoleBroken,
    advance: (ms) => void (now += ms),
    flush: () => flushOutbox(deps),
    got: () => ({
      console: lines.map((l) => byAt.get(l.split(' ')[1] ?? '') ?? l),
      file: fileIds(alertFile),
      sns: sns.messages.map((m) => m.attributes.eventId ?? '?'),
    }),
  };
}

function fileIds(path: string): string[] {
  // A device (/dev/full reads as endless zeros) or a FIFO holds nothing to read back.
  if (!existsSync(path) || !statSync(path).isFile()) return [];
  const text = readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { event: { id: string } }).event.id);
}

/** Flush, moving the clock past every backoff (15 minutes at most), until nothing is queued; at most `rounds` times. */
async function drain(r: Rig, rounds = 8): Promise<void> {
  for (let i = 0; i < rounds && (await r.store.outbox({ op: 'list' })).length > 0; i++) {
    r.advance(15 * 60_000);
    await r.flush();
  }
}

/** Every alert, once each, in any order. */
const once = (r: Rig) => [...r.events.map((e) => e.id)].sort();
const sorted = (ids: string[]) => [...ids].sort();

/** The trail is whole and every alert has its receipt (published), nothing queued. */
async function allPublished(r: Rig): Promise<void> {
  expect(await r.store.outbox({ op: 'list' })).toEqual([]);
  const stored = await listEvents(r.store, 'web');
  expect(stored.map((e) => e.publishedAt !== null)).toEqual([true, true, true, true]);
  expect(verifyChain('web', stored, (await r.store.getState('web'))?.state.head.chain ?? null)).toBeNull();
}

describe('Done when: one failing sink holds back no other', () => {
  it.each(ORDERS)(
    'the alert file on a full device (/dev/full, ENOSPC) and SNS accepting (sinks %s): SNS gets every alert in the same cycle, and no second time',
    async (_o, order) => {
      const r = await rig({ alertFile: '/dev/full', order });
      const first = await r.flush();
      expect(r.got().sns).toEqual(r.events.map((e) => e.id)); // all four, in order, in this one flush
      expect(r.got().console).toEqual(r.events.map((e) => e.id));
      expect(first.failed.map((f) => f.error)).toEqual(
        Array(4).fill('file /dev/full: ENOSPC: no space left on device, write'),
      );
      const entry = (await r.store.outbox({ op: 'list' }))[0];
      expect(sorted(entry?.delivered ?? [])).toEqual(sorted(['console', `SNS ${TOPIC}`]));
      expect(entry?.sinks['file /dev/full']).toEqual({
        state: 'failing',
        since: '2026-11-25T10:03:00.000Z',
        attempts: 1,
        notBefore: '2026-11-25T10:04:00.000Z',
        lastError: 'file /dev/full: ENOSPC: no space left on device, write',
      });
      // The file goes on failing, on its own backoff; SNS and the console are not sent anything again.
      for (let i = 0; i < 5; i++) {
        r.advance(15 * 60_000);
        const later = await r.flush();
        expect(later.failed.every((f) => f.error.startsWith('file /dev/full:'))).toBe(true);
      }
      expect(r.got().sns).toEqual(r.events.map((e) => e.id));
      expect(r.got().console).toEqual(r.events.map((e) => e.id));
      expect((await r.store.outbox({ op: 'list' })).map((e) => e.sinks['file /dev/full'])).toEqual(
        Array(4).fill(expect.objectContaining({ state: 'failing', attempts: 6 })),
      );
    },
  );

  it('the alert file full for a while (a link to /dev/full, then space again): SNS at once, the file gets each alert once when space returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-full-'));
    const alertFile = join(dir, 'alerts.jsonl');
    symlinkSync('/dev/full', alertFile);
    const r = await rig({ alertFile });
    await r.flush();
    expect(sorted(r.got().sns)).toEqual(once(r));
    rmSync(alertFile); // space again: the file sink creates a plain file
    await drain(r);
    expect(r.got()).toEqual({
      console: r.events.map((e) => e.id),
      file: r.events.map((e) => e.id),
      sns: r.events.map((e) => e.id),
    });
    await allPublished(r);
  });

  it.each(ORDERS)(
    'SNS refusing (throttled, then 5xx) and the file fine (sinks %s): the file gets every alert at once and exactly once; SNS, recovered, each once',
    async (_o, order) => {
      const r = await rig({ order });
      sns.failNext.push(
        ...Array.from({ length: 6 }, (_, i) =>
          i % 2
            ? { code: 'InternalError', status: 500, message: 'Service Unavailable' }
            : { code: 'Throttling', status: 400, message: 'Rate exceeded' },
        ),
      );
      const first = await r.flush();
      expect(r.got().file).toEqual(r.events.map((e) => e.id));
      expect(r.got().sns).toEqual([]);
      expect(first.failed).toHaveLength(4);
      expect(first.published).toEqual([]);
      r.advance(60_000);
      await r.flush(); // two more refusals: two alerts wait again, two go
      expect(r.got().sns).toHaveLength(2);
      await drain(r);
      expect(r.got()).toEqual({
        console: r.events.map((e) => e.id),
        file: r.events.map((e) => e.id),
        sns: expect.arrayContaining(r.events.map((e) => e.id)),
      });
      expect(r.got().sns).toHaveLength(4);
      await allPublished(r);
    },
  );

  it.each(ORDERS)(
    'SNS refusing for good (AuthorizationError; sinks %s): the file and the console get every alert once; the alerts are undeliverable, and redeliver sends them to SNS once',
    async (_o, order) => {
      const r = await rig({ order });
      const denied = {
        code: 'AuthorizationError',
        status: 403,
        message: 'User is not authorized to perform: SNS:Publish',
      };
      sns.failNext.push(denied, denied, denied, denied);
      const first = await r.flush();
      expect(first.undeliverable).toHaveLength(4);
      expect(r.got()).toEqual({ console: r.events.map((e) => e.id), file: r.events.map((e) => e.id), sns: [] });
      const stored = await listEvents(r.store, 'web');
      expect(stored.map((e) => e.deliveryError?.error)).toEqual(
        Array(4).fill(`SNS ${TOPIC}: AuthorizationErrorException: User is not authorized to perform: SNS:Publish`),
      );
      expect(await r.store.outbox({ op: 'list' })).toEqual([]);
      r.advance(60 * 60_000);
      expect(await r.flush()).toEqual({ published: [], failed: [], undeliverable: [], waiting: [], rejected: [] }); // never retried by itself
      // The permission fixed: `elbscope redeliver` queues each again; SNS gets it once, the file keeps its one line.
      for (const e of r.events) await r.store.outbox({ op: 'requeue', record: e });
      await r.flush(); // an explicit resend goes to every sink: the console prints it again, the file finds its line

      expect(r.got().sns).toEqual(r.events.map((e) => e.id));
      expect(r.got().file).toEqual(r.events.map((e) => e.id));
      await allPublished(r);
    },
  );
});

type Mode = 'failing for good' | 'failing for a while' | 'hanging, then answering' | 'hanging for good';

/** `name` made to fail or hang as `mode` says; `recover` makes it well again (a no-op "for good"). */
async function faulty(name: Name, mode: Mode, order: readonly Name[]) {
  const dir = mkdtempSync(join(tmpdir(), 'elbscope-faulty-'));
  let recover: (r: Rig) => Promise<void> = async () => undefined;
  let alertFile: string | undefined;
  let gate: ReturnType<typeof gated> | null = null;
  const hanging = mode.startsWith('hanging');
  if (!hanging && name === 'file') {
    alertFile = join(dir, 'alerts.jsonl');
    symlinkSync('/dev/full', alertFile); // ENOSPC
    if (mode === 'failing for a while') recover = async () => rmSync(alertFile as string);
  }
  if (!hanging && name === 'sns') {
    const failures = mode === 'failing for good' ? 1_000 : 4;
    sns.failNext.push(
      ...Array.from({ length: failures }, () => ({
        code: 'InternalError',
        status: 500,
        message: 'Service Unavailable',
      })),
    );
    if (mode === 'failing for a while') recover = async () => void (sns.failNext.length = 0);
  }
  const r = await rig({
    order,
    ...(alertFile ? { alertFile } : {}),
    swap: (real, deadlines) => {
      if (!hanging || name === 'sns') return {};
      gate = gated(real[name], deadlines.expire);
      return { [name]: gate.sink };
    },
  });
  if (!hanging && name === 'console') {
    r.consoleBroken.value = true;
    if (mode === 'failing for a while') recover = async () => void (r.consoleBroken.value = false);
  }
  if (hanging && name === 'sns') {
    // The lab holds the request; the test's deadline passes once it does (the call is aborted).
    sns.hangNext = mode === 'hanging for good' ? 1_000 : 1;
    sns.onHang = r.deadlines.expire;
  }
  if (hanging && gate && mode === 'hanging, then answering')
    recover = async () => (gate as ReturnType<typeof gated>).release();
  return { r, recover, gate: gate as ReturnType<typeof gated> | null };
}

const NAMES: Name[] = ['console', 'file', 'sns'];
const MODES: Mode[] = ['failing for good', 'failing for a while', 'hanging, then answering', 'hanging for good'];

describe.each(
  NAMES.flatMap((name) => MODES.flatMap((mode) => ORDERS.map(([o, order]) => [name, mode, o, order] as const))),
)('Every pairing: %s %s, the others fine (sinks %s)', (name, mode, _o, order) => {
  it('the others get every alert in the first cycle, once; it is retried on its own schedule and, recovered, gets each once', async () => {
    const { r, recover, gate } = await faulty(name, mode, order);
    const others = NAMES.filter((n) => n !== name);
    const first = await r.flush();
    for (const other of others) expect(r.got()[other], other).toEqual(r.events.map((e) => e.id));
    expect(r.got()[name]).toEqual([]);
    expect(first.failed).toHaveLength(4); // one failure per alert, all of this sink
    expect(first.published).toEqual([]);
    if (mode.startsWith('hanging')) {
      // It hung on the first alert; the others were not offered to it in this flush (nor is a second call made while
      // one hangs).
      expect(first.failed.filter((f) => /SinkTimeout/.test(f.error))).toHaveLength(1);
      expect(first.failed.filter((f) => /SinkBusy/.test(f.error))).toHaveLength(3);
      if (gate) expect(gate.calls).toHaveLength(1);
    }
    // Its own schedule: the others' states are settled; its state counts its attempts.
    const states = async () =>
      (await r.store.outbox({ op: 'list' })).map((e) =>
        Object.values(e.sinks)
          .map((s) => s.state)
          .sort()
          .join(','),
      );
    expect(await states()).toEqual(Array(4).fill('delivered,delivered,failing'));
    expect((await r.flush()).waiting).toHaveLength(4); // within its backoff: waiting, nothing sent

    if (mode.endsWith('for good')) {
      for (let i = 0; i < 3; i++) {
        r.advance(15 * 60_000);
        await r.flush();
      }
      for (const other of others) expect(r.got()[other], other).toEqual(r.events.map((e) => e.id));
      expect(r.got()[name]).toEqual([]);
      expect(await states()).toEqual(Array(4).fill('delivered,delivered,failing'));
      if (gate) expect(gate.calls).toHaveLength(1); // still hanging: never called a second time
      return;
    }
    await recover(r);
    await drain(r);
    for (const each of NAMES) expect(sorted(r.got()[each]), each).toEqual(once(r));
    if (gate) expect(gate.calls.length).toBeLessThanOrEqual(4); // the call that hung was answered, not repeated
    await allPublished(r);
  });
});

describe('Sinks that cannot block, and entries from before per-sink states', () => {
  it('a FIFO nobody reads as the alert file fails at once (ENXIO) instead of holding a thread: SNS gets every alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-fifo-'));
    const fifo = join(dir, 'alerts.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await rig({ alertFile: fifo });
    const first = await r.flush();
    expect(r.got().sns).toEqual(r.events.map((e) => e.id));
    expect(first.failed.map((f) => f.error)).toEqual(
      Array(4).fill(expect.stringMatching(new RegExp(`^file ${fifo}: ENXIO`))),
    );
  });

  it("reads an outbox entry the previous elbscope wrote (delivered: ['console'], waiting for the file): SNS gets it at once, the console not again", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-legacy-'));
    const r = await rig({ store: localStore(dir), alertFile: '/dev/full' });
    for (const e of r.events) {
      const file = join(dir, 'outbox', `${e.id}.json`);
      const { sinks: _none, ...stored } = JSON.parse(readFileSync(file, 'utf8'));
      // As the previous version left it after three ENOSPC failures of the file, SNS never tried.
      writeFileSync(
        file,
        JSON.stringify({
          ...stored,
          attempts: 3,
          notBefore: '2026-11-25T10:11:00.000Z',
          lastError: 'file /dev/full: ENOSPC: no space left on device, write',
          delivered: ['console'],
        }),
      );
    }
    expect((await r.store.outbox({ op: 'list' })).map((e) => e.sinks)).toEqual(
      Array(4).fill({ console: { state: 'delivered', at: null, messageId: null } }),
    );
    await r.flush();
    expect(r.got()).toEqual({ console: [], file: [], sns: r.events.map((e) => e.id) });
    expect((await r.store.outbox({ op: 'list' })).map((e) => e.delivered)).toEqual(
      Array(4).fill(['console', `SNS ${TOPIC}`]),
    );
  });

  it("the default deadline runs on the process's timers: a sink that never answers fails by it, the others deliver", async () => {
    const r = await rig();
    const never: AlertSink = { description: 'never', publish: () => new Promise(() => undefined) };
    const lines: string[] = [];
    const deps = { ...r.deps, sink: allSinks([never, consoleSink((l) => lines.push(l))], { deadlineMs: 1 }) };
    const result = await flushOutbox(deps);
    expect(lines).toHaveLength(4);
    expect(result.failed.map((f) => f.error)).toEqual([
      'never: SinkTimeout: no answer within 1 ms; the call was abandoned',
      ...Array(3).fill(expect.stringMatching(/^never: SinkBusy: not called/)),
    ]);
  });

  it("SNS refused for good while the file is full: the alert waits for the file alone, then is marked undeliverable with SNS's reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-both-'));
    const alertFile = join(dir, 'alerts.jsonl');
    symlinkSync('/dev/full', alertFile);
    const r = await rig({ alertFile });
    const warnings: string[] = [];
    r.deps.warn = (m) => warnings.push(m);
    const denied = {
      code: 'AuthorizationError',
      status: 403,
      message: 'User is not authorized to perform: SNS:Publish',
    };
    sns.failNext.push(denied, denied, denied, denied);
    const first = await r.flush();
    expect(first.undeliverable).toHaveLength(4); // counted (and said) when SNS gives up, not when the event closes
    expect(
      warnings.filter((w) => w.includes('is undeliverable') && w.endsWith('; the other sinks still get it')),
    ).toHaveLength(4);
    expect((await r.store.outbox({ op: 'list' })).map((e) => e.sinks[`SNS ${TOPIC}`]?.state)).toEqual(
      Array(4).fill('gave-up'),
    );
    expect((await listEvents(r.store, 'web')).map((e) => e.deliveryError)).toEqual(Array(4).fill(null)); // still on its way to the file
    rmSync(alertFile);
    r.advance(60_000);
    const second = await r.flush();
    expect(second.undeliverable).toEqual([]);
    expect(r.got()).toEqual({ console: r.events.map((e) => e.id), file: r.events.map((e) => e.id), sns: [] });
    expect(await r.store.outbox({ op: 'list' })).toEqual([]);
    expect((await listEvents(r.store, 'web')).map((e) => e.deliveryError?.error)).toEqual(
      Array(4).fill(`SNS ${TOPIC}: AuthorizationErrorException: User is not authorized to perform: SNS:Publish`),
    );
  });

  it("a publisher goes on from each sink's state as it claimed the entry, not as it listed it (another delivered in between)", async () => {
    const r = await rig({ alertFile: '/dev/full' });
    let raced = false;
    // Writer b flushes the whole outbox between writer a's listing and a's first claim.
    const racing = new Proxy(r.store, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop !== 'outbox') return value.bind(target);
        return async (...args: unknown[]) => {
          if (!raced && (args[0] as { op: string }).op === 'claim') {
            raced = true;
            await flushOutbox({ ...r.deps, claimant: 'b' });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    await flushOutbox({ ...r.deps, store: racing, claimant: 'a' });
    expect(raced).toBe(true);
    expect(r.got()).toEqual({ console: r.events.map((e) => e.id), file: [], sns: r.events.map((e) => e.id) });
  });

  it('an abandoned call that is accepted after its deadline counts as that delivery: not sent again', async () => {
    let gate: ReturnType<typeof gated> | null = null;
    const r = await rig({
      swap: (real, deadlines) => ((gate = gated(real.file, deadlines.expire)), { file: gate.sink }),
    });
    const g = gate as unknown as ReturnType<typeof gated>;
    await r.flush();
    expect(r.got().file).toEqual([]);
    await g.release(); // the hung append completes after all
    expect(r.got().file).toEqual([r.events[0]?.id]);
    r.advance(15 * 60_000);
    await r.flush();
    expect(r.got().file).toEqual(r.events.map((e) => e.id));
    expect(g.calls).toEqual(r.events.map((e) => e.id)); // one call per alert: the late one was taken as delivered
    await allPublished(r);
  });
});

let dynamo: Awaited<ReturnType<typeof startDynalite>> | null = null;
afterAll(async () => dynamo?.stop());

describe.each([
  ['a local directory', async () => new LocalRecords(mkdtempSync(join(tmpdir(), 'elbscope-sink-states-')))],
  [
    'DynamoDB (dynalite)',
    async () => {
      dynamo ??= await startDynalite();
      const table = `sinks-${Math.random().toString(36).slice(2)}`;
      await createTable(dynamo.client, table);
      return new DynamoDbRecords(dynamo.client, table);
    },
  ],
] as const)('Per-sink states in the store: %s', (_name, open) => {
  it('keeps each sink its own state across claims, and closes the event once every sink is done', async () => {
    const store = new Ledger(await open());
    const r = await rig({ store, alertFile: '/dev/full' });
    await r.flush();
    const [entry] = await store.outbox({ op: 'list' });
    expect(entry?.sinks).toEqual({
      console: { state: 'delivered', at: '2026-11-25T10:03:00.000Z', messageId: null },
      'file /dev/full': {
        state: 'failing',
        since: '2026-11-25T10:03:00.000Z',
        attempts: 1,
        notBefore: '2026-11-25T10:04:00.000Z',
        lastError: 'file /dev/full: ENOSPC: no space left on device, write',
      },
      [`SNS ${TOPIC}`]: {
        state: 'delivered',
        at: '2026-11-25T10:03:00.000Z',
        messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    // The summary an older elbscope reads: the sinks delivered, the failing one's backoff.
    expect(entry).toMatchObject({
      attempts: 1,
      notBefore: '2026-11-25T10:04:00.000Z',
      delivered: ['console', `SNS ${TOPIC}`],
    });
    // A sink no longer configured (the alert file dropped) leaves only the receipt to write, with SNS's message id.
    await flushOutbox({ ...r.deps, sink: allSinks([consoleSink(() => undefined), snsSink(client, TOPIC)]) });
    expect(await store.outbox({ op: 'list' })).toEqual([]);
    const stored = await listEvents(store, 'web');
    expect(stored.map((e) => e.publishedAt)).toEqual(Array(4).fill('2026-11-25T10:03:00.000Z'));
    expect(sns.messages).toHaveLength(4);
  });
});

describe("`elbscope watch --alert-file /dev/full --sns-topic T` (the tester's run, the built CLI against the lab)", () => {
  const lab = new LabElb({ name: 'fullfile', region: 'us-east-1', nodesPerAz: { 'us-east-1a': 1, 'us-east-1b': 1 } });
  let env: Record<string, string>;
  let dnsServer: string;
  beforeAll(async () => {
    const started = await lab.start();
    dnsServer = started.dnsServer;
    // No CloudWatch here: its calls go to a closed loopback port and fail as an observation error.
    env = {
      AWS_ENDPOINT_URL_EC2: started.ec2Url,
      AWS_ENDPOINT_URL_SNS: endpoint.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: 'http://127.0.0.1:9',
    };
  });
  afterAll(async () => lab.stop());

  it('SNS gets the scale-up in the cycle it is decided while the file fails; the file gets it once when it works, SNS not again', async () => {
    const store = mkdtempSync(join(tmpdir(), 'elbscope-watch-full-'));
    const watch = (alertFile: string, cycles: number) =>
      runElbscope(
        [
          'watch',
          '--lb',
          lab.dnsName,
          '--dns-server',
          dnsServer,
          '--allow-loopback-nodes',
          '--cycles',
          String(cycles),
          '--interval',
          '1s',
          '--store',
          store,
          '--confirm',
          '1/1',
          '--sns-topic',
          TOPIC,
          '--alert-file',
          alertFile,
        ],
        env,
      );
    expect((await watch('/dev/full', 1)).code).toBe(0); // the baseline
    lab.addNode('us-east-1b', true);
    const full = await watch('/dev/full', 1);
    expect(full.code, full.stderr).toBe(0);
    expect(sns.messages.filter((m) => m.subject === 'elbscope: fullfile us-east-1b scaled 1 -> 2 nodes')).toHaveLength(
      1,
    );
    expect(full.stderr).toMatch(/file \/dev\/full: ENOSPC/);
    const alertFile = join(store, 'alerts.jsonl');
    const fixed = await watch(alertFile, 1);
    expect(fixed.code, fixed.stderr).toBe(0);
    // Every alert the store holds (the scale-up, and what else the runs decided), once each in the file and on SNS.
    const events = JSON.parse((await runElbscope(['events', '--store', store, '--json'])).stdout) as {
      id: string;
      kind: string;
      published: string | null;
    }[];
    expect(events.filter((e) => e.kind === 'scaled')).toHaveLength(1);
    expect(sorted(fileIds(alertFile))).toEqual(sorted(events.map((e) => e.id)));
    expect(sorted(sns.messages.map((m) => m.attributes.eventId ?? '?'))).toEqual(sorted(events.map((e) => e.id)));
    expect(events.every((e) => e.published !== null)).toBe(true);
    expect(fixed.stdout).not.toMatch(/ALERT .* scaled 1 -> 2/); // the console had it in the run that decided it
    const verified = await runElbscope(['verify', '--store', store]);
    expect(verified.code, verified.stderr).toBe(0);
  }, 60_000);
});
