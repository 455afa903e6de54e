import { request, type Dispatcher } from 'undici';
import { describeError } from '../errors';

/** Limits every status-page fetch has. */
export interface FetchLimits {
  timeoutMs: number;
  /** Bodies larger than this are refused (a status page is a few KB; Apache's HTML grows with slots). */
  maxBytes: number;
  dispatcher?: Dispatcher;
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
 * GET a status page: timeout, body-size cap, no redirects, `Connection: close`
 * (a kept-alive scraper connection would itself show as `K` on the next scrape).
 * Throws PageError for non-200, redirects, oversize or truncated bodies.
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
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      headers: { 'user-agent': 'elbscope', accept: 'text/plain, text/html;q=0.9' },
      reset: true,
      maxRedirections: 0,
      signal,
      ...(limits.dispatcher ? { dispatcher: limits.dispatcher } : {}),
    });
  } catch (err) {
    throw new PageError(`${url}: ${networkFailure(err, signal, limits.timeoutMs)}`);
  }
  const { statusCode, headers, body } = response;
  const contentType = String(headers['content-type'] ?? '');
  if (statusCode >= 300 && statusCode < 400) {
    await body.dump().catch(() => undefined);
    throw new PageError(`${url}: HTTP ${statusCode} redirect to ${String(headers.location ?? '(no Location)')}, not followed`);
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    discard(body);
    throw new PageError(`${url}: body of ${declared} bytes exceeds the ${limits.maxBytes}-byte cap`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limits.maxBytes) {
        discard(body);
        throw new PageError(`${url}: body exceeds the ${limits.maxBytes}-byte cap`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof PageError) throw err;
    throw new PageError(`${url}: truncated body after ${size} bytes (${networkFailure(err, signal, limits.timeoutMs)})`);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (statusCode !== 200) {
    const title = /<title>([^<]{0,120})<\/title>/i.exec(text)?.[1]?.trim();
    throw new PageError(`${url}: HTTP ${statusCode}${title ? ` (${title})` : ''}`);
  }
  return { url, contentType, body: text };
}

/** Drop a response body we will not read; its abort is expected, not an error to report. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function networkFailure(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (signal.aborted || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${timeoutMs} ms`;
  }
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection closed by the server';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'body shorter than its Content-Length';
  return describeError(err);
}
