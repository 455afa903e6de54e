import type { Scenario } from '../../lab/scenario';
import type { ChainedEvent } from '../../shared/detect/state';

/**
 * What differs between a scenario's `expect` list and the events a run stored:
 * each expected event exactly once, inside its time window from `startedAt`
 * (stepped time: no slack), and no event that was not expected. Empty: they agree.
 */
export function scenarioEventProblems(scenario: Scenario, events: ChainedEvent[], startedAt: string): string[] {
  const t0 = Date.parse(startedAt);
  const problems: string[] = [];
  const matched = new Set<string>();
  for (const x of scenario.expect) {
    const hits = events.filter(
      (e) =>
        e.kind === x.kind && e.status === x.status && (x.scope === null || e.fingerprint.split('|')[1] === x.scope),
    );
    const label = `${x.kind}/${x.status}/${x.scope}`;
    if (hits.length !== 1) {
      problems.push(`${label}: ${hits.length} events (${hits.map((h) => h.at).join(', ')})`);
      continue;
    }
    const hit = hits[0] as ChainedEvent;
    matched.add(hit.id);
    const offset = Date.parse(hit.at) - t0;
    if (offset < x.after || offset > x.before)
      problems.push(`${label}: at +${offset} ms, expected ${x.after}-${x.before} ms`);
  }
  for (const e of events)
    if (!matched.has(e.id))
      problems.push(`unexpected: ${e.kind}/${e.status} ${e.summary} at +${Date.parse(e.at) - t0} ms`);
  return problems;
}
