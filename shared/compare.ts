/**
 * Sort comparators for the ASCII identifiers elbscope sorts (AZ names, IP
 * addresses). Why not `localeCompare`: its first call builds an ICU collator,
 * ~15 ms of a one-shot CLI run, and identifiers need no linguistic order.
 */

/** Code-unit order: for ASCII, the order of `localeCompare` without its cost. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Natural order: runs of digits compare as numbers (`127.1.0.9` before
 * `127.1.0.10`), everything else by code unit, as `localeCompare(b, 'en', {
 * numeric: true })` orders IP addresses. One pass over each string.
 */
export function compareNatural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ei = digitsEnd(a, i);
      const ej = digitsEnd(b, j);
      // Leading zeros do not make a number bigger; then the longer run is the bigger number.
      const si = zerosEnd(a, i, ei);
      const sj = zerosEnd(b, j, ej);
      if (ei - si !== ej - sj) return ei - si - (ej - sj);
      for (let k = 0; k < ei - si; k++) {
        const d = a.charCodeAt(si + k) - b.charCodeAt(sj + k);
        if (d !== 0) return d;
      }
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  return a.length - i - (b.length - j);
}

const isDigit = (c: number) => c >= 48 && c <= 57;
function digitsEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}
function zerosEnd(s: string, from: number, end: number): number {
  let k = from;
  while (k < end - 1 && s.charCodeAt(k) === 48) k++;
  return k;
}
