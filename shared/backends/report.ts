import type { ScoreboardCounts } from './apache-status';

/** What a backend's status page says about pre-opened ("..reading..") connections. */
export interface BackendReport {
  url: string;
  server: 'apache' | 'nginx' | null;
  mpm: string | null;
  serverVersion: string | null;
  /** Apache: `R` slots. nginx: its Reading counter, which does NOT include idle pre-opened connections. */
  reading: number | null;
  /** Slots serving a connection (as Apache's BusyWorkers: not `_ . S I`), without elbscope's own request. */
  busy: number | null;
  /** Apache: `_` slots. nginx: Waiting (idle keep-alive and pre-opened connections together). */
  idle: number | null;
  /** Apache scoreboard length (processes × threads, open slots included); null for nginx. */
  slots: number | null;
  /** Apache `K` slots (the event MPM shows keep-alive as idle instead); null for nginx. */
  keepalive: number | null;
  /** reading / slots, 0–1: how much of the worker pool pre-opened connections hold. */
  readingShare: number | null;
  /** Client IP → `R` slots (Apache ExtendedStatus); null when the page cannot say. */
  readingByClient: Record<string, number> | null;
  /** Age in seconds of each `R` connection (Apache ExtendedStatus `SS`). */
  readingAges: number[] | null;
  /** Every scoreboard state counted (Apache only). */
  states: ScoreboardCounts | null;
  /** Caveats: why the numbers may differ from what the load balancer holds. */
  trust: string[];
  /** Null, or one line saying why the page could not be read. */
  error: string | null;
}

/** An empty report for a URL, to fill in or to carry an error. */
export function emptyReport(url: string): BackendReport {
  return {
    url,
    server: null,
    mpm: null,
    serverVersion: null,
    reading: null,
    busy: null,
    idle: null,
    slots: null,
    keepalive: null,
    readingShare: null,
    readingByClient: null,
    readingAges: null,
    states: null,
    trust: [],
    error: null,
  };
}

/** The caveats elbscope knows, worded once. */
export const CAVEATS = {
  deferredAccept:
    'deferred accept: with Linux\'s default "AcceptFilter http data" Apache does not see a connection that has sent nothing for ~30 s, so the newest pre-opened connections are missing from R (set "AcceptFilter http none" to see them at once)',
  reqtimeout:
    'mod_reqtimeout closes connections that send no request within ~20 s (its default), so a snapshot can miss pre-opened connections; AWS recommends backend timeouts above the ELB idle timeout',
  eventMpm: 'event MPM: keep-alive connections show as idle (_), not K, so keepalive under-counts',
  noMpm: 'the page does not name its MPM (Apache 2.2?): prefork holds one process per R connection',
  noExtendedStatus: 'ExtendedStatus is Off: R per client IP (which ELB node) is unknown',
  nginxWaiting:
    'nginx counts idle pre-opened connections as Waiting, together with keep-alive ones: it cannot separate them, so reading does not show pre-open',
} as const;
