import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describeError } from '../errors';

/** Limits every status-page fetch has. */
export interface FetchLimits {
  timeoutMs: number;
  /** Bodies larger than this are refused (a status page is a few KB; Apache's HTML grows with slots). */
  maxBytes: number;
  /** For https status pages: verify the certificate (default). Off only for this request, never process-wide. */
  verifyTls?: boolean;
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
  constructor(
    message: string,
    /** The HTTP status when the server answered with one that is not 200 (for decisions; the message is for people). */
    readonly status: number | null = null,
  ) {
    super(message);
  }
}

/** A non-200 answer inside readResponse, carrying its status to the PageError. */
class StatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * GET a status page: one deadline for the whole exchange, a body-size cap, no
 * redirects, `Connection: close` (a kept-alive scraper connection would itself
 * show as `K` on the next scrape). Throws PageError for non-200, redirects,
 * oversize or truncated bodies.
 *
 * Node's own http client, not fetch: measured here, fetch costs ~4× the CPU per
 * request (0.8 ms against 0.2 ms on loopback), which decides how many thousand
 * backends one cycle can read (bench/, benchmark 3).
 */
export function fetchPage(url: string, limits: FetchLimits = DEFAULT_FETCH_LIMITS): Promise<FetchedPage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (message: string, status: number | null = null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new PageError(`${url}: ${message}`, status));
    };
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: 'GET',
        agent: false,
        ...(limits.verifyTls === false ? { rejectUnauthorized: false } : {}),
        headers: { 'user-agent': 'elbscope', accept: 'text/plain, text/html;q=0.9', connection: 'close' },
      },
      (res) => {
        readResponse(url, res, limits).then(
          (page) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(page);
          },
          (err: Error) => fail(err.message, err instanceof StatusError ? err.status : null),
        );
      },
    );
    const timer = setTimeout(() => fail(`no answer within ${limits.timeoutMs} ms`), limits.timeoutMs);
    req.on('error', (err) => fail(networkFailure(err)));
    req.end();
  });
}

function readResponse(url: string, res: IncomingMessage, limits: FetchLimits): Promise<FetchedPage> {
  return new Promise((resolve, reject) => {
    const status = res.statusCode ?? 0;
    const contentType = String(res.headers['content-type'] ?? '');
    if (status >= 300 && status < 400) {
      res.resume();
      reject(new Error(`HTTP ${status} redirect to ${String(res.headers.location ?? '(no Location)')}, not followed`));
      return;
    }
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      reject(new Error(`body of ${declared} bytes exceeds the ${limits.maxBytes}-byte cap`));
      res.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) {
        // Reject first: destroying the response reports it as aborted, which is not why it ended.
        reject(new Error(`body exceeds the ${limits.maxBytes}-byte cap`));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    // A connection that closes before the body is complete is a truncated page, not a short one.
    res.on('aborted', () => reject(new Error(`truncated body after ${size} bytes (connection closed by the server)`)));
    res.on('error', (err) => reject(new Error(`truncated body after ${size} bytes (${networkFailure(err)})`)));
    res.on('end', () => {
      if (!res.complete) {
        reject(new Error(`truncated body after ${size} bytes (connection closed by the server)`));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      if (status !== 200) {
        const title = /<title>([^<]{0,120})<\/title>/i.exec(text)?.[1]?.trim();
        reject(new StatusError(`HTTP ${status}${title ? ` (${title})` : ''}`, status));
        return;
      }
      resolve({ url, contentType, body: text });
    });
  });
}

function networkFailure(err: unknown): string {
  const code = (err as { code?: string })?.code;
  if (
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'CERT_HAS_EXPIRED'
  ) {
    return `TLS certificate not trusted (${code}); set "statusTlsVerify": false for this backend to read it anyway`;
  }
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection closed by the server';
  return describeError(err);
}
