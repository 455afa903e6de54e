import { BoundedHttpHandler, MAX_ANSWER_BYTES } from './bounded-body';

/**
 * Deadlines for every AWS SDK client elbscope builds. The SDK sets none by
 * default: a connection that is accepted and never answered would hold a cycle
 * (and a Lambda run) until its own timeout. Each attempt gets these; the SDK's
 * standard retries apply on top, so one call is bounded by attempts × deadline.
 */
export const AWS_DEADLINES = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 } as const;

/** Deadlines for one client, in milliseconds. */
export interface Deadlines {
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * The `requestHandler` for an SDK client (or the STS client of a role's
 * credentials) with these deadlines, and every answer's body capped at
 * `maxAnswerBytes` (MAX_ANSWER_BYTES: see bounded-body.ts). A new handler per
 * client: destroying a client destroys its handler.
 * `throwOnRequestTimeout`: without it the SDK's node handler only logs a warning
 * when `requestTimeout` passes, and goes on waiting.
 */
export function requestHandlerWith(
  deadlines: Deadlines = AWS_DEADLINES,
  maxAnswerBytes = MAX_ANSWER_BYTES,
): BoundedHttpHandler {
  const options = {
    connectionTimeout: deadlines.connectionTimeoutMs,
    requestTimeout: deadlines.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
  return new BoundedHttpHandler(options, maxAnswerBytes);
}
