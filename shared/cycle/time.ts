/**
 * The time that names a cycle: the scheduled event's `time` when there is one
 * (a retried invocation carries the same), floored to the second; else now.
 */
export function cycleTime(scheduled: string | undefined, now: Date): string {
  const t = scheduled ? Date.parse(scheduled) : Number.NaN;
  const base = Number.isNaN(t) ? now.getTime() : t;
  return new Date(Math.floor(base / 1000) * 1000).toISOString();
}
