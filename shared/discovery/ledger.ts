import { canonicalJson } from '../canonical-json';
import { makeEvent, type ElbEvent } from '../detect/events';
import type { DiscoveryMemory } from '../detect/state';
import { conditionKey, upgradeConditions } from '../detect/conditions';
import type { DiscoveryScope } from './discover';
import { commitEvents } from '../ledger/commit';
import { DISCOVERY_LEDGER } from '../ledger/keys';
import type { Store } from '../ledger/store';

// Discovery's events belong to no load balancer (a region whose calls fail), but need the
// same commit, audit chain and outbox: discovery keeps a record of its own (DISCOVERY_LEDGER),
// whose memory is its firing conditions alone.

/**
 * `discovery-failed` per region and account: firing on the first refresh that
 * failed there (its load balancers stay watched from the last good answer, so a
 * warning), resolved on the first that answers again. The state's conditions
 * remember which are firing.
 */
function discoveryEvents(
  state: DiscoveryMemory,
  scopes: DiscoveryScope[],
  at: string,
  kept: ReadonlyMap<string, number>,
): ElbEvent[] {
  const events: ElbEvent[] = [];
  upgradeConditions(state);
  for (const scope of scopes) {
    const key = conditionKey('discovery-failed', scope.key);
    const firing = state.conditions[key];
    const base = {
      kind: 'discovery-failed' as const,
      loadBalancer: DISCOVERY_LEDGER,
      az: null,
      backend: null,
      from: null,
      to: null,
      at,
      scope: scope.key,
    };
    if (scope.error && !firing) {
      state.conditions[key] = { kind: 'discovery-failed', scope: scope.key, since: at, lastNotified: at };
      const n = kept.get(scope.key) ?? 0;
      events.push(
        makeEvent({
          ...base,
          status: 'firing',
          severity: 'warning',
          summary: `${scope.error}; ${n > 0 ? `its ${n} load balancer(s) stay watched from the last good answer` : 'nothing of it is watched yet'}`,
          details: { region: scope.region, roleArn: scope.roleArn ?? null, error: scope.error, keptLoadBalancers: n },
        }),
      );
    } else if (!scope.error && firing) {
      delete state.conditions[key];
      events.push(
        makeEvent({
          ...base,
          status: 'resolved',
          severity: 'info',
          summary: `discovery in ${scope.key} works again`,
          details: { region: scope.region, roleArn: scope.roleArn ?? null, failingSince: firing.since },
        }),
      );
    }
  }
  return events;
}

/**
 * The `onRefresh` of discoveringConfig that commits discovery's events to the store (the cycle's flush publishes them).
 */
export function discoveryRecorder(
  store: Store,
): (scopes: DiscoveryScope[], at: string, kept: ReadonlyMap<string, number>) => Promise<void> {
  return async (scopes, at, kept) => {
    // Nothing failing and nothing ever recorded: no ledger to start (one read per refresh).
    if (scopes.every((s) => !s.error) && !(await store.getState<DiscoveryMemory>(DISCOVERY_LEDGER))) return;
    // A rebuilt state (its stored one did not read) is announced by the commit, as for a load balancer.
    await commitEvents<DiscoveryMemory>(
      store,
      DISCOVERY_LEDGER,
      ({ memory }) => discoveryEvents(memory, scopes, at, kept),
      { at, unchanged: (before, after) => canonicalJson(before) === canonicalJson(after) },
    );
  };
}
