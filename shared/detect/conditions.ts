import type { FiringCondition } from './state';

/** A memory that keeps firing conditions (a load balancer's rules', or discovery's). */
type WithConditions = { conditions: Record<string, FiringCondition> };

/**
 * Firing conditions, keyed by what they are about — a kind and a scope (an AZ, a
 * backend, a failing source, a discovery scope; null: the whole load balancer) —
 * and carrying both, so nothing is ever parsed back out of a key: a backend named
 * `web|1` is a scope like any other.
 */

/** The state's key for a condition: its kind and scope, as JSON (one spelling, no separator to collide with). */
export function conditionKey(kind: string, scope: string | null): string {
  return JSON.stringify([kind, scope]);
}

/** The scopes of `kind`'s firing conditions. */
export function firingScopes(state: WithConditions, kind: string): (string | null)[] {
  return Object.values(state.conditions)
    .filter((c) => c.kind === kind)
    .map((c) => c.scope ?? null);
}

/** How a condition announces itself: firing (first or repeated, since when), or resolved. */
export type Fire = (status: 'firing' | 'resolved', repeat: boolean, since: string) => void;

/**
 * Fire, repeat or resolve the condition `kind` on `scope`. `active` is the
 * confirmed truth (undefined: not confirmed either way, nothing changes); a firing
 * condition is announced again every `repeatAfterMs`.
 */
export function updateCondition(
  state: WithConditions,
  kind: string,
  scope: string | null,
  active: boolean | undefined,
  at: string,
  repeatAfterMs: number,
  fire: Fire,
): void {
  const key = conditionKey(kind, scope);
  const firing = state.conditions[key];
  if (active === true && !firing) {
    state.conditions[key] = { kind, scope, since: at, lastNotified: at };
    fire('firing', false, at);
  } else if (active === true && firing && Date.parse(at) - Date.parse(firing.lastNotified) >= repeatAfterMs) {
    firing.lastNotified = at;
    fire('firing', true, firing.since);
  } else if (active === false && firing) {
    delete state.conditions[key];
    fire('resolved', false, firing.since);
  }
}

/**
 * Conditions an earlier elbscope stored under `lb|scope|kind` keys, rewritten as
 * structured ones — the one place such a key is taken apart: the load balancer's
 * key holds no `|`, nor does a kind, so whatever lies between the first and the
 * last `|` is the scope (`-`: none), `|`s and all. Keys already structured stay.
 */
export function upgradeConditions(state: WithConditions): void {
  for (const [key, condition] of Object.entries(state.conditions)) {
    if (condition.kind !== undefined) continue;
    const first = key.indexOf('|');
    const last = key.lastIndexOf('|');
    delete state.conditions[key];
    if (first < 0 || last === first) continue; // not a condition key of any version: nothing can fire it again
    const scopeText = key.slice(first + 1, last);
    const upgraded: FiringCondition = {
      kind: key.slice(last + 1),
      scope: scopeText === '-' ? null : scopeText,
      since: condition.since,
      lastNotified: condition.lastNotified,
    };
    state.conditions[conditionKey(upgraded.kind as string, upgraded.scope ?? null)] = upgraded;
  }
}
