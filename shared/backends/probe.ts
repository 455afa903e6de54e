import { describeError } from '../errors';
import { countScoreboard, parseApacheAuto, SCOREBOARD_STATES, type ApacheAuto, type Parsed } from './apache-status';
import { parseApacheHtml, type ApacheHtml } from './apache-html';
import { DEFAULT_FETCH_LIMITS, fetchPage, PageError, type FetchedPage, type FetchLimits } from './http';
import { looksLikeNginxStatus, parseNginxStatus } from './nginx-status';
import { CAVEATS, emptyReport, type BackendReport } from './report';

export interface ProbeOptions {
  limits?: FetchLimits;
  /** The backend is known to run "AcceptFilter http none": no deferred-accept caveat. */
  acceptFilterNone?: boolean;
}

/**
 * Read a backend's status page and report its pre-opened connections. The URL
 * may be Apache's `/server-status` (with or without `?auto`) or nginx's
 * stub_status; the server is told by the content. Never throws: a failure is
 * the report's `error`.
 */
/**
 * Before parsing a large page, let the event loop run once: other backends' fetch
 * timeouts and DNS answers are handled between pages, not after a run of them.
 * (The parsers are linear, ~70 ms at the 1 MiB cap at worst.)
 */
async function yieldForLargePage(body: string): Promise<void> {
  if (body.length > 64 * 1024) await new Promise<void>((resolve) => setImmediate(resolve));
}

export async function probeBackend(url: string, options: ProbeOptions = {}): Promise<BackendReport> {
  const limits = options.limits ?? DEFAULT_FETCH_LIMITS;
  const report = emptyReport(url);
  let parsedUrl: URL;
  try {
    parsedUrl = new URL(url);
    if (parsedUrl.protocol !== 'http:' && parsedUrl.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return { ...report, error: `${url}: not an http(s) URL` };
  }
  const autoUrl = withAuto(parsedUrl, true);
  const htmlUrl = withAuto(parsedUrl, false);
  // The HTML page alone has both the scoreboard and the per-slot table: one
  // request per scrape. `?auto` is the fallback for servers whose HTML has no
  // scoreboard or cannot be fetched.
  let first: FetchedPage | null = null;
  let firstError: string | null = null;
  let firstStatus: number | null = null;
  try {
    first = await fetchPage(htmlUrl, limits);
  } catch (err) {
    firstError = err instanceof Error ? err.message : describeError(err);
    firstStatus = err instanceof PageError ? err.status : null;
  }
  let html: Parsed<ApacheHtml> = { ok: false, error: firstError ?? 'not fetched' };
  if (first) {
    await yieldForLargePage(first.body);
    if (looksLikeNginxStatus(first.body)) return nginxReport(report, first.body);
    html = parseApacheHtml(first.body);
    if (html.ok && html.value.scoreboard) return apacheReport(report, fromHtml(html.value), html, htmlUrl, options);
    const plain = parseApacheAuto(first.body);
    if (plain.ok)
      return apacheReport(
        report,
        plain.value,
        { ok: false, error: 'the page is ?auto text, with no per-slot table' },
        htmlUrl,
        options,
      );
    if (url === htmlUrl && !html.ok)
      return { ...report, error: `${url}: not an Apache or nginx status page (${plain.error})` };
  } else if (firstStatus === null || firstStatus < 400 || firstStatus > 499) {
    // A network failure (refused, timeout, cap): asking again at ?auto would only fail the same way, slower.
    return { ...report, error: firstError };
  }
  let autoPage: FetchedPage;
  try {
    autoPage = await fetchPage(autoUrl, limits);
  } catch (err) {
    return {
      ...report,
      error: url === htmlUrl && firstError ? firstError : err instanceof Error ? err.message : describeError(err),
    };
  }
  await yieldForLargePage(autoPage.body);
  const auto = parseApacheAuto(autoPage.body);
  if (!auto.ok) return { ...report, error: `${autoUrl}: ${auto.error}` };
  return apacheReport(report, auto.value, html, htmlUrl, options);
}

/** The counts an HTML page gives, in the shape ?auto gives them. */
function fromHtml(page: ApacheHtml): ApacheAuto {
  const scoreboard = page.scoreboard ?? '';
  const { counts, unknown } = countScoreboard(scoreboard);
  return {
    host: null,
    serverVersion: page.serverVersion,
    mpm: page.mpm,
    scoreboard,
    counts,
    unknownStates: unknown,
    busyWorkers: null,
    idleWorkers: null,
    fields: {},
  };
}

function withAuto(url: URL, auto: boolean): string {
  const u = new URL(url);
  u.searchParams.delete('auto');
  if (auto) u.search = u.search ? `${u.search}&auto` : '?auto';
  return u.toString();
}

// As Apache's own BusyWorkers: idle (_), open (.), starting (S) and idle-cleanup (I) slots serve no one.
const NOT_BUSY = new Set(['_', '.', 'S', 'I']);

function apacheReport(
  report: BackendReport,
  auto: ApacheAuto,
  html: { ok: true; value: ApacheHtml } | { ok: false; error: string },
  htmlUrl: string,
  options: ProbeOptions,
): BackendReport {
  const { counts } = auto;
  // Status-page requests are not load: the scraper's own is one W slot, and an
  // earlier scrape's worker may still be closing or logging (C, L). With the
  // per-slot table they are found by their request line; without it, one W is ours.
  const statusPath = new URL(htmlUrl).pathname;
  // Keys come from the page: a null-prototype object, so `constructor` or `__proto__` are just names.
  const ownStates: Partial<Record<string, number>> = Object.create(null);
  if (html.ok && html.value.extendedStatus) {
    for (const slot of html.value.slots) {
      if (!NOT_BUSY.has(slot.mode) && slot.mode !== 'R' && slot.request.startsWith(`GET ${statusPath}`))
        ownStates[slot.mode] = (ownStates[slot.mode] ?? 0) + 1;
    }
  } else if (counts.W > 0) ownStates.W = 1;
  const states = { ...counts };
  for (const [state, n] of Object.entries(ownStates)) {
    if (!(SCOREBOARD_STATES as readonly string[]).includes(state)) continue; // a mode Apache does not write: nothing to take off
    states[state as keyof typeof states] = Math.max(0, states[state as keyof typeof states] - (n ?? 0));
  }
  const busy = Object.entries(states).reduce((n, [state, c]) => (NOT_BUSY.has(state) ? n : n + c), 0);
  const slots = auto.scoreboard.length;
  const trust: string[] = [];
  if (!options.acceptFilterNone) trust.push(CAVEATS.deferredAccept);
  if (/Apache\/2\.[4-9]/.test(auto.serverVersion ?? '') || auto.mpm) trust.push(CAVEATS.reqtimeout);
  if (auto.mpm === null) trust.push(CAVEATS.noMpm);
  if (auto.mpm === 'event') trust.push(CAVEATS.eventMpm);
  if (auto.unknownStates > 0)
    trust.push(`the scoreboard has ${auto.unknownStates} characters that are not Apache states`);

  let readingByClient: Record<string, number> | null = null;
  let readingAges: number[] | null = null;
  if (!html.ok) {
    trust.push(`R per client IP unknown: ${htmlUrl}: ${html.error}`);
  } else if (!html.value.extendedStatus) {
    trust.push(CAVEATS.noExtendedStatus);
  } else {
    const reading = html.value.slots.filter((s) => s.mode === 'R');
    readingByClient = Object.create(null) as Record<string, number>;
    for (const slot of reading) readingByClient[slot.client] = (readingByClient[slot.client] ?? 0) + 1;
    readingAges = reading.flatMap((s) => (s.secondsSince === null ? [] : [s.secondsSince]));
    if (reading.length !== counts.R) {
      trust.push(
        `R differs between the scoreboard (${counts.R}) and the per-slot table (${reading.length}): they were read at different moments`,
      );
    }
  }
  return {
    ...report,
    server: 'apache',
    // Copies: a regex match is a slice that keeps the whole page alive for as long as the report.
    mpm: ownCopy(auto.mpm),
    serverVersion: ownCopy(auto.serverVersion),
    reading: counts.R,
    busy,
    idle: counts._,
    slots,
    keepalive: states.K,
    readingShare: slots > 0 ? Math.round((counts.R / slots) * 1000) / 1000 : null,
    readingByClient,
    readingAges,
    states,
    trust,
  };
}

function nginxReport(report: BackendReport, body: string): BackendReport {
  const parsed = parseNginxStatus(body);
  if (!parsed.ok) return { ...report, server: 'nginx', error: `${report.url}: ${parsed.error}` };
  const s = parsed.value;
  // Our own request is one Writing (and one Active) connection.
  const own = s.writing > 0 ? 1 : 0;
  return {
    ...report,
    server: 'nginx',
    reading: s.reading,
    busy: s.reading + s.writing - own,
    idle: s.waiting,
    trust: [CAVEATS.nginxWaiting],
  };
}

/**
 * A string that shares no memory with the page it was read from. V8 keeps a
 * substring of 13+ characters as a slice of its parent, so one version string kept
 * in a report would keep a whole status page (up to maxBytes) alive per backend.
 */
function ownCopy(value: string | null): string | null {
  return value === null ? null : Buffer.from(value, 'utf8').toString('utf8');
}
