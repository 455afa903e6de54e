import { describe, expect, it } from 'vitest';
import { detectCycle, detectTls, type PrewarmTarget, type RuleOptions } from '../../../shared/detect/rules';
import { emptyMemory, type CycleSample, type RulesMemory, type TlsSample } from '../../../shared/detect/state';
import type { ElbEvent } from '../../../shared/detect/events';

const options: RuleOptions = {
  confirm: { m: 2, n: 3 },
  tlsConfirm: { m: 1, n: 1 },
  repeatAfterMs: 60 * 60_000,
  pressureShare: 0.5,
  certWarningDays: 21,
};
const T0 = Date.parse('2026-11-25T10:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

/** A sample with `counts` nodes per AZ (IPs derived from AZ and index unless given). */
function sample(
  minute: number,
  perAz: Record<string, number | string[]> | null,
  extra: Partial<CycleSample> = {},
): CycleSample {
  return {
    at: at(minute),
    perAz:
      perAz === null
        ? null
        : Object.fromEntries(
            Object.entries(perAz).map(([az, v]) => [
              az,
              Array.isArray(v) ? v : Array.from({ length: v }, (_, i) => `10.${az.slice(-1).charCodeAt(0)}.0.${i + 1}`),
            ]),
          ),
    failures: {},
    backends: {},
    ...extra,
  };
}

/** Run a sequence of samples through the rules; events per step (kind, status, from, to). */
function run(samples: CycleSample[], state: RulesMemory = emptyMemory(), prewarms: PrewarmTarget[] = []) {
  return samples.map((s) => detectCycle(state, s, 'test', options, prewarms).map(short));
}
const short = (e: ElbEvent) =>
  [e.kind, e.status, e.az ?? e.backend, e.from, e.to].filter((x) => x !== null && x !== 'event');

describe('Function: detectTls by kind', () => {
  it('an expired backend certificate is a warning on an ALB, which does not validate it, and critical on a Classic ELB', () => {
    const tls = (m: number, daysLeft: number) => ({
      at: at(m),
      backends: { web: { fingerprint: 'AA:BB', daysLeft, validTo: '2026-11-20T00:00:00.000Z', error: null } },
    });
    const seen = (['application', 'classic'] as const).map((kind) => {
      const state = emptyMemory();
      detectCycle(state, sample(0, { 'us-east-1a': 1 }, { kind }), 'test', options);
      return detectTls(state, tls(1, -7), 'test', options)
        .filter((e) => e.kind === 'cert-expiring')
        .map((e) => [e.severity, e.summary]);
    });
    expect(seen).toEqual([
      [
        [
          'warning',
          'test web: certificate expired (2026-11-20T00:00:00.000Z); the ALB does not validate backend certificates',
        ],
      ],
      [['critical', 'test web: certificate expired (2026-11-20T00:00:00.000Z)']],
    ]);
  });
});

describe('Function: detectCycle', () => {
  it('sets the baseline silently, then fires scaled once after 2 of 3 cycles, with time since the first sign', () => {
    const state = emptyMemory();
    const steps = [
      sample(0, { 'us-east-1a': 1 }),
      sample(1, { 'us-east-1a': 3 }),
      sample(2, { 'us-east-1a': 3 }),
      sample(3, { 'us-east-1a': 3 }),
    ];
    const events = steps.map((s) => detectCycle(state, s, 'test', options));
    expect(events.map((e) => e.map(short))).toEqual([[], [], [['scaled', 'us-east-1a', 1, 3]], []]);
    const scaled = events[2]?.[0];
    expect(scaled?.summary).toBe('test us-east-1a scaled 1 → 3 nodes');
    expect(scaled?.details).toMatchObject({ direction: 'up', sinceFirstSignMs: 60_000 });
    expect(scaled?.fingerprint).toBe('test|us-east-1a|scaled');
  });

  it('scales up then down', () => {
    expect(run([0, 1, 2, 3, 4, 5].map((m) => sample(m, { 'us-east-1a': m < 1 || m > 3 ? 1 : 2 })))).toEqual([
      [],
      [],
      [['scaled', 'us-east-1a', 1, 2]],
      [],
      [],
      [['scaled', 'us-east-1a', 2, 1]],
    ]);
  });

  it('stays quiet when DNS answers flap (a node seen in one cycle of three)', () => {
    const flap = (m: number) => sample(m, { '(all)': m % 3 === 1 ? 3 : 2 });
    expect(run([0, 1, 2, 3, 4, 5, 6].map(flap)).flat()).toEqual([]);
  });

  it('reports a replaced node (same count, other IP)', () => {
    const steps = [
      sample(0, { 'us-east-1b': ['10.0.0.1', '10.0.0.2'] }),
      sample(1, { 'us-east-1b': ['10.0.0.1', '10.0.0.9'] }),
      sample(2, { 'us-east-1b': ['10.0.0.1', '10.0.0.9'] }),
    ];
    expect(run(steps)).toEqual([[], [], [['node-replaced', 'us-east-1b', '10.0.0.2', '10.0.0.9']]]);
  });

  it('reports an AZ added and removed', () => {
    const steps = [
      sample(0, { 'us-east-1a': 1 }),
      sample(1, { 'us-east-1a': 1, 'us-east-1c': 1 }),
      sample(2, { 'us-east-1a': 1, 'us-east-1c': 1 }),
      sample(3, { 'us-east-1a': 1 }),
      sample(4, { 'us-east-1a': 1 }),
    ];
    expect(run(steps)).toEqual([[], [], [['az-added', 'us-east-1c', 0, 1]], [], [['az-removed', 'us-east-1c', 1, 0]]]);
  });

  it('treats an unreachable load balancer as INSUFFICIENT_DATA: no "scaled to 0", a failure, then recovery', () => {
    const down = (m: number) => sample(m, null, { failures: { dns: 'test A: NXDOMAIN' } });
    const steps = [
      sample(0, { 'us-east-1a': 2 }),
      down(1),
      down(2),
      down(3),
      sample(4, { 'us-east-1a': 2 }),
      sample(5, { 'us-east-1a': 2 }),
    ];
    expect(run(steps)).toEqual([[], [], [['observation-failed', 'firing']], [], [], [['recovered']]]);
  });

  it("fails and recovers a backend whose name holds the key's separator (web|1) once each", () => {
    const failing = (m: number) =>
      sample(m, { 'us-east-1a': 1 }, { failures: { 'backend:web|1': 'http://10.0.0.1/server-status: HTTP 500' } });
    const steps = [
      sample(0, { 'us-east-1a': 1 }),
      failing(1),
      failing(2),
      failing(3),
      sample(4, { 'us-east-1a': 1 }),
      sample(5, { 'us-east-1a': 1 }),
      sample(6, { 'us-east-1a': 1 }),
    ];
    expect(run(steps)).toEqual([
      [],
      [],
      [['observation-failed', 'firing', 'web|1']],
      [],
      [],
      [['recovered', 'web|1']],
      [],
    ]);
  });

  it('keeps conditions by kind and scope, never parsed: a stored state from before (`lb|scope|kind` keys) is upgraded and its conditions resolve once', () => {
    const state = emptyMemory();
    const failing = (m: number) =>
      sample(m, { 'us-east-1a': 1 }, { failures: { 'backend:web|1': 'http://10.0.0.1/server-status: HTTP 500' } });
    for (const m of [0, 1, 2])
      detectCycle(state, m === 0 ? sample(0, { 'us-east-1a': 1 }) : failing(m), 'test', options);
    expect(Object.values(state.conditions)).toEqual([
      { kind: 'observation-failed', scope: 'backend:web|1', since: at(2), lastNotified: at(2) },
    ]);
    // As an earlier elbscope stored it: the key `lb|scope|kind`, the condition without kind and scope.
    const legacy: RulesMemory = {
      ...structuredClone(state),
      conditions: {
        'test|backend:web|1|observation-failed': { since: at(2), lastNotified: at(2) },
        'test|-|spillover': { since: at(2), lastNotified: at(2) },
      },
    };
    const events = [3, 4, 5].map((m) =>
      detectCycle(legacy, sample(m, { 'us-east-1a': 1 }), 'test', options).map((e) => [e.kind, e.backend]),
    );
    expect(events).toEqual([[], [['recovered', 'web|1']], []]);
    expect(Object.values(legacy.conditions)).toEqual([
      { kind: 'spillover', scope: null, since: at(2), lastNotified: at(2) },
    ]);
  });

  it('fires az-out-of-dns once when every node of an AZ leaves DNS while its ENIs stay, and resolves once when they return', () => {
    const out = (m: number, absent: string[], nlb: boolean) =>
      sample(m, { 'us-east-1a': 1, 'us-east-1b': 1 }, { dnsAbsentAzs: absent, nlb });
    for (const nlb of [true, false]) {
      const state = emptyMemory();
      const steps = [
        out(0, [], nlb),
        out(1, ['us-east-1b'], nlb),
        out(2, ['us-east-1b'], nlb),
        out(3, ['us-east-1b'], nlb),
        sample(4, null, { failures: { dns: 'x: SERVFAIL' } }),
        out(5, [], nlb),
        out(6, [], nlb),
        out(7, [], nlb),
      ];
      const events = steps.map((s) => detectCycle(state, s, 'test', options).filter((e) => e.kind === 'az-out-of-dns'));
      expect(events.map((e) => e.map((x) => [x.status, x.az, x.severity]))).toEqual([
        [],
        [],
        [['firing', 'us-east-1b', nlb ? 'critical' : 'warning']],
        [],
        [],
        [],
        [['resolved', 'us-east-1b', 'info']],
        [],
      ]);
    }
  });

  it("holds az-out-of-dns while DNS is seen only in part (all. unread, the name's answer full): neither fired nor resolved by it", () => {
    const out = (m: number, absent: string[] | null) =>
      sample(m, { 'us-east-1a': 1, 'us-east-1b': 1 }, { dnsAbsentAzs: absent });
    const state = emptyMemory();
    const steps = [
      out(0, []),
      out(1, null),
      out(2, ['us-east-1b']),
      out(3, null),
      out(4, ['us-east-1b']),
      out(5, null),
      out(6, null),
      out(7, null),
      out(8, []),
      out(9, []),
    ];
    const events = steps.map((s) =>
      detectCycle(state, s, 'test', options)
        .filter((e) => e.kind === 'az-out-of-dns')
        .map((e) => e.status),
    );
    // Unknown counts for neither side: 2 of the last 3 must be known and agree.
    expect(events).toEqual([[], [], [], [], ['firing'], [], [], [], [], ['resolved']]);
  });

  it('on an NLB, node counts change with AZs only: a count change or new IP inside an AZ is a warning saying so, an AZ added is as usual', () => {
    const state = emptyMemory();
    const nlb = (m: number, perAz: Record<string, number | string[]>) => sample(m, perAz, { kind: 'network' });
    const steps = [
      nlb(0, { 'us-east-1a': 1 }),
      nlb(1, { 'us-east-1a': 2 }),
      nlb(2, { 'us-east-1a': 2 }),
      nlb(3, { 'us-east-1a': ['10.9.9.9', '10.9.9.8'] }),
      nlb(4, { 'us-east-1a': ['10.9.9.9', '10.9.9.8'] }),
      nlb(5, { 'us-east-1a': ['10.9.9.9', '10.9.9.8'], 'us-east-1b': 1 }),
      nlb(6, { 'us-east-1a': ['10.9.9.9', '10.9.9.8'], 'us-east-1b': 1 }),
    ];
    const events = steps.map((s) => detectCycle(state, s, 'test', options).map((e) => [e.kind, e.severity, e.summary]));
    expect(events.flat()).toEqual([
      [
        'scaled',
        'warning',
        'test us-east-1a scaled 1 → 2 nodes (unexpected: a Network Load Balancer has one static node per AZ)',
      ],
      [
        'node-replaced',
        'warning',
        expect.stringMatching(
          /^test us-east-1a node replaced: .* \(unexpected: a Network Load Balancer has one static node per AZ\)$/,
        ),
      ],
      ['az-added', 'info', 'test us-east-1b added with 1 node'],
    ]);
  });

  it('on an ALB or NLB: no pre-open events, and R above the pressure share is slow-clients (a warning), not reading-pressure', () => {
    for (const kind of ['application', 'network'] as const) {
      const state = emptyMemory();
      const r = (m: number, reading: number, share: number) =>
        sample(m, { 'us-east-1a': 1 }, { kind, backends: { web: { reading, share } } });
      const steps = [
        r(0, 1, 0.1),
        r(1, 0, 0),
        r(2, 0, 0),
        r(3, 9, 0.9),
        r(4, 9, 0.9),
        r(5, 9, 0.9),
        r(6, 1, 0.1),
        r(7, 1, 0.1),
      ];
      const events = steps.map((s) =>
        detectCycle(state, s, 'test', options).map((e) => [e.kind, e.status, e.severity]),
      );
      expect(events.flat()).toEqual([
        ['slow-clients', 'firing', 'warning'],
        ['slow-clients', 'resolved', 'info'],
      ]);
    }
  });

  it('on a Classic ELB (or an unknown kind) the same R is pre-open: events and reading-pressure as the field notes', () => {
    const state = emptyMemory();
    const r = (m: number, reading: number, share: number) =>
      sample(m, { 'us-east-1a': 1 }, { kind: 'classic', backends: { web: { reading, share } } });
    const steps = [r(0, 1, 0.1), r(1, 0, 0), r(2, 0, 0), r(3, 9, 0.9), r(4, 9, 0.9)];
    const kinds = steps.flatMap((s) =>
      detectCycle(state, s, 'test', options).map((e) => `${e.kind}/${e.status}/${e.severity}`),
    );
    expect(kinds).toEqual(['preopen-started/event/info', 'reading-pressure/firing/critical']);
  });

  it('inhibits scaling while the load balancer is unreachable, and catches up after', () => {
    const down = (m: number) => sample(m, null, { failures: { eni: 'UnauthorizedOperation' } });
    const steps = [
      sample(0, { 'us-east-1a': 1 }),
      down(1),
      down(2),
      sample(3, { 'us-east-1a': 4 }),
      sample(4, { 'us-east-1a': 4 }),
    ];
    const events = run(steps);
    expect(
      events
        .slice(0, 4)
        .flat()
        .filter((e) => e[0] === 'scaled'),
    ).toEqual([]);
    expect(events[4]).toContainEqual(['scaled', 'us-east-1a', 1, 4]);
  });

  it('sees pre-open stop and restart on a backend, and ignores one odd cycle', () => {
    const r = (m: number, reading: number) =>
      sample(m, { 'us-east-1a': 1 }, { backends: { 'i-0abc': { reading, share: reading / 64 } } });
    const steps = [r(0, 1), r(1, 7), r(2, 0), r(3, 7), r(4, 0), r(5, 0), r(6, 0), r(7, 16), r(8, 16)];
    expect(run(steps).flat()).toEqual([
      ['preopen-stopped', 'i-0abc', 7, 0],
      ['preopen-started', 'i-0abc', 0, 16],
    ]);
  });

  it('fires reading-pressure when R holds more than half the slots, repeats after the interval, and resolves', () => {
    const r = (m: number, reading: number) =>
      sample(m, { 'us-east-1a': 1 }, { backends: { 'i-0abc': { reading, share: reading / 16 } } });
    const steps = [r(0, 2), r(1, 10), r(2, 10), r(30, 10), r(63, 10), r(64, 3), r(65, 3)];
    expect(run(steps)).toEqual([
      [],
      [],
      [['reading-pressure', 'firing', 'i-0abc', 63]],
      [],
      [['reading-pressure', 'firing', 'i-0abc', 63]],
      [],
      [['reading-pressure', 'resolved', 'i-0abc', 19]],
    ]);
  });

  it('completes a pre-warm once every AZ holds the target, with its duration; and flags an overdue one once', () => {
    const target = (id: string, deadlineMinute: number): PrewarmTarget => ({
      id,
      loadBalancer: 'test',
      nodesPerAz: 3,
      total: null,
      deadline: at(deadlineMinute),
      caseId: '1234',
      requestedAt: at(0),
    });
    const steps = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((m) =>
      sample(m, { 'us-east-1a': m < 6 ? 1 : 3, 'us-east-1b': m < 6 ? 1 : 3 }),
    );
    const events = run(steps, emptyMemory(), [target('pw-1', 30), target('pw-2', 3)]);
    const flat = events.flatMap((e, i) => e.map((x) => [i, ...x]));
    expect(flat.filter((e) => String(e[1]).startsWith('prewarm'))).toEqual([
      [4, 'prewarm-overdue', 2],
      [7, 'prewarm-complete', 6],
      [7, 'prewarm-complete', 6],
    ]);
  });

  it('gives the same event id when a retried cycle decides the same change', () => {
    const steps = [sample(0, { 'us-east-1a': 1 }), sample(1, { 'us-east-1a': 2 }), sample(2, { 'us-east-1a': 2 })];
    const a = emptyMemory();
    const b = emptyMemory();
    const first = steps.flatMap((s) => detectCycle(a, s, 'test', options));
    const again = steps.flatMap((s) => detectCycle(b, s, 'test', options));
    expect(first.map((e) => e.id)).toEqual(again.map((e) => e.id));
  });
});

describe('Function: detectTls', () => {
  const tls = (
    day: number,
    fingerprint: string | null,
    daysLeft: number | null,
    error: string | null = null,
  ): TlsSample => ({
    at: new Date(T0 + day * 86_400_000).toISOString(),
    backends: {
      'i-0abc': { fingerprint, daysLeft, validTo: daysLeft === null ? null : '2027-01-01T00:00:00.000Z', error },
    },
  });

  it('reports a certificate change, expiry warning, TLS failure and their ends', () => {
    const state = emptyMemory();
    const rounds = [
      tls(0, 'AA', 40),
      tls(1, 'AA', 20),
      tls(2, 'BB', 365),
      tls(3, null, null, 'connection refused'),
      tls(4, 'BB', 363),
    ];
    const events = rounds.map((r) => detectTls(state, r, 'test', options).map(short));
    expect(events).toEqual([
      [],
      [['cert-expiring', 'firing', 'i-0abc', 20]],
      [
        ['cert-expiring', 'resolved', 'i-0abc', 365],
        ['cert-changed', 'i-0abc', 'AA', 'BB'],
      ],
      [['tls-failed', 'firing', 'i-0abc']],
      [['tls-failed', 'resolved', 'i-0abc']],
    ]);
  });
});
