// Apart from cloudwatch.ts so that what computes a window does not load the CloudWatch client.

/**
 * The window a cycle asks for: minutes that ended at least `settleMinutes` ago
 * (a minute is first judged once it has settled), back `lookbackMinutes` (cycles
 * missed in between are caught up, and the trailing window,
 * `capacity.cloudwatch.trailingMinutes`, is read again). The rules keep each
 * minute's figures by timestamp: a minute read again counts once, and a datapoint
 * that arrives or changes late replaces what was read before. AWS documents no
 * bound on lateness, and GetMetricData is priced per metric requested, not per
 * datapoint (https://aws.amazon.com/cloudwatch/pricing/): the re-read is free.
 */
export function metricWindow(at: Date, lookbackMinutes: number, settleMinutes: number): { start: Date; end: Date } {
  const end = new Date(Math.floor(at.getTime() / 60_000) * 60_000 - settleMinutes * 60_000);
  return { start: new Date(end.getTime() - lookbackMinutes * 60_000), end };
}
