import type { CapacityReading } from '../capacity/reading';
import type { Reservation } from '../capacity/reservation';
import { lcuOfNlbBytesPerMinute, ZERO_WHEN_NO_DATAPOINT, type MetricPoints } from '../capacity/cloudwatch';
import type { LoadBalancerKind } from '../nodes/kind';
import { confirmedValue, type Confirm } from './confirm';
import type { Emit } from './events';
import type { Fire } from './conditions';
import type {
  CapacityDerived,
  CapacityEpisode,
  CapacityState,
  CycleSample,
  RulesMemory,
  MinuteFigures,
  ReservationSample,
} from './state';

// The capacity rules and where their meaning comes from (one AWS page each):
// - Classic: https://docs.aws.amazon.com/elasticloadbalancing/latest/classic/elb-cloudwatch-metrics.html
//   (SurgeQueueLength: at most 1,024 queued; SpilloverCount: requests rejected once it is full).
// - ALB: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
//   (RejectedConnectionCount) and the LCU reservation guide,
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/monitor-capacity-unit-reservation.html:
//   "compare the per-minute Sum of PeakLCUs against your reserved capacity value".
// - NLB: https://docs.aws.amazon.com/elasticloadbalancing/latest/network/monitor-capacity-unit-reservation.html:
//   "compare the per-minute ProcessedBytes metric" converted "(bytes per min)*8/60/(10^6)/2.2" (no PeakLCUs).
// - Reservation states (pending, provisioned, failed, rebalancing): the same two guides, and
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeCapacityReservation.html.
//
// Missing is never zero. A metric absent from a read is unknown for the whole window; a
// minute with no datapoint in a well-formed result is 0 only for the metrics AWS reports
// only when non-zero or only while traffic flows (ZERO_WHEN_NO_DATAPOINT). A
// rule without its input holds its state (confirmedValue gives undefined): it neither
// fires nor resolves. reservation-idle needs usage data (IDLE_COVERAGE_SHARE).
//
// Late datapoints. Every read re-reads a trailing window; the rules keep each minute's
// figures by timestamp (`minutes`). A value that arrives or changes for a minute already
// judged replaces the stored one, and the difference (never the value twice) goes to the
// sample that judged the minute and to the firing condition's episode. It never raises
// an event by itself: a condition fires only when the newest sample confirms it, and one
// already firing stays firing.
//
// An event's figures are its episode's: from the first sample of the run that confirmed
// it to the newest minute read, `[from, to)`. A count (spillover, rejected connections)
// is the total over those minutes; a level (surge queue, reserved-LCU use) is its peak.
// Firing carries them as far as they were read; a repeat and the resolved event carry
// them with every late correction taken in once. Events already written are never
// rewritten (the audit trail is append-only).

/** What the capacity rules are told by the configuration. */
export interface CapacityRuleOptions {
  confirm: Confirm;
  repeatAfterMs: number;
  /** `surge-queue` above this share of the surge queue's 1,024. */
  surgeQueueShare: number;
  idleDays: number;
  idleShare: number;
}

/** A Classic ELB's surge queue holds at most 1,024 requests; beyond it, requests spill over (are dropped). */
const SURGE_QUEUE_MAX = 1024;

/**
 * `reservation-idle` needs usage data in at least this share of the idle period's
 * hours (7 days: 84 hours, each with a reserved-LCU-use datapoint): a load balancer
 * CloudWatch says nothing of, or an elbscope that read for a day of the seven, is not
 * evidence of idleness. A silent one (no traffic: well-formed reads with no datapoint) is idle.
 */
export const IDLE_COVERAGE_SHARE = 0.5;

/** The most minutes the rules remember, whatever the window (a trailing window is at most 180). */
const MAX_MINUTES_KEPT = 240;
/** The most minutes of one read looked at (a week; a window is a day at most). */
const MAX_WINDOW_MINUTES = 10_080;

/** Fire, repeat or resolve a load-balancer-wide condition of `kind` (see conditions.ts). */
type Condition = (kind: string, active: boolean | undefined, fire: Fire) => void;

type Figure = keyof MinuteFigures;
/** How a metric condition announces itself, with its episode's figure (see above). */
type Announce = (
  status: 'firing' | 'resolved',
  figure: number | null,
  episode: CapacityEpisode | null,
  repeat: boolean,
  since: string,
) => void;
type Field = 'spillover' | 'surgeMax' | 'rejected' | 'lcu';

/** Per figure: the sample field it goes to, and whether a run of minutes adds up (a count) or peaks (a level). */
const FIGURES: { figure: Figure; field: Field; count: boolean }[] = [
  { figure: 'spillover', field: 'spillover', count: true },
  { figure: 'surge', field: 'surgeMax', count: false },
  { figure: 'rejected', field: 'rejected', count: true },
  { figure: 'lcu', field: 'lcu', count: false },
];

/** The state of a load balancer whose capacity was never read. */
function emptyCapacity(): CapacityState {
  return {
    cursor: null,
    samples: [],
    minutes: {},
    reservation: null,
    reservationSamples: [],
    confirmedReservation: null,
    reservedSince: null,
    peakSinceReserved: null,
  };
}

/**
 * A capacity memory an earlier elbscope stored, in today's shape (in place): its
 * samples' `peakLcu` (PeakLCUs' Maximum, or an NLB's never-published PeakLCUs) is
 * dropped as unknown, and its last reservation read becomes the confirmed baseline.
 */
function upgradeCapacity(cap: CapacityState): void {
  cap.minutes ??= {};
  cap.samples = cap.samples.map((s) => {
    if ('lcu' in s) return s;
    const { peakLcu: _dropped, ...rest } = s as Omit<CapacityDerived, 'lcu'> & { peakLcu?: unknown };
    return { ...rest, lcu: null };
  });
  if (cap.reservationSamples === undefined) {
    cap.reservationSamples = [];
    cap.confirmedReservation = cap.reservation ? sampleOf(cap.reservation) : null;
  }
  delete cap.provisioned;
}

/**
 * The capacity rules, over what CloudWatch and DescribeCapacityReservation said
 * this cycle: `spillover`, `surge-queue`, `rejected-connections`,
 * `lcu-above-reservation` (M of N over the cycles that read new minutes), and the
 * reservation's `reservation-provisioned` / `-failed` / `-rebalancing` (M of N over
 * its reads) and `-idle`.
 */
export function detectCapacity(
  state: RulesMemory,
  sample: CycleSample,
  lb: string,
  options: CapacityRuleOptions,
  emit: Emit,
  condition: Condition,
): void {
  const reading = sample.capacity;
  if (!reading) return;
  const cap = (state.capacity ??= emptyCapacity());
  upgradeCapacity(cap);
  const at = sample.at;
  const kind = reading.kind ?? sample.kind ?? state.kind ?? undefined;
  if (reading.reservation !== undefined && reading.reservation !== null)
    detectReservation(cap, reading.reservation, lb, at, options, emit, condition);
  if (reading.metrics && reading.window)
    detectMetrics(cap, sample, reading.metrics, reading.window, kind, lb, options, emit, condition);
  detectIdle(cap, lb, at, kind, options, emit, condition);
}

/**
 * Which metric gives reserved-LCU use, and how: an ALB's PeakLCUs (per-minute Sum) as is, an NLB's ProcessedBytes
 * converted.
 */
function lcuSource(
  kind: LoadBalancerKind | undefined,
  metrics: MetricPoints,
): { metric: string; convert: (v: number) => number } | null {
  const nlb = kind === 'network' || (kind === undefined && metrics.ProcessedBytes !== undefined);
  if (nlb) return { metric: 'ProcessedBytes', convert: lcuOfNlbBytesPerMinute };
  if (kind === 'application' || (kind === undefined && metrics.PeakLCUs !== undefined))
    return { metric: 'PeakLCUs', convert: (v) => v };
  return null;
}

/**
 * Each minute of the window, with the figures this read makes known there. A metric
 * missing from `metrics` leaves its figure unknown; a minute with no datapoint is 0
 * only for a metric in ZERO_WHEN_NO_DATAPOINT (`implied`: such zeros, as
 * `minute|figure`). Two datapoints for one minute (a repeated one) count once: the larger.
 */
function readMinutes(
  metrics: MetricPoints,
  window: { start: string; end: string },
  kind: LoadBalancerKind | undefined,
): { read: Map<string, MinuteFigures>; implied: Set<string> } {
  const end = Date.parse(window.end);
  const start = Math.max(Date.parse(window.start), end - MAX_WINDOW_MINUTES * 60_000);
  const out = new Map<string, MinuteFigures>();
  const implied = new Set<string>();
  for (let t = minuteOf(start); t < end; t += 60_000) out.set(new Date(t).toISOString(), {});
  const lcu = lcuSource(kind, metrics);
  const sources: { figure: Figure; metric: string; convert: (v: number) => number }[] = [
    { figure: 'spillover', metric: 'SpilloverCount', convert: (v) => v },
    { figure: 'surge', metric: 'SurgeQueueLength', convert: (v) => v },
    { figure: 'rejected', metric: 'RejectedConnectionCount', convert: (v) => v },
    ...(lcu ? [{ figure: 'lcu' as const, ...lcu }] : []),
  ];
  for (const { figure, metric, convert } of sources) {
    const points = metrics[metric];
    if (points === undefined) continue; // not read, or no result for it: unknown
    const byMinute = new Map<string, number>();
    for (const [t, v] of points) {
      const key = new Date(minuteOf(Date.parse(t))).toISOString();
      if (out.has(key)) byMinute.set(key, Math.max(byMinute.get(key) ?? v, v));
    }
    const zeroWhenMissing = ZERO_WHEN_NO_DATAPOINT.includes(metric);
    for (const [key, figures] of out) {
      const v = byMinute.get(key);
      if (v !== undefined) figures[figure] = convert(v);
      else if (zeroWhenMissing) {
        figures[figure] = 0;
        implied.add(`${key}|${figure}`);
      }
    }
  }
  return { read: out, implied };
}

function detectMetrics(
  cap: CapacityState,
  sample: CycleSample,
  metrics: MetricPoints,
  readWindow: NonNullable<CapacityReading['window']>,
  kind: LoadBalancerKind | undefined,
  lb: string,
  options: CapacityRuleOptions,
  emit: Emit,
  condition: Condition,
): void {
  const reading = sample.capacity as CapacityReading;
  const at = sample.at;
  // The raw datapoints serve once: the samples kept in the state stay small.
  delete reading.metrics;
  // A cursor past this read's end: a cycle's clock ran ahead (or this one went back). Minutes "judged"
  // beyond it were never read as they are; forget them and go on from the last minute kept before it,
  // rather than judge nothing until the wall clock catches up with a wrong one.
  if (cap.cursor !== null && readWindow.end < cap.cursor) rewind(cap, readWindow.end);
  // No minute ended since the last read (cycles faster than a minute): nothing new to judge. Late
  // datapoints wait for the next read that has new minutes (they are in its trailing window too).
  if (cap.cursor !== null && readWindow.end <= cap.cursor) return;
  const { read, implied } = readMinutes(metrics, readWindow, kind);
  const minutes = (cap.minutes ??= {});
  const episodes = (cap.episodes ??= {});

  // Minutes judged before: a value that arrived or changed since replaces the stored one, once.
  for (const [minute, figures] of read) {
    if (cap.cursor === null || minute >= cap.cursor) break; // the rest are new (the map is in time order)
    const stored = minutes[minute];
    if (!stored) continue; // outside the trailing window kept: it was judged and let go
    for (const { figure, field, count } of FIGURES) {
      const now = figures[figure];
      const before = stored[figure];
      // A figure unknown now keeps what was read; so does a datapoint read before and absent now (CloudWatch
      // does not take datapoints back: an answer without it says nothing of that minute, it is no 0).
      if (now === undefined || now === before || (before !== undefined && implied.has(`${minute}|${figure}`))) continue;
      stored[figure] = now;
      const judged = cap.samples.find((s) => s.from <= minute && minute < s.to);
      if (judged) judged[field] = merge(judged[field], now, before, count);
      const episode = episodes[conditionOf(figure)];
      if (episode && minute >= episode.from) episode.figure = merge(episode.figure, now, before, count) as number;
      if (figure === 'lcu') recordUsage(cap, minute, now);
    }
  }

  // The new minutes: one sample.
  const from = cap.cursor !== null && cap.cursor > readWindow.start ? cap.cursor : readWindow.start;
  const derived: CapacityDerived = {
    at,
    from,
    to: readWindow.end,
    spillover: null,
    surgeMax: null,
    rejected: null,
    lcu: null,
  };
  for (const [minute, figures] of read) {
    if (minute < from) continue;
    minutes[minute] = figures;
    for (const { figure, field, count } of FIGURES) {
      const v = figures[figure];
      if (v !== undefined) derived[field] = merge(derived[field], v, undefined, count);
    }
    if (figures.lcu !== undefined) recordUsage(cap, minute, figures.lcu);
  }
  // Only the trailing window is remembered (bounded whatever the window says).
  const keepFrom = readWindow.trailingFrom ?? readWindow.start;
  const kept = Object.keys(minutes)
    .filter((m) => m >= keepFrom)
    .sort()
    .slice(-MAX_MINUTES_KEPT);
  cap.minutes = Object.fromEntries(kept.map((m) => [m, minutes[m] as MinuteFigures]));
  cap.cursor = readWindow.end;
  cap.samples = [...cap.samples, derived].slice(-Math.max(options.confirm.n, 1));

  const reserved =
    cap.confirmedReservation === null || cap.confirmedReservation === undefined
      ? undefined
      : cap.confirmedReservation.units;
  /** Whether a figure of `kind` is over its line (undefined: the figure, or the reservation, is unknown). */
  const over = (kind: string, figure: number | null | undefined): boolean | undefined => {
    if (figure === null || figure === undefined) return undefined;
    switch (kind) {
      case 'spillover':
      case 'rejected-connections':
        return figure > 0;
      case 'surge-queue':
        return figure > threshold;
      default:
        return reserved ? figure > reserved : undefined;
    }
  };
  const minuteActive = (kind: string, m: MinuteFigures): boolean | undefined => over(kind, m[FIGURE_OF[kind] ?? 'lcu']);
  /**
   * M of N, and a resolve only once every minute kept (the trailing window) is known and
   * quiet: AWS documents no bound on how late a datapoint arrives, and a minute not yet
   * published reads as quiet (these metrics are reported only when non-zero, or only while
   * traffic flows), so resolving on the newest minutes alone could be false and be followed
   * by a second alert when they arrive. Firing needs no wait: a datapoint is evidence.
   */
  const confirmed = (kind: string): boolean | undefined => {
    const value = confirmedValue(cap.samples, (d: CapacityDerived) => isActive(kind, d), options.confirm);
    return value === false && !Object.values(cap.minutes ?? {}).every((m) => minuteActive(kind, m) === false)
      ? undefined
      : value;
  };
  const threshold = options.surgeQueueShare * SURGE_QUEUE_MAX;
  const nlb = lcuSource(kind, metrics)?.metric === 'ProcessedBytes';
  const useName = nlb ? 'reserved-LCU use (ProcessedBytes at 2.2 Mbps an LCU)' : 'PeakLCUs (per-minute Sum)';
  const flags: string[] = [];

  const isActive = (kind: string, d: CapacityDerived): boolean | undefined => over(kind, d[FIELD_OF[kind] ?? 'lcu']);
  /**
   * Fire, repeat or resolve `kind` with its episode's figures: an open episode takes
   * this sample in first; a new one starts at the first active sample of the run that
   * confirmed it; the resolved event closes it.
   */
  const judge = (kind: string, active: boolean | undefined, field: Field, count: boolean, announce: Announce) => {
    const open = episodes[kind];
    if (open) {
      open.figure = merge(open.figure, derived[field], undefined, count) ?? open.figure;
      open.to = derived.to;
    }
    condition(kind, active, (status, repeat, since) => {
      // A repeat or resolve with no episode kept (a state from before episodes): the run in the last N samples.
      const episode =
        (status === 'firing' && !repeat ? undefined : episodes[kind]) ??
        episodeOf(cap.samples, field, count, (d) => isActive(kind, d));
      if (status === 'resolved' || !episode) delete episodes[kind];
      else episodes[kind] = episode;
      announce(status, episode?.figure ?? derived[field], episode, repeat, since);
    });
  };
  const span = (e: CapacityEpisode | null) => (e ? ` in ${e.from.slice(11, 16)}-${e.to.slice(11, 16)} UTC` : '');

  judge('spillover', confirmed('spillover'), 'spillover', true, (s, figure, episode, repeat, since) =>
    emit('spillover', s, s === 'firing' ? 'critical' : 'info', {
      to: figure,
      summary:
        s === 'firing'
          ? `${lb}: ${figure} requests dropped (SpilloverCount)${span(episode)}: the surge queue is full`
          : `${lb}: no more requests dropped (SpilloverCount 0); ${figure} dropped${span(episode)}`,
      details: {
        spillover: figure,
        from: episode?.from ?? derived.from,
        to: episode?.to ?? derived.to,
        latest: derived.spillover,
        since,
        repeat,
      },
    }),
  );
  if (derived.spillover) flags.push('spillover');

  judge('surge-queue', confirmed('surge-queue'), 'surgeMax', false, (s, figure, episode, repeat, since) =>
    emit('surge-queue', s, s === 'firing' ? 'warning' : 'info', {
      to: figure,
      summary:
        s === 'firing'
          ? `${lb}: surge queue at ${figure} of ${SURGE_QUEUE_MAX} (over ${Math.round(options.surgeQueueShare * 100)}%)${span(episode)}`
          : `${lb}: surge queue back under ${Math.round(threshold)} (now ${derived.surgeMax}; peak ${figure}${span(episode)})`,
      details: {
        surgeQueueLength: figure,
        latest: derived.surgeMax,
        threshold,
        from: episode?.from ?? derived.from,
        to: episode?.to ?? derived.to,
        since,
        repeat,
      },
    }),
  );
  if ((derived.surgeMax ?? 0) > threshold) flags.push('surge');

  judge(
    'rejected-connections',
    confirmed('rejected-connections'),
    'rejected',
    true,
    (s, figure, episode, repeat, since) =>
      emit('rejected-connections', s, s === 'firing' ? 'warning' : 'info', {
        to: figure,
        summary:
          s === 'firing'
            ? `${lb}: ${figure} connections rejected (RejectedConnectionCount)${span(episode)}: the ALB reached its connection limit`
            : `${lb}: no more connections rejected; ${figure} rejected${span(episode)}`,
        details: {
          rejected: figure,
          from: episode?.from ?? derived.from,
          to: episode?.to ?? derived.to,
          latest: derived.rejected,
          since,
          repeat,
        },
      }),
  );
  if (derived.rejected) flags.push('rejected');

  // Nothing confirmed of the reservation yet: unknown (held); confirmed with none: not above.
  const above = reserved === undefined ? undefined : !reserved ? false : confirmed('lcu-above-reservation');
  judge('lcu-above-reservation', above, 'lcu', false, (s, figure, episode, repeat, since) =>
    emit('lcu-above-reservation', s, s === 'firing' ? 'warning' : 'info', {
      to: roundLcu(figure),
      summary:
        s === 'firing'
          ? `${lb}: ${useName} reached ${roundLcu(figure)}, above the ${reserved} LCUs reserved${span(episode)}`
          : `${lb}: ${useName} back within the ${reserved ?? 0} LCUs reserved (now ${roundLcu(derived.lcu)}; peak ${roundLcu(figure)}${span(episode)})`,
      details: {
        lcu: roundLcu(figure),
        latest: roundLcu(derived.lcu),
        metric: nlb ? 'ProcessedBytes' : 'PeakLCUs',
        reserved: reserved ?? null,
        from: episode?.from ?? derived.from,
        to: episode?.to ?? derived.to,
        since,
        repeat,
      },
    }),
  );
  if (reserved && (derived.lcu ?? 0) > reserved) flags.push('lcu');
  sample.capacityFlags = flags;
}

/** Drop what the rules keep from `end` on (minutes, samples), and put the cursor after the last minute kept. */
function rewind(cap: CapacityState, end: string): void {
  const minutes = cap.minutes ?? {};
  for (const m of Object.keys(minutes)) if (m >= end) delete minutes[m];
  cap.samples = cap.samples.filter((s) => s.to <= end);
  const last = Object.keys(minutes).sort().at(-1);
  cap.cursor = last === undefined ? null : new Date(Date.parse(last) + 60_000).toISOString();
}

/** Each metric condition's figure in a minute, and its field in a cycle's derived sample. */
const FIGURE_OF: Record<string, Figure> = {
  spillover: 'spillover',
  'surge-queue': 'surge',
  'rejected-connections': 'rejected',
  'lcu-above-reservation': 'lcu',
};
const FIELD_OF: Record<string, Field> = {
  spillover: 'spillover',
  'surge-queue': 'surgeMax',
  'rejected-connections': 'rejected',
  'lcu-above-reservation': 'lcu',
};

/** The condition a figure feeds. */
function conditionOf(figure: Figure): string {
  return Object.keys(FIGURE_OF).find((kind) => FIGURE_OF[kind] === figure) as string;
}

/**
 * A figure over a run with one minute's value now in place of `before` (unknown: nothing): a count adds the difference,
 * a level peaks.
 */
function merge(acc: number | null, now: number | null, before: number | undefined, count: boolean): number | null {
  if (now === null) return acc;
  if (count) return (acc ?? 0) + now - (before ?? 0);
  return acc === null ? now : Math.max(acc, now);
}

/** A new episode: from the first active sample of the confirming run (the last N) to the newest. */
function episodeOf(
  samples: CapacityDerived[],
  field: Field,
  count: boolean,
  active: (d: CapacityDerived) => boolean | undefined,
): CapacityEpisode | null {
  const first = samples.findIndex((d) => active(d) === true);
  if (first < 0) return null;
  const run = samples.slice(first);
  const figure = run.reduce<number | null>((acc, d) => merge(acc, d[field], undefined, count), null);
  return figure === null
    ? null
    : { from: (run[0] as CapacityDerived).from, to: (run.at(-1) as CapacityDerived).to, figure };
}

/** A minute's reserved-LCU use since the confirmed reservation: its peak, and the hours with usage data. */
function recordUsage(cap: CapacityState, minute: string, lcu: number): void {
  if (cap.reservedSince === null || minute < cap.reservedSince) return;
  cap.peakSinceReserved = Math.max(cap.peakSinceReserved ?? lcu, lcu);
  const hour = minute.slice(0, 13);
  const usage = (cap.usageHours ??= { count: 0, last: null });
  // Hours are counted in time order, each once (a late datapoint for an hour already passed adds no hour).
  if (usage.last === null || hour > usage.last) {
    usage.count++;
    usage.last = hour;
  }
}

/** A reservation read as the rules confirm it. */
function sampleOf(r: Reservation): ReservationSample {
  return { units: r.capacityUnits, states: [...new Set(Object.values(r.azs).map((z) => z.state))].sort() };
}

function sameSample(a: ReservationSample, b: ReservationSample): boolean {
  return a.units === b.units && a.states.length === b.states.length && a.states.every((s, i) => s === b.states[i]);
}

/** Provisioned in every AZ (the old rule: some units, at least one AZ, all provisioned). */
function isProvisioned(s: ReservationSample): boolean {
  return s.units !== null && s.states.length === 1 && s.states[0] === 'provisioned';
}

/**
 * The reservation rules, M of N over the reads like every other rule: a state (units
 * and AZ states) that held M of the last N reads is confirmed; `reservation-provisioned`
 * when a confirmed state is provisioned and was not the one confirmed before (the
 * first confirmed is the baseline); `-failed` / `-rebalancing` while a confirmed read
 * has an AZ so. A state seen once among others confirms nothing and raises nothing; a strict alternation
 * (A B A B) confirms each side in turn at 2 of 3, as it does for every rule (M > N/2 holds only a majority).
 */
function detectReservation(
  cap: CapacityState,
  r: Reservation,
  lb: string,
  at: string,
  options: CapacityRuleOptions,
  emit: Emit,
  condition: Condition,
): void {
  cap.reservation = r;
  const samples = (cap.reservationSamples = [...(cap.reservationSamples ?? []), sampleOf(r)].slice(
    -Math.max(options.confirm.n, 1),
  ));
  const zones = Object.entries(r.azs);
  const held = confirmedValue(samples, (s) => s, options.confirm, sameSample);
  if (held !== undefined) {
    const before = cap.confirmedReservation ?? null;
    if (before !== null && isProvisioned(held) && !sameSample(before, held)) {
      emit('reservation-provisioned', 'event', 'info', {
        to: held.units,
        from: before.units,
        summary: `${lb}: LCU reservation of ${held.units} provisioned in every AZ (${zones.map(([az]) => az).join(', ')})`,
        details: { capacityUnits: held.units, azs: r.azs },
      });
    }
    // A new reservation (or a new size) starts its idle clock afresh.
    if (!held.units) {
      cap.reservedSince = null;
      cap.peakSinceReserved = null;
      delete cap.usageHours;
    } else if (before?.units !== held.units || cap.reservedSince === null) {
      cap.reservedSince = at;
      cap.peakSinceReserved = null;
      delete cap.usageHours;
    }
    cap.confirmedReservation = held;
  }
  const failed = zones.filter(([, z]) => z.state === 'failed');
  condition(
    'reservation-failed',
    confirmedValue(samples, (s) => s.states.includes('failed'), options.confirm),
    (status, repeat, since) =>
      emit('reservation-failed', status, status === 'firing' ? 'critical' : 'info', {
        to: r.capacityUnits,
        summary:
          status === 'firing'
            ? `${lb}: LCU reservation failed in ${failed.map(([az, z]) => `${az}${z.reason ? ` (${z.reason})` : ''}`).join(', ')}`
            : `${lb}: LCU reservation no longer failed`,
        details: { azs: r.azs, since, repeat },
      }),
  );
  const rebalancing = zones.filter(([, z]) => z.state === 'rebalancing').map(([az]) => az);
  condition(
    'reservation-rebalancing',
    confirmedValue(samples, (s) => s.states.includes('rebalancing'), options.confirm),
    (status, repeat, since) =>
      emit('reservation-rebalancing', status, status === 'firing' ? 'warning' : 'info', {
        summary:
          status === 'firing'
            ? `${lb}: LCU reservation rebalancing in ${rebalancing.join(', ')}`
            : `${lb}: LCU reservation rebalanced`,
        details: { azs: r.azs, since, repeat },
      }),
  );
}

/**
 * `reservation-idle`: the confirmed reservation held `idleDays` while reserved-LCU use
 * stayed under `idleShare` of it, over usage data in at least IDLE_COVERAGE_SHARE of
 * the period's hours: billed capacity unused. Use at or over the share, or no
 * reservation, resolves it; too little usage data holds it (missing is not zero).
 */
function detectIdle(
  cap: CapacityState,
  lb: string,
  at: string,
  kind: LoadBalancerKind | undefined,
  options: CapacityRuleOptions,
  emit: Emit,
  condition: Condition,
): void {
  const confirmed = cap.confirmedReservation ?? null;
  const reserved = confirmed?.units ?? null;
  const hours = cap.usageHours?.count ?? 0;
  const needed = Math.ceil(IDLE_COVERAGE_SHARE * options.idleDays * 24);
  const peak = cap.peakSinceReserved;
  let idle: boolean | undefined;
  if (confirmed === null)
    idle = undefined; // nothing confirmed yet
  else if (!reserved) idle = false;
  else if (peak !== null && peak >= options.idleShare * reserved) idle = false;
  else if (cap.reservedSince === null || Date.parse(at) - Date.parse(cap.reservedSince) < options.idleDays * 86_400_000)
    idle = false;
  else if (hours < needed || peak === null) idle = undefined;
  else idle = true;
  const use = kind === 'network' ? 'reserved-LCU use (ProcessedBytes)' : 'PeakLCUs (per-minute Sum)';
  condition('reservation-idle', idle, (status, repeat, since) =>
    emit('reservation-idle', status, status === 'firing' ? 'warning' : 'info', {
      to: roundLcu(peak),
      from: reserved,
      summary:
        status === 'firing'
          ? `${lb}: ${reserved} LCUs reserved since ${cap.reservedSince} while ${use} stayed at most ${roundLcu(peak)} ` +
            `(under ${Math.round(options.idleShare * 100)}%) over ${hours} hours of usage data: billed until cancelled`
          : `${lb}: LCU reservation in use (or changed, or cancelled)`,
      details: {
        reserved,
        reservedSince: cap.reservedSince,
        peakSinceReserved: roundLcu(peak),
        usageHours: hours,
        since,
        repeat,
      },
    }),
  );
}

/** LCU figures to three decimals (an NLB's come from bytes). */
function roundLcu(v: number | null | undefined): number | null {
  return v === null || v === undefined ? null : Math.round(v * 1000) / 1000;
}

/** The start of the minute `ms` falls in. */
function minuteOf(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

/**
 * Whether the confirmed reservation (M of N reads agreed on it, not one read) holds at
 * least `lcu` units, provisioned in every AZ: a pre-warm target in LCUs.
 */
export function reservationReached(confirmed: ReservationSample | null | undefined, lcu: number): boolean {
  return confirmed !== null && confirmed !== undefined && isProvisioned(confirmed) && (confirmed.units ?? 0) >= lcu;
}
