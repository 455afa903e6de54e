import type { ReportData } from './build';

type ReportEvent = ReportData['events'][number];

const time = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const duration = (ms: number) =>
  ms < 90_000
    ? `${Math.round(ms / 1000)} s`
    : ms < 5_400_000
      ? `${Math.round(ms / 60_000)} min`
      : `${(ms / 3_600_000).toFixed(1)} h`;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The window in a few plain sentences, for someone who will not read the tables:
 * scale-ups (with how long they took from the first sign), pre-warm targets and
 * when they completed, pre-open changes, AWS's capacity signals, TLS trouble, and
 * alerts that were never delivered. Each sentence names times in UTC.
 */
export function summarize(r: ReportData): string[] {
  const out: string[] = [];
  const of = (kind: string, status?: string) =>
    r.events.filter((e) => e.kind === kind && (status === undefined || e.status === status));

  const scaled = of('scaled');
  const ups = scaled.filter((e) => Number(e.to) > Number(e.from));
  if (scaled.length > 0) {
    const first = ups.map((e) => `${e.az} ${e.from} → ${e.to} at ${time(e.at)}`);
    out.push(
      `Scaling: ${plural(ups.length, 'scale-up')}${first.length ? ` (${first.slice(0, 4).join('; ')}${first.length > 4 ? '; …' : ''})` : ''} and ${plural(scaled.length - ups.length, 'scale-down')}.`,
    );
  }
  const azChanges = [...of('az-added'), ...of('az-removed')];
  if (azChanges.length > 0)
    out.push(
      `Availability Zones: ${azChanges.map((e) => `${e.az} ${e.kind === 'az-added' ? 'added' : 'removed'} at ${time(e.at)}`).join('; ')}.`,
    );
  const outOfDns = of('az-out-of-dns', 'firing');
  if (outOfDns.length > 0)
    out.push(`Out of DNS: ${outOfDns.map((e) => `${e.az} from ${time(e.at)}${resolvedAt(r, e)}`).join('; ')}.`);

  for (const p of r.prewarms) {
    const what = [p.nodesPerAz > 0 ? `${plural(p.nodesPerAz, 'node')} per AZ` : '', p.lcu ? `${p.lcu} LCUs` : '']
      .filter(Boolean)
      .join(' and ');
    const caseText = p.caseId ? ` (case ${p.caseId})` : '';
    if (p.outcome === 'complete')
      out.push(
        `Pre-warm${caseText}: ${what} requested ${time(p.requestedAt)}, complete ${time(p.completedAt as string)}${p.durationMs === null ? '' : `, after ${duration(p.durationMs)}`}.`,
      );
    else if (p.outcome === 'overdue')
      out.push(
        `Pre-warm${caseText}: ${what} requested ${time(p.requestedAt)}, not reached by its deadline ${p.deadline ? time(p.deadline) : ''}.`,
      );
    else out.push(`Pre-warm${caseText}: ${what} requested ${time(p.requestedAt)}, not yet reached.`);
  }

  const stopped = of('preopen-stopped');
  const started = of('preopen-started');
  if (stopped.length + started.length > 0)
    out.push(
      `Pre-opened connections: stopped on ${plural(stopped.length, 'backend')}${stopped[0] ? ` (first ${time(stopped[0].at)})` : ''}, started on ${plural(started.length, 'backend')}${started[0] ? ` (first ${time(started[0].at)})` : ''}.`,
    );
  const pressure = [...of('reading-pressure', 'firing'), ...of('slow-clients', 'firing')];
  if (pressure.length > 0)
    out.push(
      `Worker slots held by idle connections: ${pressure.map((e) => `${e.backend} ${e.to}% from ${time(e.at)}${resolvedAt(r, e)}`).join('; ')}.`,
    );

  for (const e of of('spillover', 'firing'))
    out.push(
      `Spillover: ${e.to} requests dropped in the minutes read at ${time(e.at)} (CloudWatch SpilloverCount)${resolvedAt(r, e)}.`,
    );
  for (const e of of('surge-queue', 'firing'))
    out.push(`Surge queue at ${e.to} of 1,024 at ${time(e.at)}${resolvedAt(r, e)}.`);
  for (const e of [...of('lcu-above-reservation', 'firing'), ...of('rejected-connections', 'firing')])
    out.push(`${e.summary.replace(/^\S+: /, '')} at ${time(e.at)}${resolvedAt(r, e)}.`);
  for (const e of of('reservation-provisioned'))
    out.push(`LCU reservation of ${e.to} provisioned in every AZ at ${time(e.at)}.`);

  const tls = [
    ...of('tls-failed', 'firing'),
    ...of('backend-key-rejected', 'firing'),
    ...of('cert-expiring', 'firing'),
  ];
  if (tls.length > 0)
    out.push(`TLS: ${tls.map((e) => `${e.backend} ${e.kind} from ${time(e.at)}${resolvedAt(r, e)}`).join('; ')}.`);
  const failing = of('observation-failed', 'firing');
  if (failing.length > 0)
    out.push(
      `Observation failures: ${failing.map((e) => `${e.summary.replace(/^\S+ /, '').replace(/ observation failing:.*/, '')} from ${time(e.at)}`).join('; ')}.`,
    );
  if (r.undelivered > 0)
    out.push(`Alerts: ${plural(r.undelivered, 'alert')} of this window could not be delivered (see the timeline).`);
  if (out.length === 0)
    out.push(
      r.events.length === 0
        ? 'Nothing changed in this window: no events.'
        : `${plural(r.events.length, 'event')}; see the timeline.`,
    );
  return out;
}

/** ", resolved HH:MM (after N min)" when the condition's resolution is in the window. */
function resolvedAt(r: ReportData, firing: ReportEvent): string {
  const same = (e: ReportEvent) =>
    e.kind === (firing.kind === 'observation-failed' ? 'recovered' : firing.kind) &&
    (e.status === 'resolved' || e.kind === 'recovered') &&
    e.az === firing.az &&
    e.backend === firing.backend &&
    e.at > firing.at;
  const end = r.events.find(same);
  return end
    ? `, resolved ${time(end.at)} (after ${duration(Date.parse(end.at) - Date.parse(firing.at))})`
    : ', not resolved in this window';
}
