import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchLoop } from '../../cli/commands/watch';
import type { AlertSink } from '../../shared/alerts/sinks';
import { wallClock, type Clock } from '../../shared/clock';
import { parseConfig } from '../../shared/config/load';
import type { CycleDeps } from '../../shared/cycle/observe-configured';
import type { Store } from '../../shared/ledger/store';
import type { DnsLookup } from '../../shared/nodes/dns';
import { localStore } from '../../shared/store/local';
import { recordCycle } from '../../shared/cycle/record';
import { runCycle } from '../../shared/cycle/run';
import { listEvents } from '../../shared/ledger/store';
import { nodeSnapshot } from '../helpers/snapshots';

// The cycle runner as `watch` drives it, with a hostile store, sink and clock: Ctrl-C stops a cycle that cannot end,
// a sink that throws (even a non-Error) is said and the loop goes on, no cycle overlaps the next.
const DNS = 'web-1.us-east-1.elb.amazonaws.com';
const config = parseConfig(
  {
    loadBalancers: [{ dnsName: 'web-1.us-east-1.elb.amazonaws.com' }],
    dns: { queries: 1 },
    eni: { enabled: false },
    capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
  },
  'test',
);
const dnsAnswering = (onQuery: () => void = () => {}): DnsLookup => ({
  resolve4: async () => {
    onQuery();
    return ['52.94.2.1'];
  },
  resolve6: async () => [],
  reverse: async () => ['ec2-52-94-2-1.compute-1.amazonaws.com'],
  resolveCname: async () => Promise.reject(Object.assign(new Error('no data'), { code: 'ENODATA' })),
});
/** A clock whose waits end at once (its time moves by what is waited): nothing here sleeps on the wall clock. */
function steppedClock(start: number): Clock & { t: number } {
  const clock = {
    t: start,
    now: () => clock.t,
    setTimeout: wallClock.setTimeout,
    setInterval: wallClock.setInterval,
    delay: async (ms: number) => {
      clock.t += ms;
    },
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}
/** Let the event loop turn `n` times (no wall-clock wait): a loop that stops promptly has stopped by then. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('Hostile cycle runner in watch', () => {
  it('Ctrl-C stops watch while every store call hangs', async () => {
    const hung = new Proxy({} as Store, {
      get: (_t, p) => (p === 'description' ? 'hung store' : p === 'sealer' ? null : () => new Promise(() => {})),
    });
    const clock = steppedClock(Date.parse('2026-11-25T10:00:00Z'));
    const controller = new AbortController();
    const deps: CycleDeps = { dns: dnsAnswering(), enisFor: null, now: () => new Date(clock.t) };
    const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
    const loop = watchLoop(
      config,
      deps,
      { store: hung, sink, now: deps.now, claimant: 't' },
      {
        interval: 60_000,
        tlsEveryMs: 0,
        signal: controller.signal,
        clock,
        print: () => {},
      },
    ).then(() => 'stopped');
    await turns(20);
    controller.abort();
    expect(await Promise.race([loop, turns(50).then(() => 'still running')])).toBe('stopped');
  });

  it('a clock set back an hour during a cycle delays the next by at most the interval', async () => {
    const clock = steppedClock(Date.parse('2026-11-25T10:00:00Z'));
    const slept: number[] = [];
    clock.sleep = async (ms: number) => {
      slept.push(ms);
      clock.t += ms;
    };
    let cycles = 0;
    const deps: CycleDeps = {
      // The second cycle's observation meets the clock stepped back an hour (NTP, a VM resumed, a hand).
      dns: dnsAnswering(() => {
        if (++cycles === 2) clock.t -= 3_600_000;
      }),
      enisFor: null,
      now: () => new Date(clock.t),
    };
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-runner-')));
    const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
    await watchLoop(
      config,
      deps,
      { store, sink, now: deps.now, claimant: 't' },
      {
        interval: 60_000,
        cycles: 3,
        tlsEveryMs: 0,
        signal: new AbortController().signal,
        clock,
        print: () => {},
      },
    );
    expect(slept).toHaveLength(2);
    for (const ms of slept) expect(ms).toBeLessThanOrEqual(60_000);
  });

  it('two snapshots of one load balancer in a cycle: the first is recorded, the second said, never both', async () => {
    const cfg = parseConfig({ loadBalancers: [{ dnsName: DNS }], detect: { confirm: { m: 1, n: 1 } } }, 'test');
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-runner-')));
    const warnings: string[] = [];
    const published: string[] = [];
    const sink: AlertSink = {
      description: 'test',
      publish: async (e) => {
        published.push(e.summary);
        return { messageId: null };
      },
    };
    for (const [m, first, second] of [
      [0, ['10.0.0.1'], ['10.0.0.1']],
      [1, ['10.0.0.1', '10.0.0.2'], ['10.0.0.1']],
      [2, ['10.0.0.1', '10.0.0.2'], ['10.0.0.1', '10.0.0.2', '10.0.0.3']],
    ] as const) {
      const at = new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
      await recordCycle(cfg, [nodeSnapshot(DNS, [...first]), nodeSnapshot(DNS, [...second])], at, {
        store,
        sink,
        now: () => new Date(at),
        claimant: 't',
        warn: (w) => warnings.push(w),
      });
    }
    expect(published).toEqual(['web us-east-1a scaled 1 → 2 nodes']);
    expect((await listEvents(store)).map((e) => e.record.summary)).toEqual(published);
    expect(warnings).toEqual(Array(3).fill('web: a second snapshot in one cycle: not recorded (the first one is)'));
  });

  it('an observation longer than the interval: cycles follow one another, none overlaps, none waits', async () => {
    const clock = steppedClock(Date.parse('2026-11-25T10:00:00Z'));
    const slept: number[] = [];
    clock.sleep = async (ms: number) => {
      slept.push(ms);
      clock.t += ms;
    };
    const log: string[] = [];
    const deps: CycleDeps = {
      dns: {
        ...dnsAnswering(),
        resolve4: async () => {
          log.push('q');
          await new Promise((r) => setImmediate(r));
          clock.t += 150_000; // two and a half intervals
          return ['52.94.2.1'];
        },
      },
      enisFor: null,
      now: () => new Date(clock.t),
    };
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-runner-')));
    const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
    const cycles: string[] = [];
    await watchLoop(
      config,
      deps,
      { store, sink, now: deps.now, claimant: 't' },
      {
        interval: 60_000,
        cycles: 3,
        tlsEveryMs: 0,
        signal: new AbortController().signal,
        clock,
        print: (_c, _s, at) => {
          cycles.push(at);
          log.push('|');
        },
      },
    );
    // Every query of a cycle comes before its line, and the next cycle's after it.
    expect(log.join('')).toMatch(/^(q+\|){3}$/);
    expect([slept, new Set(cycles).size]).toEqual([[0, 0], 3]);
  });

  it('a sink that throws a non-Error synchronously: the alert waits in the outbox, said, tried again', async () => {
    const cfg = parseConfig({ loadBalancers: [{ dnsName: DNS }], detect: { confirm: { m: 1, n: 1 } } }, 'test');
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-hostile-runner-')));
    const warnings: string[] = [];
    const sink = {
      description: 'bad',
      publish: () => {
        throw 'boom';
      },
    } as unknown as AlertSink;
    for (const [m, ips] of [
      [0, ['10.0.0.1']],
      [1, ['10.0.0.1', '10.0.0.2']],
    ] as const) {
      const at = new Date(Date.UTC(2026, 10, 25, 10, m)).toISOString();
      await recordCycle(cfg, [nodeSnapshot(DNS, [...ips])], at, {
        store,
        sink,
        now: () => new Date(at),
        claimant: 't',
        warn: (w) => warnings.push(w),
      });
    }
    expect(warnings).toEqual([
      expect.stringMatching(/^publishing \w+ failed \(attempt 1\): bad: boom; retried after /),
    ]);
    expect(await store.outbox({ op: 'list' })).toMatchObject([{ record: { kind: 'scaled' }, lastError: 'bad: boom' }]);
  });

  it("the cycle's deadline bounds a store whose every call hangs (the scheduled functions' runner)", async () => {
    const hung = new Proxy({} as Store, {
      get: (_t, p) => (p === 'description' ? 'hung store' : p === 'sealer' ? null : () => new Promise(() => {})),
    });
    const t = Date.parse('2026-11-25T10:00:00Z');
    const deps: CycleDeps = { dns: dnsAnswering(), enisFor: null, now: () => new Date(t) };
    const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
    const waits: number[] = [];
    // A timer that fires on the next turn, whatever it was asked for: the wait asked is what is checked.
    const timer = {
      setTimeout: (fn: () => unknown, ms: number) => {
        waits.push(ms);
        const i = setImmediate(fn);
        return { cancel: () => clearImmediate(i) };
      },
    };
    const run = runCycle(
      config,
      new Date(t).toISOString(),
      deps,
      { record: { store: hung, sink, now: deps.now, claimant: 't' } },
      { startBy: t + 30_000, finishBy: t + 48_000, timer },
    );
    const done = await Promise.race([run, turns(50).then(() => null)]);
    expect(done?.unrecorded).toMatchObject({ name: 'CycleOverdueError', message: expect.stringMatching(/deadline/) });
    expect(waits).toEqual([49_000]);
  });
});
