import { describe, expect, it } from 'vitest';
import { detectCycle, type PrewarmTarget, type RuleOptions } from '../../../shared/detect/rules';
import { emptyMemory, type CapacityState, type CycleSample, type RulesMemory } from '../../../shared/detect/state';
import type { Reservation } from '../../../shared/capacity/reservation';
import { lcuOfNlbBytesPerMinute, metricsOf } from '../../../shared/capacity/cloudwatch';
import { IDLE_COVERAGE_SHARE } from '../../../shared/detect/capacity-rules';

const options: RuleOptions = {
  confirm: { m: 2, n: 3 },
  tlsConfirm: { m: 1, n: 1 },
  repeatAfterMs: 6 * 3_600_000,
  pressureShare: 0.5,
  certWarningDays: 21,
  capacity: { surgeQueueShare: 0.5, idleDays: 7, idleShare: 0.2 },
};
const T0 = Date.parse('2026-11-25T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const minute = (m: number) => iso(T0 + m * 60_000);
const DAY = 24 * 60;

/** A cycle at minute `m` that read the window of minutes ending at `m` (settled), with these per-minute datapoints. */
function cycle(
  m: number,
  points: Record<string, Record<number, number>>,
  extra: Partial<CycleSample> = {},
  lookback = 10,
): CycleSample {
  const metrics = Object.fromEntries(
    Object.entries(points).map(([name, byMinute]) => [
      name,
      Object.entries(byMinute).map(([mm, v]) => [minute(Number(mm)), v] as [string, number]),
    ]),
  );
  return {
    at: minute(m),
    perAz: { 'us-east-1a': ['10.0.0.1'] },
    failures: {},
    backends: {},
    capacity: { metrics, window: { start: minute(m - lookback), end: minute(m) } },
    ...extra,
  };
}
const classic = (m: number, spill: Record<number, number> = {}, surge: Record<number, number> = {}) =>
  cycle(m, { SurgeQueueLength: surge, SpilloverCount: spill, RequestCount: {} }, { kind: 'classic' });
const detectAll = (state: RulesMemory, samples: CycleSample[], opts = options) =>
  samples.flatMap((s) => detectCycle(state, s, 'web', opts));
const run = (state: RulesMemory, samples: CycleSample[], prewarms: PrewarmTarget[] = [], opts = options) =>
  samples.map((s) => detectCycle(state, s, 'web', opts, prewarms).map((e) => [e.kind, e.status, e.severity, e.to]));
const reservation = (
  units: number | null,
  state: 'pending' | 'provisioned' | 'failed' | 'rebalancing',
  azs = ['us-east-1a', 'us-east-1b'],
): Reservation => ({
  capacityUnits: units,
  decreaseRequestsRemaining: 4,
  azs: Object.fromEntries(
    azs.map((az) => [
      az,
      {
        state,
        reason: state === 'failed' ? 'InsufficientCapacity' : null,
        effectiveUnits: state === 'provisioned' ? units : 0,
      },
    ]),
  ),
});
/** A cycle of a v2 load balancer: its metrics (`undefined`: none read), and its reservation when read. */
const v2 = (
  kind: 'application' | 'network',
  m: number,
  points: Record<string, Record<number, number>> | undefined,
  r?: Reservation | null,
): CycleSample => {
  const base = points ? cycle(m, points) : cycle(m, {});
  const capacity = { ...(points ? base.capacity : {}), ...(r !== undefined ? { reservation: r } : {}) };
  return { ...base, kind, capacity };
};
const alb = (m: number, points: Record<string, Record<number, number>>, r?: Reservation | null) =>
  v2('application', m, { ActiveConnectionCount: {}, RejectedConnectionCount: {}, PeakLCUs: {}, ...points }, r);
const nlb = (m: number, points: Record<string, Record<number, number>> | undefined, r?: Reservation | null) =>
  v2('network', m, points, r);

describe('Capacity rules: spillover and the surge queue (Classic)', () => {
  it("fires once the spillover held 2 of 3 read minutes, with the episode's total, and resolves once every minute kept is quiet, with the total of every minute once", () => {
    const spills = { 3: 40, 4: 25, 5: 10 };
    const state = emptyMemory();
    const quiet = (m: number) => classic(m, spills);
    const events = run(state, [
      classic(2),
      classic(4, { 3: 40 }),
      classic(5, { 3: 40, 4: 25 }),
      ...[6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map(quiet),
    ]);
    // Minutes 2-4 (40 + 25) when it fires; minutes 2-15 (40 + 25 + 10) when it resolves: each minute once, though read
    // 10 times.
    // 2 of 3 quiet samples by minute 8, but the resolve waits until every minute kept (the 10-minute window) is quiet:
    // minute 16.
    expect(events).toEqual([
      [],
      [],
      [['spillover', 'firing', 'critical', 65]],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [],
      [['spillover', 'resolved', 'info', 75]],
    ]);
  });

  it('a cycle in the same minute reads nothing new: it neither confirms nor resolves (4-second lab cycles, or a retry)', () => {
    const state = emptyMemory();
    const at = (m: number, s: number) => ({ ...classic(m, { 3: 40, 4: 25 }), at: iso(T0 + m * 60_000 + s * 1000) });
    const events = run(state, [classic(2), at(4, 0), at(4, 4), at(4, 8), at(5, 0)]);
    expect(events.flat()).toEqual([['spillover', 'firing', 'critical', 65]]);
    expect(state.capacity?.samples.map((s) => [s.from, s.to, s.spillover])).toEqual([
      [minute(-8), minute(2), 0],
      [minute(2), minute(4), 40],
      [minute(4), minute(5), 25],
    ]);
  });

  it("surge-queue fires above the configured share of 1,024 (a warning) and resolves below it, with the episode's peak", () => {
    const state = emptyMemory();
    const surge = { 3: 900, 4: 1024, 5: 100, 6: 0 };
    const events = run(state, [
      classic(2),
      classic(4, {}, surge),
      classic(5, {}, surge),
      classic(6, {}, surge),
      classic(7, {}, surge),
      classic(14, {}, surge),
      classic(15, {}, surge),
    ]);
    // Under the share in 2 of 3 by minute 7; resolved once the window kept holds no minute over it (minute 4's 1,024
    // leaves it at 15).
    expect(events.map((e) => e.length)).toEqual([0, 0, 1, 0, 0, 0, 1]);
    expect(events.flat()).toEqual([
      ['surge-queue', 'firing', 'warning', 1024],
      ['surge-queue', 'resolved', 'info', 1024],
    ]);
  });
});

describe('Capacity rules: late datapoints (a trailing window, keyed by minute)', () => {
  // On time: minute 3's final 55 is there from the first read. Late: minute 3 is missing when first judged,
  // arrives as 40 a minute later, then changes to 55; a late spillover for minute 15 comes after the resolve
  // (which waits until the 10-minute window kept holds no spilling minute: cycle 16).
  const spills = { 3: 55, 4: 25, 5: 10 };
  const quiet = (from: number, to: number, points: Record<number, number> = spills) =>
    Array.from({ length: to - from + 1 }, (_, i) => classic(from + i, points));
  const onTime = () => [
    classic(2),
    classic(4, { 3: 55 }),
    classic(5, { 3: 55, 4: 25 }),
    ...quiet(6, 16),
    classic(17, spills),
  ];
  const late = () => [
    classic(2),
    classic(4),
    classic(5, { 3: 40, 4: 25 }),
    ...quiet(6, 16),
    classic(17, { ...spills, 15: 30 }),
  ];

  it('a late value replaces the minute once, goes to the sample that judged it and to the episode, and changes no alert count', () => {
    const state = emptyMemory();
    const events = run(state, late());
    const shape = (e: unknown[][][]) => e.map((c) => c.map(([kind, status]) => [kind, status]));
    expect(shape(events)).toEqual(shape(run(emptyMemory(), onTime())));
    expect(events.flat()).toEqual([
      ['spillover', 'firing', 'critical', 65],
      ['spillover', 'resolved', 'info', 90],
    ]);
    // Two cycles after minute 3 arrived (40) and changed (55): its sample says 55, not 40 + 55; the minute is 55.
    const mid = emptyMemory();
    run(mid, late().slice(0, 4));
    expect(mid.capacity?.samples.map((s) => [s.from.slice(11, 16), s.spillover])).toEqual([
      ['10:02', 55],
      ['10:04', 25],
      ['10:05', 10],
    ]);
    expect(mid.capacity?.minutes?.[minute(3)]).toEqual({ spillover: 55, surge: 0 });
    // Minute 15's spillover came after the resolve: it is in the sample that judged minute 15, and raised nothing.
    const cap = state.capacity as CapacityState;
    expect(cap.samples.map((s) => [s.from.slice(11, 16), s.spillover])).toEqual([
      ['10:14', 0],
      ['10:15', 30],
      ['10:16', 0],
    ]);
  });

  it('the resolved event carries the episode with every late correction once; a late value after it raises nothing', () => {
    const state = emptyMemory();
    const events = detectAll(state, late());
    const resolved = events.find((e) => e.status === 'resolved');
    expect(resolved?.details).toMatchObject({ spillover: 90, from: minute(2), to: minute(16) });
    expect(resolved?.summary).toBe('web: no more requests dropped (SpilloverCount 0); 90 dropped in 10:02-10:16 UTC');
    expect(events.filter((e) => e.kind === 'spillover')).toHaveLength(2);
  });

  it('minutes CloudWatch publishes late read as quiet at first, yet resolve nothing: no false resolve, no second alert', () => {
    // 50 dropped every minute 0-19; minutes 6-9 reach CloudWatch 4 minutes late (beyond settleMinutes), the rest on
    // time.
    const published = (wall: number) =>
      Object.fromEntries(
        Array.from({ length: 20 }, (_, x) => x)
          .filter((x) => x + 1 + (x >= 6 && x <= 9 ? 4 : 0) <= wall)
          .map((x) => [x, 50]),
      );
    const state = emptyMemory();
    const events = Array.from({ length: 18 }, (_, i) => i + 2).flatMap((m) =>
      detectCycle(state, classic(m, published(m + 2)), 'web', options),
    );
    expect(events.map((e) => [e.kind, e.status])).toEqual([['spillover', 'firing']]);
  });
});

describe('Capacity rules: a clock that ran ahead', () => {
  it('one cycle a day ahead does not freeze the rules until the wall clock catches up: the spillover after it fires', () => {
    const state = emptyMemory();
    const spill = { 3: 100, 4: 100, 5: 100, 6: 100, 7: 100, 8: 100 };
    const events = run(state, [classic(2), classic(2 + DAY), ...[4, 5, 6, 7].map((m) => classic(m, spill))]);
    expect(events.flat().map(([kind, status]) => [kind, status])).toEqual([['spillover', 'firing']]);
    expect(state.capacity?.cursor).toBe(minute(7));
  });
});

describe('Capacity rules: missing is not zero', () => {
  it('a metric missing from a read holds a firing spillover: no resolve', () => {
    const state = emptyMemory();
    const noSpill = (m: number) => cycle(m, { SurgeQueueLength: {} }, { kind: 'classic' });
    const events = run(state, [
      classic(2),
      classic(4, { 3: 40 }),
      classic(5, { 3: 40, 4: 25 }),
      noSpill(6),
      noSpill(7),
      noSpill(8),
    ]);
    expect(events.flat()).toEqual([['spillover', 'firing', 'critical', 65]]);
    expect(Object.values(state.conditions).map((c) => c.kind)).toEqual(['spillover']);
  });

  it('a datapoint read before and absent from a later answer keeps its value: the later answer is no 0 for that minute', () => {
    const state = emptyMemory();
    const events = run(state, [classic(2), classic(4, { 3: 40 }), classic(5, { 4: 25 }), classic(6, { 5: 10 })]);
    expect(events.flat()).toEqual([['spillover', 'firing', 'critical', 65]]);
    expect(state.capacity?.minutes?.[minute(3)]?.spillover).toBe(40);
  });

  it('an ALB reservation whose PeakLCUs is missing from every read never raises reservation-idle', () => {
    const state = emptyMemory();
    const hourly = Array.from({ length: 8 * 24 }, (_, h) =>
      v2(
        'application',
        60 * (h + 1),
        { RejectedConnectionCount: {} },
        h < 2 ? reservation(100, 'provisioned') : undefined,
      ),
    );
    expect(detectAll(state, hourly)).toEqual([]);
  });
});

describe('Capacity rules: ALB connections, LCUs and reservations', () => {
  it('reads PeakLCUs as its per-minute Sum for an ALB, and ProcessedBytes (Sum) for an NLB, which has no PeakLCUs', () => {
    expect(metricsOf('application').find((m) => m.name === 'PeakLCUs')).toEqual({
      name: 'PeakLCUs',
      stat: 'Sum',
      essential: true,
    });
    expect(metricsOf('network', 'essential')).toEqual([{ name: 'ProcessedBytes', stat: 'Sum', essential: true }]);
    expect(metricsOf('network').map((m) => m.name)).not.toContain('PeakLCUs');
    // AWS's "(bytes per min)*8/60/(10^6)/2.2": 16.5 MB a minute is 2.2 Mbps, one LCU.
    expect(lcuOfNlbBytesPerMinute(16_500_000)).toBeCloseTo(1, 12);
  });

  it('rejected-connections is a warning on an ALB that refused connections in 2 of 3 minutes', () => {
    const state = emptyMemory();
    const rejected = { RejectedConnectionCount: { 3: 5, 4: 7 } };
    expect(run(state, [alb(2, {}), alb(4, rejected), alb(5, rejected)]).flat()).toEqual([
      ['rejected-connections', 'firing', 'warning', 12],
    ]);
  });

  it('reservation states confirm M of N: the first confirmed is the baseline; pending -> provisioned is one event; failed and rebalancing fire and resolve', () => {
    const state = emptyMemory();
    const reads = [
      reservation(100, 'provisioned'),
      reservation(100, 'provisioned'),
      reservation(200, 'pending'),
      reservation(200, 'pending'),
      reservation(200, 'rebalancing'),
      reservation(200, 'rebalancing'),
      reservation(200, 'provisioned'),
      reservation(200, 'provisioned'),
      reservation(300, 'failed'),
      reservation(300, 'failed'),
      reservation(300, 'provisioned'),
      reservation(300, 'provisioned'),
    ];
    const events = run(
      state,
      reads.map((r, i) => alb(i + 1, {}, r)),
    );
    expect(events).toEqual([
      [],
      [],
      [],
      [],
      [],
      [['reservation-rebalancing', 'firing', 'warning', null]],
      [],
      [
        ['reservation-provisioned', 'event', 'info', 200],
        ['reservation-rebalancing', 'resolved', 'info', null],
      ],
      [],
      [['reservation-failed', 'firing', 'critical', 300]],
      [],
      [
        ['reservation-provisioned', 'event', 'info', 300],
        ['reservation-failed', 'resolved', 'info', 300],
      ],
    ]);
  });

  it('a flapping reservation raises no event at 2/3 (every reservation rule holds a flap), and each change at 1/1', () => {
    const flaps = [
      'provisioned',
      'provisioned',
      'failed',
      'provisioned',
      'rebalancing',
      'provisioned',
      'failed',
      'provisioned',
      'rebalancing',
      'provisioned',
    ] as const;
    const samples = () => flaps.map((s, i) => alb(i + 1, {}, reservation(100, s)));
    expect(detectAll(emptyMemory(), samples())).toEqual([]);
    const immediate = { ...options, confirm: { m: 1, n: 1 } };
    expect(detectAll(emptyMemory(), samples(), immediate).length).toBeGreaterThan(9);
  });

  it('lcu-above-reservation fires when the per-minute Sum of PeakLCUs exceeds the LCUs reserved in 2 of 3 minutes', () => {
    const state = emptyMemory();
    const peak = { PeakLCUs: { 2: 50, 3: 140, 4: 150, 5: 20, 6: 10 } };
    const r = reservation(100, 'provisioned');
    const events = run(state, [
      alb(1, {}, r),
      alb(2, {}, r),
      alb(4, peak),
      alb(5, peak),
      alb(6, peak),
      alb(7, peak),
      alb(15, peak),
    ]);
    expect(events.flat()).toEqual([
      ['lcu-above-reservation', 'firing', 'warning', 150],
      ['lcu-above-reservation', 'resolved', 'info', 150],
    ]);
  });

  it("an NLB's reserved-LCU use comes from ProcessedBytes by AWS's formula: over the reservation, lcu-above-reservation fires", () => {
    const state = emptyMemory();
    const r = reservation(10, 'provisioned', ['us-east-1a']);
    // 200 MB a minute: 200e6 * 8 / 60 / 1e6 / 2.2 = 12.12 LCUs, over the 10 reserved; 100 MB (6.06) is within.
    const bytes = { ProcessedBytes: { 3: 200e6, 4: 200e6, 5: 100e6, 6: 100e6 } };
    const events = detectAll(state, [
      nlb(1, { ProcessedBytes: {} }, r),
      nlb(2, { ProcessedBytes: {} }, r),
      nlb(4, bytes),
      nlb(5, bytes),
      nlb(6, bytes),
      nlb(7, bytes),
      nlb(15, bytes),
    ]);
    expect(events.map((e) => [e.kind, e.status, e.to])).toEqual([
      ['lcu-above-reservation', 'firing', 12.121],
      ['lcu-above-reservation', 'resolved', 12.121],
    ]);
    expect(events[0]?.summary).toBe(
      'web: reserved-LCU use (ProcessedBytes at 2.2 Mbps an LCU) reached 12.121, above the 10 LCUs reserved in 10:02-10:05 UTC',
    );
  });

  it('an NLB reservation with no usage data (ProcessedBytes missing from the answer, or not read) never raises reservation-idle', () => {
    const r = reservation(10, 'provisioned', ['us-east-1a']);
    const reads: (Record<string, Record<number, number>> | undefined)[] = [{}, undefined];
    for (const points of reads) {
      const hourly = Array.from({ length: 9 * 24 }, (_, h) =>
        nlb(60 * (h + 1), points, h < 2 || h % 5 === 0 ? r : undefined),
      );
      expect(detectAll(emptyMemory(), hourly)).toEqual([]);
    }
  });

  it('an NLB reservation nobody sends traffic through (well-formed ProcessedBytes results with no datapoint: AWS reports none without traffic) is idle', () => {
    const r = reservation(10, 'provisioned', ['us-east-1a']);
    const hourly = Array.from({ length: 9 * 24 }, (_, h) =>
      nlb(60 * (h + 1), { ProcessedBytes: {} }, h < 2 || h % 5 === 0 ? r : undefined),
    );
    expect(
      detectAll(emptyMemory(), hourly)
        .filter((e) => e.details.repeat !== true)
        .map((e) => [e.kind, e.status, e.to]),
    ).toEqual([['reservation-idle', 'firing', 0]]);
  });

  it('reservation-idle fires after idleDays of usage data under idleShare (at least half the hours covered), and resolves when use reaches it', () => {
    const r = reservation(100, 'provisioned');
    const hourly = (use: (h: number) => number | null) =>
      Array.from({ length: 8 * 24 }, (_, h) => {
        const v = use(h);
        // null: that hour's read failed (no metrics), which is no evidence either way.
        return v === null
          ? v2('application', 60 * (h + 1), undefined, h < 2 ? r : undefined)
          : alb(60 * (h + 1), { PeakLCUs: { [60 * (h + 1) - 1]: v } }, h < 2 ? r : undefined);
      });
    const idle = (events: ReturnType<typeof detectAll>) =>
      events
        .filter((e) => e.kind === 'reservation-idle' && e.details.repeat !== true)
        .map((e) => [e.status, e.at, e.to]);
    // Usage every hour, at most 15 of 100: idle once 7 days have passed since the reservation was confirmed (hour 2).
    const always = detectAll(emptyMemory(), [
      ...hourly(() => 15),
      alb(60 * (8 * 24 + 1), { PeakLCUs: { [60 * (8 * 24 + 1) - 1]: 30 } }),
    ]);
    expect(idle(always)).toEqual([
      ['firing', minute(60 * (7 * 24 + 2)), 15],
      ['resolved', minute(60 * (8 * 24 + 1)), 30],
    ]);
    // Usage in fewer than half the hours (a third): no evidence of idleness, nothing.
    expect(
      idle(
        detectAll(
          emptyMemory(),
          hourly((h) => (h % 3 === 0 ? 15 : null)),
        ),
      ),
    ).toEqual([]);
    // Half the hours: enough.
    expect(Math.ceil(IDLE_COVERAGE_SHARE * 7 * 24)).toBe(84);
    expect(
      idle(
        detectAll(
          emptyMemory(),
          hourly((h) => (h % 2 === 0 ? 15 : null)),
        ),
      ).map(([s]) => s),
    ).toEqual(['firing']);
  });

  it('a pre-warm target in LCUs completes when the confirmed reservation (M of N reads) holds them, provisioned in every AZ; one provisioned read is a blip', () => {
    const state = emptyMemory();
    const target: PrewarmTarget = {
      id: 'pw-1',
      loadBalancer: 'web',
      nodesPerAz: 0,
      lcu: 150,
      total: null,
      deadline: null,
      caseId: '42',
      requestedAt: minute(0),
    };
    const reads = [
      reservation(100, 'provisioned'),
      reservation(150, 'pending'),
      reservation(150, 'provisioned'),
      reservation(150, 'pending'),
      reservation(150, 'pending'),
      reservation(150, 'provisioned'),
      reservation(150, 'provisioned'),
    ];
    const events = run(
      state,
      reads.map((r, i) => alb(i + 1, {}, r)),
      [target],
    );
    expect(events.map((e) => e.filter(([k]) => k === 'prewarm-complete'))).toEqual([
      [],
      [],
      [],
      [],
      [],
      [],
      [['prewarm-complete', 'event', 'info', 1]],
    ]);
  });
});

describe('Capacity rules: a state an earlier elbscope stored', () => {
  it("reads: its samples' PeakLCUs Maximum is dropped as unknown, its last reservation is the confirmed baseline, and the rules go on", () => {
    const state = emptyMemory();
    const r = reservation(100, 'provisioned');
    const legacy = {
      cursor: minute(4),
      samples: [
        { at: minute(4), from: minute(2), to: minute(4), spillover: null, surgeMax: null, rejected: 0, peakLcu: 140 },
      ],
      reservation: r,
      provisioned: true,
      reservedSince: minute(0),
      peakSinceReserved: 40,
    };
    state.capacity = legacy as unknown as CapacityState;
    state.kind = 'application';
    expect(run(state, [v2('application', 5, undefined, r)])).toEqual([[]]);
    const cap = state.capacity as CapacityState;
    expect(cap.provisioned).toBeUndefined();
    expect(cap.samples).toEqual([
      { at: minute(4), from: minute(2), to: minute(4), spillover: null, surgeMax: null, rejected: 0, lcu: null },
    ]);
    expect(cap.confirmedReservation).toEqual({ units: 100, states: ['provisioned'] });
    // The same reservation again: no provisioned event (it is the baseline); a new size provisioned: one.
    const events = run(state, [
      alb(6, {}, r),
      alb(7, {}, reservation(200, 'provisioned')),
      alb(8, {}, reservation(200, 'provisioned')),
    ]);
    expect(events.flat()).toEqual([['reservation-provisioned', 'event', 'info', 200]]);
    expect(state.capacity?.confirmedReservation).toEqual({ units: 200, states: ['provisioned'] });
  });
});
