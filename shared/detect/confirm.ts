/** "M of the last N cycles": how long a change must hold before it is an event. */
export interface Confirm {
  m: number;
  n: number;
}

/**
 * The latest value of a series if it held in at least M of the last N samples,
 * else undefined. A sample whose value is undefined is INSUFFICIENT_DATA: it
 * counts for no value, and when the latest sample is one, nothing is confirmed.
 */
export function confirmedValue<S, T>(
  samples: S[],
  read: (s: S) => T | undefined,
  confirm: Confirm,
  same: (a: T, b: T) => boolean = Object.is,
): T | undefined {
  const latest = samples.at(-1);
  if (latest === undefined) return undefined;
  const candidate = read(latest);
  if (candidate === undefined) return undefined;
  const held = samples.slice(-confirm.n).filter((s) => {
    const v = read(s);
    return v !== undefined && same(v, candidate);
  }).length;
  return held >= confirm.m ? candidate : undefined;
}

/** Equality of two sorted string lists. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
