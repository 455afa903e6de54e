import { describeError } from '../errors';

/** Limits every status-page fetch has. */
export interface FetchLimits {
  timeoutMs: number;
  /** Bodies larger than this are refused (a status page is a few KB; Apache's HTML grows with slots). */
  maxBytes: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { timeoutMs: 5_000, maxBytes: 1_048_576 };

export interface FetchedPage {
  url: string;
  contentType: string;
  body: string;
}

/** A fetch that did not give a usable page; `message` is one line naming the URL. */
export class PageError extends Error {
  override name = 'PageError';
}

/**
 * GET a status page with Node's fetch (undici): timeout, body-size cap, no
 * redirects, `Connection: close` (a kept-alive scraper connection would itself
 * show as `K` on the next scrape). Throws PageError for non-200, redirects,
 * oversize or truncated bodies.
 */
export async function fetchPage(url: string, limits: FetchLimits = DEFAULT_FETCH_LIMITS): Promise<FetchedPage> {
  // One deadline for headers and body; cleared when done so it cannot abort a finished request.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    return await fetchWithin(url, limits, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function fetchWithin(url: string, limits: FetchLimits, signal: AbortSignal): Promise<FetchedPage> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'user-agent': 'elbscope', accept: 'text/plain, text/html;q=0.9', connection: 'close' },
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    throw new PageError(`${url}: ${networkFailure(err, signal, limits.timeoutMs)}`);
  }
  const { status, headers } = response;
  const contentType = headers.get('content-type') ?? '';
  if (status >= 300 && status < 400) {
    await response.body?.cancel().catch(() => undefined);
    throw new PageError(`${url}: HTTP ${status} redirect to ${headers.get('location') ?? '(no Location)'}, not followed`);
  }
  const declared = Number(headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new PageError(`${url}: body of ${declared} bytes exceeds the ${limits.maxBytes}-byte cap`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limits.maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw new PageError(`${url}: body exceeds the ${limits.maxBytes}-byte cap`);
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof PageError) throw err;
      throw new PageError(`${url}: truncated body after ${size} bytes (${networkFailure(err, signal, limits.timeoutMs)})`);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (status !== 200) {
    const title = /<title>([^<]{0,120})<\/title>/i.exec(text)?.[1]?.trim();
    throw new PageError(`${url}: HTTP ${status}${title ? ` (${title})` : ''}`);
  }
  return { url, contentType, body: text };
}

function networkFailure(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms`;
  // fetch wraps the network error: "TypeError: fetch failed", the reason in `cause`.
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code ?? (err as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'body shorter than its Content-Length';
  // WHATWG fetch refuses some ports (1, 25, 6000, 10080, ...) outright.
  if (cause?.message === 'bad port') return 'fetch refuses this port (a "bad port" in the Fetch standard)';
  if (cause?.message) return `${code ?? 'error'}: ${cause.message.split('\n')[0]}`;
  return describeError(err);
}
