import { confirmedValue, sameList, type Confirm } from './confirm';
import { makeEvent, type ElbEvent, type Emit } from './events';
import type { CycleSample, RulesMemory, TlsSample } from './state';
import { detectCapacity, reservationReached, type CapacityRuleOptions } from './capacity-rules';
import { firingScopes, updateCondition, upgradeConditions } from './conditions';

/** The capacity thresholds when the configuration does not say (its schema's defaults). */
const CAPACITY_DEFAULTS = { surgeQueueShare: 0.5, idleDays: 7, idleShare: 0.2 };

/** Thresholds and timing of the rules (from config `detect`). */
export interface RuleOptions {
  confirm: Confirm;
  tlsConfirm: Confirm;
  /** A condition still firing is re-announced after this long. */
  repeatAfterMs: number;
  /** `reading-pressure` fires above this share of a backend's worker slots. */
  pressureShare: number;
  certWarningDays: number;
  /** The capacity rules' thresholds (CloudWatch and LCU reservations); absent: their defaults. */
  capacity?: Pick<CapacityRuleOptions, 'surgeQueueShare' | 'idleDays' | 'idleShare'>;
}

/** A pre-warm target as recorded by `elbscope prewarm`. */
export interface PrewarmTarget {
  id: string;
  loadBalancer: string;
  nodesPerAz: number;
  total: number | null;
  deadline: string | null;
  caseId: string | null;
  requestedAt: string;
  /** ALB/NLB: LCUs the capacity reservation must hold, provisioned in every AZ (absent or null: none). */
  lcu?: number | null;
}

function emitter(loadBalancer: string, at: string, events: ElbEvent[]): Emit {
  return (kind, status, severity, f) =>
    events.push(
      makeEvent({
        kind,
        status,
        severity,
        loadBalancer,
        at,
        az: f.az ?? null,
        backend: f.backend ?? null,
        from: f.from ?? null,
        to: f.to ?? null,
        scope: f.scope ?? null,
        summary: f.summary,
        details: f.details ?? {},
      }),
    );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * `az-out-of-dns`: an AZ whose nodes DNS has all stopped advertising while its ENIs
 * stay, confirmed M of N, resolved when DNS advertises one again (or the AZ is gone).
 * Critical for an NLB (its node leaves DNS when the AZ has no healthy target in a
 * target group: clients there are cut off); a warning for Classic and ALB, whose
 * nodes leave DNS while they drain or are replaced.
 */
function detectAzOutOfDns(
  state: RulesMemory,
  samples: CycleSample[],
  sample: CycleSample,
  lb: string,
  at: string,
  options: RuleOptions,
  emit: Emit,
): void {
  const azs = new Set([
    ...(sample.dnsAbsentAzs ?? []),
    ...firingScopes(state, 'az-out-of-dns').filter((az) => az !== null),
  ]);
  for (const az of azs) {
    // Only samples with nodes judge it: an unreachable load balancer says nothing either way.
    const out = confirmedValue(
      samples,
      (s) => (s.perAz === null || s.dnsAbsentAzs === null ? undefined : (s.dnsAbsentAzs ?? []).includes(az)),
      options.confirm,
    );
    updateCondition(state, 'az-out-of-dns', az, out, at, options.repeatAfterMs, (status, repeat, since) => {
      if (status === 'resolved')
        emit('az-out-of-dns', 'resolved', 'info', {
          az,
          summary: `${lb} ${az}: DNS advertises its nodes again`,
          details: { since },
        });
      else
        emit('az-out-of-dns', 'firing', sample.nlb ? 'critical' : 'warning', {
          az,
          summary: `${lb} ${az}: no node of this AZ is in DNS, though its ENIs remain${sample.nlb ? ' (an NLB AZ with no healthy target)' : ''}`,
          details: { since, repeat, nlb: sample.nlb === true },
        });
    });
  }
}

/**
 * The cycle rules: a new sample and the stored state → events, and the state
 * updated in place. Node and pre-open events need the latest sample to have
 * data: an unreachable load balancer never "scales to 0", and it inhibits those
 * events until it recovers. The first sufficient cycle sets the baseline silently.
 */
export function detectCycle(
  state: RulesMemory,
  sample: CycleSample,
  loadBalancer: string,
  options: RuleOptions,
  prewarms: PrewarmTarget[] = [],
): ElbEvent[] {
  const events: ElbEvent[] = [];
  const at = sample.at;
  const emit = emitter(loadBalancer, at, events);
  upgradeConditions(state);
  state.samples = [...state.samples, sample].slice(-Math.max(options.confirm.n, 1));
  const samples = state.samples;

  // observation-failed / recovered, per failing source (a backend's name may hold any character: scopes are never
  // parsed).
  const sources = new Set([
    ...Object.keys(sample.failures),
    ...firingScopes(state, 'observation-failed').filter((s) => s !== null),
  ]);
  for (const source of sources) {
    const failing = confirmedValue(samples, (s) => s.failures[source] !== undefined, options.confirm);
    const backend = source.startsWith('backend:') ? source.slice('backend:'.length) : null;
    updateCondition(
      state,
      'observation-failed',
      source,
      failing,
      at,
      options.repeatAfterMs,
      (status, repeat, since) => {
        if (status === 'resolved') {
          emit('recovered', 'event', 'info', {
            scope: source,
            backend,
            summary: `${loadBalancer} ${source} recovered`,
            details: { source, failingSince: since },
          });
        } else {
          const reason = sample.failures[source] ?? '';
          emit('observation-failed', 'firing', 'warning', {
            scope: source,
            backend,
            summary: `${loadBalancer} ${source} observation failing: ${reason}`,
            details: { source, reason, since, repeat },
          });
        }
      },
    );
  }

  // What kind of load balancer this is decides what R means (below) and how serious a certificate is (detectTls).
  if (sample.kind) state.kind = sample.kind;
  const preopens = state.kind !== 'application' && state.kind !== 'network'; // Classic, or not known: as the field notes

  // AWS's own capacity signals: they need neither the nodes nor the pages
  // (and an LCU pre-warm target below reads the reservation they keep).
  detectCapacity(
    state,
    sample,
    loadBalancer,
    { confirm: options.confirm, repeatAfterMs: options.repeatAfterMs, ...CAPACITY_DEFAULTS, ...options.capacity },
    emit,
    (kind, active, fire) => updateCondition(state, kind, null, active, at, options.repeatAfterMs, fire),
  );

  if (sample.perAz !== null) {
    detectNodes(state, samples, loadBalancer, at, options, emit);
    detectAzOutOfDns(state, samples, sample, loadBalancer, at, options, emit);
    // Only a Classic ELB pre-opens connections; an ALB's or NLB's R is its clients'.
    if (preopens) detectPreopen(state, samples, sample, loadBalancer, options, emit);
    detectPrewarm(state, loadBalancer, at, prewarms, emit);
  }

  // reading-pressure does not need the nodes, only the backend's page.
  for (const backend of Object.keys(sample.backends)) {
    const share = sample.backends[backend]?.share ?? null;
    const high = confirmedValue(
      samples,
      (s) => {
        const v = s.backends[backend]?.share;
        return v === null || v === undefined ? undefined : v > options.pressureShare;
      },
      options.confirm,
    );
    // On an ALB or NLB the same R is clients that connected and have not sent a request: slow clients, a warning.
    const kind = preopens ? 'reading-pressure' : 'slow-clients';
    updateCondition(state, kind, backend, high, at, options.repeatAfterMs, (status, repeat, since) =>
      emit(kind, status, status === 'firing' ? (preopens ? 'critical' : 'warning') : 'info', {
        backend,
        to: share === null ? null : Math.round(share * 100),
        summary:
          status === 'firing'
            ? preopens
              ? `${loadBalancer} ${backend}: pre-opened connections hold ${share === null ? '?' : Math.round(share * 100)}% of worker slots`
              : `${loadBalancer} ${backend}: connections with no request yet (slow clients) hold ${share === null ? '?' : Math.round(share * 100)}% of worker slots`
            : `${loadBalancer} ${backend}: ${preopens ? 'reading pressure' : 'slow clients'} resolved`,
        details: {
          threshold: options.pressureShare,
          share,
          since,
          repeat,
          reading: sample.backends[backend]?.reading ?? null,
        },
      }),
    );
  }
  return events;
}

/** Said of a node change inside an NLB's AZ: its node and IP are static (one per AZ), so this is not AWS scaling it. */
const NLB_UNEXPECTED = ' (unexpected: a Network Load Balancer has one static node per AZ)';

function detectNodes(
  state: RulesMemory,
  samples: CycleSample[],
  lb: string,
  at: string,
  options: RuleOptions,
  emit: Emit,
): void {
  const latest = samples.at(-1)?.perAz ?? {};
  const nlb = state.kind === 'network';
  if (state.nodes === null) {
    state.nodes = structuredClone(latest); // baseline
    return;
  }
  const stable = state.nodes;
  for (const az of [...new Set([...Object.keys(stable), ...Object.keys(latest)])].sort()) {
    const was = stable[az] ?? [];
    const nowCount = (latest[az] ?? []).length;
    if (nowCount !== was.length) state.firstSign[az] ??= at;
    else delete state.firstSign[az];

    const count = confirmedValue(
      samples,
      (s) => (s.perAz === null ? undefined : (s.perAz[az] ?? []).length),
      options.confirm,
    );
    if (count !== undefined && count !== was.length) {
      const firstSign = state.firstSign[az];
      delete state.firstSign[az];
      stable[az] = [...(latest[az] ?? [])];
      if (was.length === 0) {
        emit('az-added', 'event', 'info', {
          az,
          from: 0,
          to: count,
          summary: `${lb} ${az} added with ${plural(count, 'node')}`,
          details: { nodes: stable[az] },
        });
      } else if (count === 0) {
        delete stable[az];
        emit('az-removed', 'event', 'warning', {
          az,
          from: was.length,
          to: 0,
          summary: `${lb} ${az} removed (had ${plural(was.length, 'node')})`,
          details: { nodes: was },
        });
      } else {
        const sinceFirstSignMs = count > was.length && firstSign ? Date.parse(at) - Date.parse(firstSign) : null;
        // An NLB has one static node per AZ: its counts change with AZs only, so a count change inside an AZ is not
        // scaling.
        emit('scaled', 'event', nlb ? 'warning' : 'info', {
          az,
          from: was.length,
          to: count,
          summary: `${lb} ${az} scaled ${was.length} → ${plural(count, 'node')}${nlb ? NLB_UNEXPECTED : ''}`,
          details: {
            direction: count > was.length ? 'up' : 'down',
            sinceFirstSignMs,
            firstSign: firstSign ?? null,
            nodesBefore: was,
            nodesAfter: stable[az],
          },
        });
      }
      continue;
    }
    const set = confirmedValue(
      samples,
      (s) => (s.perAz === null ? undefined : (s.perAz[az] ?? [])),
      options.confirm,
      sameList,
    );
    if (set !== undefined && set.length === was.length && set.length > 0 && !sameList(set, was)) {
      const gone = was.filter((ip) => !set.includes(ip));
      const added = set.filter((ip) => !was.includes(ip));
      stable[az] = [...set];
      emit('node-replaced', 'event', nlb ? 'warning' : 'info', {
        az,
        from: gone.join(','),
        to: added.join(','),
        summary: `${lb} ${az} node replaced: ${gone.join(', ')} → ${added.join(', ')}${nlb ? NLB_UNEXPECTED : ''}`,
        details: { removed: gone, added },
      });
    }
  }
}

function detectPreopen(
  state: RulesMemory,
  samples: CycleSample[],
  sample: CycleSample,
  lb: string,
  options: RuleOptions,
  emit: Emit,
): void {
  for (const backend of Object.keys(sample.backends)) {
    const open = confirmedValue(
      samples,
      (s) => {
        const r = s.backends[backend]?.reading;
        return r === null || r === undefined ? undefined : r > 0;
      },
      options.confirm,
    );
    if (open === undefined) continue;
    const was = state.preopen[backend];
    state.preopen[backend] = open;
    if (was === undefined || was === open) continue; // baseline, or no change
    const reading = sample.backends[backend]?.reading ?? null;
    const previous =
      [...samples].reverse().find((s) => {
        const r = s.backends[backend]?.reading;
        return r !== null && r !== undefined && r > 0 !== open;
      })?.backends[backend]?.reading ?? null;
    emit(open ? 'preopen-started' : 'preopen-stopped', 'event', open ? 'info' : 'warning', {
      backend,
      from: previous,
      to: reading,
      summary: open
        ? `${lb} ${backend}: pre-opened connections started (${reading} reading)`
        : `${lb} ${backend}: pre-opened connections stopped (0 reading)`,
      details: {},
    });
  }
}

function detectPrewarm(state: RulesMemory, lb: string, at: string, prewarms: PrewarmTarget[], emit: Emit): void {
  const nodes = state.nodes ?? {};
  const counts = Object.values(nodes).map((ips) => ips.length);
  const total = counts.reduce((a, b) => a + b, 0);
  for (const target of prewarms) {
    if (target.loadBalancer !== lb || state.prewarm[target.id] === 'complete') continue;
    // Nodes as the field notes count them; an LCU target (ALB/NLB) also needs its confirmed reservation provisioned
    // everywhere.
    const nodesReached = target.nodesPerAz === 0 || (counts.length > 0 && counts.every((c) => c >= target.nodesPerAz));
    const lcuReached = !target.lcu || reservationReached(state.capacity?.confirmedReservation, target.lcu);
    const reached = nodesReached && lcuReached && (target.total === null || total >= target.total);
    const caseText = target.caseId ? ` (case ${target.caseId})` : '';
    if (reached) {
      const durationMs = Date.parse(at) - Date.parse(target.requestedAt);
      const late = state.prewarm[target.id] === 'overdue';
      state.prewarm[target.id] = 'complete';
      emit('prewarm-complete', 'event', 'info', {
        scope: target.id,
        to: total,
        summary: `${lb} pre-warm${caseText} complete after ${Math.round(durationMs / 60_000)} min${late ? ' (after its deadline)' : ''}`,
        details: {
          targetId: target.id,
          caseId: target.caseId,
          requestedAt: target.requestedAt,
          durationMs,
          nodesPerAz: nodes,
          target: { nodesPerAz: target.nodesPerAz, total: target.total, lcu: target.lcu ?? null },
          reservation: state.capacity?.reservation ?? null,
          late,
        },
      });
    } else if (
      target.deadline &&
      Date.parse(at) > Date.parse(target.deadline) &&
      state.prewarm[target.id] !== 'overdue'
    ) {
      state.prewarm[target.id] = 'overdue';
      emit('prewarm-overdue', 'event', 'warning', {
        scope: target.id,
        to: total,
        summary: `${lb} pre-warm${caseText} overdue: ${target.lcu ? `reservation ${state.capacity?.reservation?.capacityUnits ?? 0} of ${target.lcu} LCUs${target.nodesPerAz > 0 ? ', ' : ''}` : ''}${target.nodesPerAz > 0 ? `${counts.length ? Math.min(...counts) : 0} of ${target.nodesPerAz} nodes per AZ` : ''} at the deadline`,
        details: {
          targetId: target.id,
          caseId: target.caseId,
          deadline: target.deadline,
          nodesPerAz: nodes,
          target: { nodesPerAz: target.nodesPerAz, total: target.total },
        },
      });
    }
  }
}

/**
 * Whether a round shows the backend's key refused by its Classic back-end
 * authentication policy: undefined when that cannot be said (handshake failed,
 * policy not read); false when there is no policy or no Classic ELB.
 */
function keyRejected(b: TlsSample['backends'][string] | undefined, classic: boolean): boolean | undefined {
  if (!b || !classic) return classic ? undefined : false;
  if (b.authKeys === null) return false;
  if (b.authKeys === undefined || !b.publicKey) return undefined;
  return !b.authKeys.includes(b.publicKey);
}

/**
 * The condition kind of a TLS round's own failing sources: the events are
 * `observation-failed` / `recovered` like any source's, but the condition is kept
 * apart, since the node cycle's rule resolves every `observation-failed` its own
 * samples do not show.
 */
const TLS_OBSERVATION_FAILED = 'tls-observation-failed';

/**
 * `observation-failed` / `recovered` for a TLS round's own sources (the Classic
 * back-end authentication lookup: `backend-auth`), confirmed M of N rounds.
 */
function detectTlsObservationFailures(
  state: RulesMemory,
  samples: TlsSample[],
  sample: TlsSample,
  lb: string,
  options: RuleOptions,
  emit: Emit,
): void {
  const sources = new Set([
    ...Object.keys(sample.failures ?? {}),
    ...firingScopes(state, TLS_OBSERVATION_FAILED).filter((s) => s !== null),
  ]);
  for (const source of sources) {
    const failing = confirmedValue(samples, (s) => s.failures?.[source] !== undefined, options.tlsConfirm);
    updateCondition(
      state,
      TLS_OBSERVATION_FAILED,
      source,
      failing,
      sample.at,
      options.repeatAfterMs,
      (status, repeat, since) => {
        if (status === 'resolved')
          return emit('recovered', 'event', 'info', {
            scope: source,
            summary: `${lb} ${source} recovered`,
            details: { source, failingSince: since },
          });
        const reason = sample.failures?.[source] ?? '';
        emit('observation-failed', 'firing', 'warning', {
          scope: source,
          summary: `${lb} ${source} observation failing: ${reason}`,
          details: { source, reason, since, repeat },
        });
      },
    );
  }
}

/**
 * The TLS rules, over the hourly probe rounds: cert-changed, cert-expiring, tls-failed (and the round's
 * observation-failed).
 */
export function detectTls(
  state: RulesMemory,
  sample: TlsSample,
  loadBalancer: string,
  options: RuleOptions,
): ElbEvent[] {
  const events: ElbEvent[] = [];
  const at = sample.at;
  const emit = emitter(loadBalancer, at, events);
  upgradeConditions(state);
  state.tlsSamples = [...state.tlsSamples, sample].slice(-Math.max(options.tlsConfirm.n, 1));
  const samples = state.tlsSamples;
  detectTlsObservationFailures(state, samples, sample, loadBalancer, options, emit);
  for (const backend of Object.keys(sample.backends)) {
    const now = sample.backends[backend];
    const failed = confirmedValue(
      samples,
      (s) => (s.backends[backend] ? s.backends[backend]?.error !== null : undefined),
      options.tlsConfirm,
    );
    updateCondition(state, 'tls-failed', backend, failed, at, options.repeatAfterMs, (status, repeat, since) =>
      emit('tls-failed', status, status === 'firing' ? 'critical' : 'info', {
        backend,
        summary:
          status === 'firing'
            ? `${loadBalancer} ${backend}: TLS failed: ${now?.error}`
            : `${loadBalancer} ${backend}: TLS handshake works again`,
        details: { error: now?.error ?? null, since, repeat },
      }),
    );
    const expiring = confirmedValue(
      samples,
      (s) => {
        const d = s.backends[backend]?.daysLeft;
        return d === null || d === undefined ? undefined : d <= options.certWarningDays;
      },
      options.tlsConfirm,
    );
    // ALBs and NLBs do not validate backend certificates (AWS target group docs), nor does a Classic
    // ELB on a port without a back-end authentication policy: an expired one still serves traffic,
    // so it is a warning there, said so; on a Classic ELB with a policy (or unknown) as before.
    const classic = state.kind !== 'application' && state.kind !== 'network';
    const validates = classic && now?.authKeys !== null;
    const notValidating = !classic
      ? `the ${state.kind === 'application' ? 'ALB' : 'NLB'} does not validate backend certificates`
      : 'the Classic ELB has no back-end authentication policy for this port, so it does not check backend certificates';
    updateCondition(state, 'cert-expiring', backend, expiring, at, options.repeatAfterMs, (status, repeat, since) =>
      emit(
        'cert-expiring',
        status,
        status === 'firing' ? ((now?.daysLeft ?? 0) < 0 && validates ? 'critical' : 'warning') : 'info',
        {
          backend,
          to: now?.daysLeft ?? null,
          summary:
            status === 'firing'
              ? `${loadBalancer} ${backend}: certificate ${(now?.daysLeft ?? 0) < 0 ? 'expired' : `expires in ${now?.daysLeft} days`} (${now?.validTo})${validates ? '' : `; ${notValidating}`}`
              : `${loadBalancer} ${backend}: certificate renewed (valid to ${now?.validTo})`,
          details: { validTo: now?.validTo ?? null, daysLeft: now?.daysLeft ?? null, since, repeat },
        },
      ),
    );
    // A Classic back-end authentication policy accepts listed public keys only: another key is an outage.
    const rejected = confirmedValue(samples, (s) => keyRejected(s.backends[backend], classic), options.tlsConfirm);
    updateCondition(
      state,
      'backend-key-rejected',
      backend,
      rejected,
      at,
      options.repeatAfterMs,
      (status, repeat, since) =>
        emit('backend-key-rejected', status, status === 'firing' ? 'critical' : 'info', {
          backend,
          summary:
            status === 'firing'
              ? `${loadBalancer} ${backend}: its certificate's public key is not in the Classic ELB's back-end authentication policy: the ELB refuses this backend`
              : `${loadBalancer} ${backend}: its public key is accepted again (or the policy is gone)`,
          details: { since, repeat, policyKeys: now?.authKeys?.length ?? null },
        }),
    );
    const fingerprint = confirmedValue(
      samples,
      (s) => s.backends[backend]?.fingerprint ?? undefined,
      options.tlsConfirm,
    );
    if (fingerprint === undefined) continue;
    const was = state.certs[backend];
    state.certs[backend] = fingerprint;
    if (was !== undefined && was !== fingerprint) {
      emit('cert-changed', 'event', 'warning', {
        backend,
        from: was,
        to: fingerprint,
        summary: `${loadBalancer} ${backend}: certificate changed`,
        details: { validTo: now?.validTo ?? null },
      });
    }
  }
  return events;
}
