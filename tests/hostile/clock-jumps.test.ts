import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCommand } from '../../cli/commands/audit';
import type { AlertSink } from '../../shared/alerts/sinks';
import { parseConfig } from '../../shared/config/load';
import { recordCycle, recordTls } from '../../shared/cycle/record';
import type { BackendTls } from '../../shared/cycle/tls-round';
import { auditLoadBalancer } from '../../shared/report/build';
import { dynamoDbStore } from '../../shared/store/dynamodb';
import { localStore } from '../../shared/store/local';
import type { Store } from '../../shared/ledger/store';
import { startDynalite } from '../helpers/dynalite';
import { nodeSnapshot } from '../helpers/snapshots';

// A wall clock that jumps forward or back (a VM resumed, NTP stepping, a clock
// set by hand) neither deletes stored observations nor makes `verify` call their
// absence tampering, and a cycle after a step back is recorded, not skipped.
// The injected clock moves ±40 days, past the 30-day retention, with cycles and
// verify in between, over both adapters.
const T0 = Date.parse('2026-11-25T10:00:00Z');
const DAY = 86_400_000;
const STEP = 15 * 60_000;
const sink: AlertSink = { description: 'test', publish: async () => ({ messageId: null }) };
const configFor = (dnsName: string, store: Record<string, number> = {}) =>
  parseConfig(
    { loadBalancers: [{ dnsName }], store, capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 } },
    'test',
  );

let dynamo: Awaited<ReturnType<typeof startDynalite>>;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(() => dynamo?.stop());

type Adapter = {
  store: Store;
  prunes: boolean;
  count: (lb: string) => Promise<number>;
  verify: (now: Date) => Promise<{ code: number; out: string; err: string } | null>;
};
const adapters: [string, () => Adapter][] = [
  [
    'a local directory',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'elbscope-clock-'));
      return {
        store: localStore(dir),
        prunes: true,
        count: async (lb) =>
          readdirSync(join(dir, 'loadbalancers', lb, 'observations')).filter((f) => f.endsWith('.json')).length,
        // `elbscope verify` itself, its clock injected.
        verify: async (now) => {
          const out: string[] = [];
          const err: string[] = [];
          let code = 0;
          await verifyCommand(
            { out: (t) => out.push(t), err: (t) => err.push(t), env: {} },
            (c) => (code = c),
            () => now,
          ).parseAsync(['--store', dir], { from: 'user' });
          return { code, out: out.join('\n'), err: err.join('\n') };
        },
      };
    },
  ],
  [
    'DynamoDB (dynalite)',
    () => ({
      store: dynamoDbStore(dynamo.client, dynamo.table),
      prunes: false,
      count: async (lb) => (await observationItems(lb)).length,
      verify: async () => null,
    }),
  ],
];

async function observationItems(lb: string): Promise<{ sk: string; expiresAt: number }[]> {
  const { Items = [] } = await DynamoDBDocumentClient.from(dynamo.client).send(
    new QueryCommand({
      TableName: dynamo.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :obs)',
      ExpressionAttributeValues: { ':pk': `LB#${lb}`, ':obs': 'OBS#' },
      ConsistentRead: true,
    }),
  );
  return Items as { sk: string; expiresAt: number }[];
}

describe.each(adapters)('Clock jumps, %s', (_name, make) => {
  /** Cycles of one load balancer at the given clock times (the clock that names the cycle is the one `now` reads). */
  async function cycles(
    store: Store,
    dnsName: string,
    times: number[],
    warnings: string[] = [],
    config = configFor(dnsName),
  ): Promise<void> {
    for (const t of times) {
      const at = new Date(t);
      await recordCycle(config, [nodeSnapshot(dnsName, ['10.0.0.1', '10.0.0.2'])], at.toISOString(), {
        store,
        sink,
        now: () => at,
        claimant: 't',
        warn: (m) => warnings.push(m),
      });
    }
  }
  /** What `verify` checks of one load balancer, at `now`: nothing broken, and how many observations it counted. */
  async function intact(adapter: Adapter, lb: string, now: number): Promise<{ verified: number; expired: number }> {
    const audit = await auditLoadBalancer(adapter.store, lb, new Date(now));
    expect(audit.firstBreak).toBeNull();
    const cli = await adapter.verify(new Date(now));
    if (cli) {
      // No line about the observations on stderr (what else verify says there, of seals for instance, is not this
      // test's), and exit 0 when none at all.
      expect(cli.err).not.toMatch(/observation|missing|removed/);
      if (cli.err === '') expect(cli.code).toBe(0);
      expect(cli.out).toContain(`${lb}: observations intact`);
    }
    return audit.observationCheck;
  }
  const steps = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * STEP);

  it('forward 40 days, then back: every observation kept, verify intact at each step, the cycles after the step back recorded', async () => {
    const adapter = make();
    const lb = 'fwd';
    const warnings: string[] = [];
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0, 13));
    expect(await adapter.count(lb)).toBe(13);
    expect(await intact(adapter, lb, T0 + 13 * STEP)).toMatchObject({ verified: 13, expired: 0 });

    // 40 days ahead: past the 30-day retention by the wall clock, not by the ledger's own time.
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0 + 40 * DAY + 13 * STEP, 4), warnings);
    expect(await adapter.count(lb)).toBe(17);
    expect(await intact(adapter, lb, T0 + 40 * DAY + 17 * STEP)).toMatchObject({ verified: 17, expired: 0 });

    // Back to the right time: the cycles are recorded (not skipped as "recorded already" for 40 days), and said so.
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0 + 17 * STEP, 4), warnings);
    expect(await adapter.count(lb)).toBe(21);
    expect(await intact(adapter, lb, T0 + 21 * STEP)).toMatchObject({ verified: 21, expired: 0 });
    expect((await adapter.store.getState(lb))?.state.meta.lastCycleAt).toBe(new Date(T0 + 20 * STEP).toISOString());
    expect(warnings.filter((w) => w.includes('clock-stepped-back'))).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^fwd: clock-stepped-back: this cycle's time 2026-11-25T14:15:00\.000Z is before the last recorded cycle's 2027-01-04T14:00:00\.000Z, which is ahead of this clock's now/,
    );
  });

  it('back 40 days, then forward: every observation kept (those stamped 40 days early too), verify intact at each step', async () => {
    const adapter = make();
    const lb = 'back';
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0, 13));
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0 - 40 * DAY + 13 * STEP, 4));
    expect(await adapter.count(lb)).toBe(17);
    expect(await intact(adapter, lb, T0 - 40 * DAY + 17 * STEP)).toMatchObject({ verified: 17, expired: 0 });
    await cycles(adapter.store, `${lb}-1.us-east-1.elb.amazonaws.com`, steps(T0 + 17 * STEP, 4));
    expect(await adapter.count(lb)).toBe(21);
    expect(await intact(adapter, lb, T0 + 21 * STEP)).toMatchObject({ verified: 21, expired: 0 });
    expect(await adapter.store.observations({ op: 'list', lb })).toHaveLength(21);
    // DynamoDB's TTL runs on AWS's clock: an observation stamped 40 days early is not handed to it as already due.
    if (!adapter.prunes) {
      const early = (await observationItems(lb)).filter(
        (item) => Date.parse(item.sk.slice('OBS#'.length, 'OBS#'.length + 24)) < T0,
      );
      expect(early).toHaveLength(4);
      for (const item of early) expect(item.expiresAt * 1000).toBeGreaterThanOrEqual(T0 + 12 * STEP + 30 * DAY);
    }
  });

  it('back 40 days on a ledger that prunes as it goes: what was written during the step back is kept by its place in the chain, not its stamp', async () => {
    const adapter = make();
    const lb = 'pruned';
    const dnsName = `${lb}-1.us-east-1.elb.amazonaws.com`;
    const config = configFor(dnsName, { observationTtlDays: 1 });
    const every2h = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i * 2 * 3_600_000);
    await cycles(adapter.store, dnsName, every2h(T0, 16), [], config);
    // Stamped 40 days early (the clock was wrong), written now: by their stamps long expired, by the ledger hours old.
    const early = every2h(T0 - 40 * DAY + 32 * 3_600_000, 4);
    await cycles(adapter.store, dnsName, early, [], config);
    await cycles(adapter.store, dnsName, every2h(T0 + 40 * 3_600_000, 4), [], config);
    const stamps = new Set((await adapter.store.observations({ op: 'list', lb })).map((o) => Date.parse(o.at)));
    expect(early.filter((t) => !stamps.has(t))).toEqual([]);
    await intact(adapter, lb, T0 + 47 * 3_600_000);
  });

  it('still lets observations go once the ledger itself has run past their retention; a jump lets go of no more than one ordinary cycle would', async () => {
    const adapter = make();
    // One a day (each one differs), kept 3 days: `jumped` then jumps 40 days ahead, `steady` has one more ordinary day.
    const daily = async (lb: string, days: number) => {
      const dnsName = `${lb}-1.us-east-1.elb.amazonaws.com`;
      const config = configFor(dnsName, { observationTtlDays: 3 });
      for (let d = 0; d < days; d++) {
        const at = new Date(T0 + d * DAY);
        await recordCycle(
          config,
          [
            nodeSnapshot(
              dnsName,
              Array.from({ length: 1 + (d % 3) }, (_, n) => `10.0.0.${n + 1}`),
            ),
          ],
          at.toISOString(),
          { store: adapter.store, sink, now: () => at, claimant: 't' },
        );
      }
      return { dnsName, config };
    };
    const jumped = await daily('jumped', 8);
    await daily('steady', 9);
    const before = await adapter.count('jumped');
    if (adapter.prunes) expect(before).toBeLessThan(8); // DynamoDB's TTL drops them on AWS (dynalite keeps them)
    const verdict = await intact(adapter, 'jumped', T0 + 8 * DAY);
    expect(verdict.verified + verdict.expired).toBe(8);

    await cycles(adapter.store, jumped.dnsName, steps(T0 + 40 * DAY, 3), [], jumped.config);
    const kept = async (lb: string) =>
      (await adapter.store.observations({ op: 'list', lb })).filter((o) => Date.parse(o.at) < T0 + 8 * DAY).length;
    expect(await kept('jumped')).toBe(await kept('steady'));
    const after = await intact(adapter, 'jumped', T0 + 40 * DAY + 3 * STEP);
    expect(after.verified + after.expired).toBe(11);
  });
});

describe('A cycle time at or before the last recorded one', () => {
  it('is a replay (nothing decided or recorded again) unless the last recorded cycle is ahead of this clock: then the clock stepped back, and it is recorded and said so', async () => {
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-replay-')));
    const dnsName = 'rep-1.us-east-1.elb.amazonaws.com';
    const config = configFor(dnsName);
    const warnings: string[] = [];
    const run = (cycleAt: number, now: number, ips = ['10.0.0.1']) =>
      recordCycle(config, [nodeSnapshot(dnsName, ips)], new Date(cycleAt).toISOString(), {
        store,
        sink,
        now: () => new Date(now),
        claimant: 't',
        warn: (m) => warnings.push(m),
      });
    // What a cycle decides on and records (a replay may rewrite the same state, never a changed one).
    const version = async () => JSON.stringify((await store.getState('rep'))?.state);
    const M = 60_000;
    await run(T0, T0);
    await run(T0 + M, T0 + M);
    const recorded = await version();
    // The same scheduled time again (a retried invocation), and an earlier one never recorded (a late retry): both
    // replays.
    await run(T0 + M, T0 + 5 * M, ['10.0.0.1', '10.0.0.2']);
    await run(T0 + M / 2, T0 + 5 * M, ['10.0.0.1', '10.0.0.2']);
    expect(await version()).toBe(recorded);
    expect((await store.getState('rep'))?.state.memory.samples.map((x) => x.at)).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + M).toISOString(),
    ]);
    // One cycle named by a clock a day ahead, then the right clock again: recorded at once, not a day later.
    await run(T0 + DAY, T0 + DAY);
    // That same cycle time delivered again, on the right clock: a replay still (never a step back).
    const ahead = await version();
    await run(T0 + DAY, T0 + 2 * M - 1, ['10.0.0.1', '10.0.0.5']);
    expect(await version()).toBe(ahead);
    expect(warnings).toEqual([]);
    await run(T0 + 2 * M, T0 + 2 * M, ['10.0.0.1', '10.0.0.3']);
    expect((await store.getState('rep'))?.state.meta.lastCycleAt).toBe(new Date(T0 + 2 * M).toISOString());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('rep: clock-stepped-back:');
    // Its replay is a replay again: nothing decided twice, nothing said twice.
    const after = await version();
    await run(T0 + 2 * M, T0 + 3 * M, ['10.0.0.1', '10.0.0.4']);
    expect(await version()).toBe(after);
    expect(warnings).toHaveLength(1);
  });
});

describe('A TLS round after the clock stepped back', () => {
  it('is recorded and said so; its replay is not', async () => {
    const store = localStore(mkdtempSync(join(tmpdir(), 'elbscope-tls-clock-')));
    const dnsName = 'tls-1.us-east-1.elb.amazonaws.com';
    const config = parseConfig(
      {
        loadBalancers: [{ dnsName, backends: [{ name: 'b1', tls: { target: '127.0.0.1:1' } }] }],
        capacity: { cloudwatch: { enabled: false }, reservationEveryMinutes: 0 },
      },
      'test',
    );
    const round = (fingerprint: string): BackendTls[] => [
      {
        loadBalancer: dnsName,
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
          daysLeft: 365,
          fingerprint256: fingerprint,
          publicKey: null,
          findings: [],
          error: null,
        },
      },
    ];
    const warnings: string[] = [];
    const run = (at: number, now: number, fingerprint: string) =>
      recordTls(config, round(fingerprint), new Date(at).toISOString(), {
        store,
        sink,
        now: () => new Date(now),
        claimant: 't',
        warn: (m) => warnings.push(m),
      });
    await run(T0 + DAY, T0 + DAY, 'AB:CD');
    await run(T0 + 3_600_000, T0 + 3_600_000, 'AB:EF');
    expect((await store.getState('tls'))?.state.meta.lastTlsAt).toBe(new Date(T0 + 3_600_000).toISOString());
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^tls: clock-stepped-back: this TLS round's time 2026-11-25T11:00:00\.000Z is before the last recorded TLS round's 2026-11-26T10:00:00\.000Z/,
    );
    await run(T0 + 3_600_000, T0 + 2 * 3_600_000, 'AB:12');
    expect(warnings).toHaveLength(1);
    expect((await store.getState('tls'))?.state.memory.tlsSamples.map((x) => x.at)).toEqual([
      new Date(T0 + 3_600_000).toISOString(),
    ]);
  });
});

describe('verify and a clock that jumped', () => {
  it('still names observations removed after a jump forward: one record stamped ahead does not make removal look like expiry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-clock-removed-'));
    const store = localStore(dir);
    const dnsName = 'cut-1.us-east-1.elb.amazonaws.com';
    const config = configFor(dnsName);
    const run = async (t: number) =>
      recordCycle(config, [nodeSnapshot(dnsName, ['10.0.0.1'])], new Date(t).toISOString(), {
        store,
        sink,
        now: () => new Date(t),
        claimant: 't',
      });
    for (let i = 0; i < 13; i++) await run(T0 + i * STEP);
    await run(T0 + 40 * DAY);
    for (let i = 14; i < 18; i++) await run(T0 + i * STEP);
    const obs = join(dir, 'loadbalancers', 'cut', 'observations');
    for (const f of readdirSync(obs)
      .filter((n) => n.endsWith('.json'))
      .sort()
      .slice(0, 5))
      rmSync(join(obs, f));
    const audit = await auditLoadBalancer(store, 'cut', new Date(T0 + 18 * STEP));
    expect(audit.firstBreak?.reason).toBe('observations #1-#5 are missing and were not due to expire (removed)');
  });

  it('counts observations pruned when they were due as expired, not removed, when the clock now reads 40 days earlier', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elbscope-clock-behind-'));
    const store = localStore(dir);
    const dnsName = 'late-1.us-east-1.elb.amazonaws.com';
    const config = configFor(dnsName, { observationTtlDays: 1 });
    for (let d = 0; d < 6; d++) {
      const at = new Date(T0 + d * DAY);
      await recordCycle(
        config,
        [
          nodeSnapshot(
            dnsName,
            Array.from({ length: 1 + (d % 2) }, (_, n) => `10.0.0.${n + 1}`),
          ),
        ],
        at.toISOString(),
        { store, sink, now: () => at, claimant: 't' },
      );
    }
    expect(readdirSync(join(dir, 'loadbalancers', 'late', 'observations')).length).toBeLessThan(6);
    const audit = await auditLoadBalancer(store, 'late', new Date(T0 + 6 * DAY - 40 * DAY));
    expect(audit.firstBreak).toBeNull();
    expect(audit.observationCheck.expired).toBeGreaterThan(0);
    expect(audit.observationCheck.verified + audit.observationCheck.expired).toBe(6);
  });
});
