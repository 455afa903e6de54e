import { Transform, pipeline, type Readable } from 'node:stream';
import { NodeHttpHandler, type NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';

/**
 * The most of one AWS answer (one page, one HTTP response body) elbscope reads:
 * 8 MiB. The largest legitimate answers it asks for, at their documented caps:
 * - GetMetricData: at most 100,800 datapoints per page (MaxDatapoints' default;
 *   500 queries × the window's minutes stays below it), each a timestamp and a
 *   double in JSON (≈ 40 bytes), plus ≈ 200 bytes per query: ≈ 4.1 MB;
 * - DescribeNetworkInterfaces: 1,000 ENIs per page at ≈ 3 KB of XML each: ≈ 3 MB;
 * - DescribeLoadBalancers: 400 per page at a few KB; DescribeInstances: 200 ids;
 *   DynamoDB GetItem: one item of at most 400 KB.
 * Twice the largest, rounded up. An answer beyond it is not one of these: it is
 * refused, not parsed (a 1.8-million-datapoint answer once took 1.3 GB).
 */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** An answer larger than the bound: refused before (Content-Length) or while reading it. */
class AnswerTooLargeError extends Error {
  override name = 'AnswerTooLarge';
}

/** A timeout of the answer's body (the headers came in time, the rest did not). */
function bodyTimeout(ms: number): Error {
  const error = new Error(`the answer's body was still arriving after the ${ms} ms requestTimeout; stopped`);
  return Object.assign(error, { name: 'TimeoutError', code: 'ETIMEDOUT' });
}

const mib = (bytes: number) => (bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`);

/**
 * The SDK's Node HTTP handler, with every answer's body capped at `maxBytes`
 * (refused up front when Content-Length says more; else counted as it streams,
 * never buffered past the bound) and held to `requestTimeout` until its last byte:
 * the SDK's own requestTimeout ends when the headers arrive, so a body that stalls
 * after them would otherwise hang the call.
 */
export class BoundedHttpHandler extends NodeHttpHandler {
  readonly #maxBytes: number;
  readonly #requestTimeoutMs: number | undefined;

  constructor(options: NodeHttpHandlerOptions, maxBytes = MAX_ANSWER_BYTES) {
    super(options);
    this.#maxBytes = maxBytes;
    this.#requestTimeoutMs = options.requestTimeout;
  }

  override async handle(...args: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    const startedAt = performance.now();
    const out = await super.handle(...args);
    const { response } = out;
    const body = response.body as Readable;
    const max = this.#maxBytes;
    const announced = Number(response.headers['content-length'] ?? NaN);
    if (Number.isFinite(announced) && announced > max) {
      body.destroy();
      throw new AnswerTooLargeError(
        `the answer announces ${announced} bytes (Content-Length), more than MAX_ANSWER_BYTES (${mib(max)}); not read`,
      );
    }
    const timeoutMs = (args[1] as HttpHandlerOptions | undefined)?.requestTimeout ?? this.#requestTimeoutMs;
    response.body = capped(
      body,
      max,
      timeoutMs ? Math.max(1, timeoutMs - (performance.now() - startedAt)) : undefined,
      timeoutMs ?? 0,
    );
    return out;
  }
}

/** `body` passed through as long as it stays within `max` bytes and ends within `remainingMs`. */
function capped(body: Readable, max: number, remainingMs: number | undefined, timeoutMs: number): Readable {
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > max)
        done(
          new AnswerTooLargeError(
            `the answer is larger than MAX_ANSWER_BYTES (${mib(max)}); stopped reading at ${seen} bytes`,
          ),
        );
      else done(null, chunk);
    },
  });
  // pipeline: an error on either side (too large, timeout, the server cutting it) destroys both, so the socket is let
  // go.
  pipeline(body, guard, () => {});
  if (remainingMs !== undefined) {
    // unref: a body nobody reads must not keep a finished CLI command alive until the deadline.
    const timer = setTimeout(() => guard.destroy(bodyTimeout(timeoutMs)), remainingMs).unref();
    guard.once('close', () => clearTimeout(timer));
  }
  return guard;
}
