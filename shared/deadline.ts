/** Whether `deadline` (epoch ms; undefined: none) has come, on the clock `now`. */
export function isPast(deadline: number | undefined, now: () => Date): boolean {
  return deadline !== undefined && now().getTime() >= deadline;
}

/** How a cycle spends its time budget; see cycleDeadlines. */
export interface CycleDeadlines {
  /** No load balancer or backend is started after this (epoch ms). */
  startBy: number;
  /** No commit or publish is started after this (epoch ms). */
  finishBy: number;
}

/**
 * The deadlines of a cycle that has `budgetMs` (a Lambda run's remaining time, or
 * `watch`'s interval): new work starts only in the first 60 % of the budget; the
 * rest is for work already started (each of its calls has its own deadline), the
 * commits and the publishes, which stop before the end (2 s, or a tenth of a short
 * budget). A cycle that will not finish thus commits what it has, and the next one
 * picks up the rest.
 */
export function cycleDeadlines(nowMs: number, budgetMs: number): CycleDeadlines {
  const usable = Math.max(0, budgetMs - Math.min(2_000, budgetMs / 10));
  return { startBy: nowMs + Math.floor(usable * 0.6), finishBy: nowMs + Math.floor(usable) };
}
