import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { describeError } from '../errors';
import type { Config } from '../config/schema';
import { loadBalancerKey } from '../config/identity';
import { detectCycle, detectTls, type RuleOptions } from '../detect/rules';
import { toCycleSample, toTlsSample } from './sample';
import { decisionFacts, type ChainedEvent, type CycleSample, type RulesMemory } from '../detect/state';
import { commitEvents, type ChainHeads, type Decision } from '../ledger/commit';
import { flushOutbox, type FlushDeps, type FlushResult } from '../ledger/flush';
import { wasSkipped } from '../nodes/observation';
import { isPast } from '../deadline';
import type { CompactSnapshot, LoadBalancerSnapshot } from './snapshot';
import { REPORTED_ONLY_WHEN_NON_ZERO } from '../capacity/cloudwatch';
import type { BackendTls } from './tls-round';

/** What recording a cycle needs: the flush's, and what it tells. */
export interface RecordDeps extends FlushDeps {
  /** Told what each outbox flush did (for metrics: published, retried, undeliverable). */
  onFlush?: (result: FlushResult) => void;
  /**
   * Each load balancer's audit-chain head after its commit this cycle, and its observations' (the anchors a log line
   * carries).
   */
  onHead?: (loadBalancer: string, head: ChainHeads) => void;
}

export type { ChainHeads } from '../ledger/commit';

/** The rule options from the configuration. */
function ruleOptions(config: Config): RuleOptions {
  return {
    confirm: config.detect.confirm,
    tlsConfirm: config.detect.tlsConfirm,
    repeatAfterMs: config.detect.repeatAfterMinutes * 60_000,
    pressureShare: config.detect.pressureShare,
    certWarningDays: config.backendProbe.certWarningDays,
    capacity: {
      surgeQueueShare: config.capacity.surgeQueueShare,
      idleDays: config.capacity.idleDays,
      idleShare: config.capacity.idleShare,
    },
  };
}

/** Record one observation cycle: observations, events, then publish what is in the outbox. */
export async function recordCycle(
  config: Config,
  snapshots: LoadBalancerSnapshot[],
  cycleAt: string,
  deps: RecordDeps,
): Promise<ChainedEvent[]> {
  const options = ruleOptions(config);
  // Load balancers have their own state items: record them side by side, a bounded number at once.
  const limit = pLimit(config.concurrency);
  // One commit per load balancer a cycle: a second snapshot of one key (a caller's bug) would race the first for the
  // state, the winner decided by timing and the loser dropped as a replay. The first is recorded; the others are said.
  const firsts = new Set<string>();
  const perLb = await Promise.all(
    snapshots.map((snapshot) =>
      limit(async () => {
        const lb = snapshot.name;
        if (firsts.has(lb)) {
          deps.warn?.(`${lb}: a second snapshot in one cycle: not recorded (the first one is)`);
          return [];
        }
        firsts.add(lb);
        // Not observed (the cycle ran out of time): nothing to decide on; the next cycle observes it.
        if (wasSkipped(snapshot.observation)) return [];
        if (isPast(deps.finishBy, deps.now)) {
          deps.warn?.(
            `${lb}: not recorded: the cycle's time ran out before its commit; the next cycle observes it again`,
          );
          return [];
        }
        try {
          return await recordOne(lb, snapshot);
        } catch (err) {
          // One load balancer's store trouble (a full disk, a record that does not parse) never stops another's.
          deps.warn?.(`${lb}: not recorded: ${describeError(err)}; the next cycle tries again`, {
            error: describeError(err),
          });
          return [];
        }
      }),
    ),
  );
  const flushed = await flushOutbox(deps); // not inside `onFlush?.(…)`: that skips its argument when unset
  deps.onFlush?.(flushed);
  return perLb.flat();

  /** One load balancer: pre-warm targets, the commit (state and events), the stored observation. */
  async function recordOne(lb: string, snapshot: LoadBalancerSnapshot): Promise<ChainedEvent[]> {
    const prewarms = await deps.store.prewarms({ op: 'list', lb });
    const sample = toCycleSample(snapshot, cycleAt);
    const compact = compactSnapshot(snapshot);
    // What the nodes, the pages and AWS's distress metrics show decides whether to store; LCUs ride along
    // (they change every minute; the window a stored observation carries covers the minutes between stores).
    const metrics = compact.capacity?.metrics ?? {};
    const distress = REPORTED_ONLY_WHEN_NON_ZERO.map((m) => metrics[m] ?? null);
    const key = createHash('sha256')
      .update(JSON.stringify({ ...compact, capacity: distress }))
      .digest('hex')
      .slice(0, 16);
    let steppedBackFrom: string | null = null;
    const events = await commitEvents(
      deps.store,
      lb,
      ({ memory, meta }): Decision => {
        steppedBackFrom = null;
        const standing = cycleStanding(meta.lastCycleAt, memory.samples, cycleAt, deps.now());
        if (standing === 'replay') return { events: [] }; // recorded already
        if (standing === 'clock-stepped-back') steppedBackFrom = meta.lastCycleAt;
        meta.lastCycleAt = cycleAt;
        // Observations for reports: when what they show changed, and every observationEveryMinutes anyway
        // (and at once after the clock stepped back: the time since the last one is not known then). The commit
        // chains it (a stored observation changed, removed or inserted shows in `verify`).
        const last = meta.observed ?? null;
        const since = last ? Date.parse(cycleAt) - Date.parse(last.at) : Number.NaN;
        const storeIt =
          !last || last.key !== key || since >= config.store.observationEveryMinutes * 60_000 || since < 0;
        if (storeIt) meta.observed = { key, at: cycleAt };
        const { account, region, name, arn } = snapshot.identity;
        meta.identity = { account, region, name, arn };
        return {
          events: detectCycle(memory, sample, lb, options, prewarms),
          prewarms,
          ...(storeIt
            ? {
                observation: {
                  loadBalancer: lb,
                  at: cycleAt,
                  snapshot: compact,
                  ttlDays: config.store.observationTtlDays,
                },
              }
            : {}),
        };
      },
      {
        at: cycleAt,
        unchanged: (before, after) => sameDecisionInputs(before, after, options.pressureShare),
        onHead: (heads) => deps.onHead?.(lb, heads),
      },
    );
    if (steppedBackFrom !== null) warnSteppedBack(deps, lb, 'cycle', cycleAt, steppedBackFrom);
    return events;
  }
}

/**
 * How a cycle's time stands to the last one recorded. Later: the next cycle. The
 * same time as one recorded (a retried invocation, a queue message delivered again)
 * or an earlier one while the last recorded cycle is behind this clock's now (a late
 * retry of an earlier schedule): a replay, which decides nothing again. Earlier than
 * the last recorded cycle while that one is ahead of this clock's now: the clock
 * stepped back (or ran ahead when that cycle was named) — recorded, not skipped,
 * since skipping would freeze the monitor until the clock caught up again.
 */
function cycleStanding(
  last: string | null,
  recorded: readonly { at: string }[],
  cycleAt: string,
  now: Date,
): 'next' | 'replay' | 'clock-stepped-back' {
  if (last === null || cycleAt > last) return 'next';
  if (cycleAt === last || recorded.some((s) => s.at === cycleAt)) return 'replay';
  return Date.parse(last) > now.getTime() ? 'clock-stepped-back' : 'replay';
}

/** The named log line of a cycle (or TLS round) recorded after the clock stepped back. */
function warnSteppedBack(deps: RecordDeps, lb: string, what: 'cycle' | 'TLS round', at: string, last: string): void {
  deps.warn?.(
    `${lb}: clock-stepped-back: this ${what}'s time ${at} is before the last recorded ${what}'s ${last}, which is ahead of this clock's now ` +
      `${deps.now().toISOString()}: recorded, not skipped as a replay (the trail's times step back here)`,
    { finding: 'clock-stepped-back', [what === 'cycle' ? 'cycle' : 'tlsRound']: at, last },
  );
}

/**
 * Whether a cycle changed nothing the rules decide on: the same confirmed facts,
 * and a window of samples that all look alike (node sets, failing sources,
 * pre-open yes/no, pressure yes/no). Then the state need not be written; a retry
 * of such a cycle decides the same nothing again.
 */
function sameDecisionInputs(before: RulesMemory, after: RulesMemory, pressureShare: number): boolean {
  const view = (s: CycleSample) =>
    JSON.stringify([
      s.perAz,
      Object.keys(s.failures).sort(),
      s.dnsAbsentAzs === null ? null : (s.dnsAbsentAzs ?? []),
      s.capacityFlags ?? [],
      Object.entries(s.backends)
        .sort()
        .map(([b, v]) => [
          b,
          v.reading === null ? null : v.reading > 0,
          v.share === null ? null : v.share > pressureShare,
        ]),
    ]);
  const views = after.samples.map(view);
  if (views.some((v) => v !== views[0]) || before.samples.length !== after.samples.length) return false;
  // The rest of the memory as a whole (decisionFacts leaves out only what moves every cycle; see there).
  return decisionFacts(before) === decisionFacts(after);
}

/** What a stored observation keeps for reports (a few hundred bytes, not the whole snapshot). */
function compactSnapshot(snapshot: LoadBalancerSnapshot): CompactSnapshot {
  return {
    observation: {
      azs: snapshot.observation.azs,
      nodes: snapshot.observation.nodes.map((n) => ({
        ip: n.ip,
        hostname: n.hostname,
        az: n.az,
        eniId: n.eniId,
        state: n.state,
      })),
      errors: snapshot.observation.errors,
    },
    backends: snapshot.backends.map((b) => ({ name: b.name, reading: b.report.reading, error: b.report.error })),
    ...chartedCapacity(snapshot),
  };
}

/**
 * The capacity metrics a report charts: distress (Classic), LCUs (ALB/NLB) and an NLB's ProcessedBytes (its
 * reserved-LCU use).
 */
const CHARTED_METRICS = [
  'SurgeQueueLength',
  'SpilloverCount',
  'RejectedConnectionCount',
  'PeakLCUs',
  'ConsumedLCUs',
  'ProcessedBytes',
] as const;

function chartedCapacity(snapshot: LoadBalancerSnapshot): Pick<CompactSnapshot, 'capacity'> {
  const metrics = snapshot.capacity?.metrics;
  if (!metrics) return {};
  const charted = Object.fromEntries(
    CHARTED_METRICS.filter((m) => metrics[m] !== undefined).map((m) => [m, metrics[m] as [string, number][]]),
  );
  return { capacity: { metrics: charted, reservedLcu: snapshot.capacity?.reservation?.capacityUnits ?? null } };
}

/** Record one TLS probe round, grouped by load balancer, then publish. */
export async function recordTls(
  config: Config,
  results: BackendTls[],
  at: string,
  deps: RecordDeps,
): Promise<ChainedEvent[]> {
  const options = ruleOptions(config);
  const all: ChainedEvent[] = [];
  for (const lbConfig of config.loadBalancers) {
    const lb = loadBalancerKey(lbConfig);
    const mine = results.filter((r) => r.loadBalancer === lbConfig.dnsName);
    if (mine.length === 0) continue;
    const sample = toTlsSample(mine, at);
    try {
      let steppedBackFrom: string | null = null;
      all.push(
        ...(await commitEvents(
          deps.store,
          lb,
          ({ memory, meta }) => {
            steppedBackFrom = null;
            const standing = cycleStanding(meta.lastTlsAt, memory.tlsSamples, at, deps.now());
            if (standing === 'replay') return [];
            if (standing === 'clock-stepped-back') steppedBackFrom = meta.lastTlsAt;
            meta.lastTlsAt = at;
            return detectTls(memory, sample, lb, options);
          },
          { at },
        )),
      );
      if (steppedBackFrom !== null) warnSteppedBack(deps, lb, 'TLS round', at, steppedBackFrom);
    } catch (err) {
      // As in recordCycle: one load balancer's store trouble never stops another's.
      deps.warn?.(`${lb}: TLS round not recorded: ${describeError(err)}; the next round tries again`, {
        error: describeError(err),
      });
    }
  }
  const flushed = await flushOutbox(deps); // not inside `onFlush?.(…)`: that skips its argument when unset
  deps.onFlush?.(flushed);
  return all;
}
