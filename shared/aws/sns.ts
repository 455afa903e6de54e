import { SNSClient } from '@aws-sdk/client-sns';

/** How long one Publish may take: connecting, then the whole answer. A publish that hangs is a transient failure, retried by the outbox. */
export const SNS_DEADLINES = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000 } as const;

/**
 * An SNS client with deadlines (the SDK sets none by default) and the SDK's
 * standard retries (throttling, 5xx), 3 attempts. `region` defaults to the
 * topic's own, so a topic in another region than the monitor still works.
 */
export function snsClient(topicArn?: string, deadlines: { connectionTimeoutMs: number; requestTimeoutMs: number } = SNS_DEADLINES): SNSClient {
  const region = topicArn?.split(':')[3];
  return new SNSClient({
    ...(region ? { region } : {}),
    maxAttempts: 3,
    retryMode: 'standard',
    // throwOnRequestTimeout: without it the SDK's handler only logs a warning when requestTimeout passes, and waits on.
    requestHandler: { connectionTimeout: deadlines.connectionTimeoutMs, requestTimeout: deadlines.requestTimeoutMs, throwOnRequestTimeout: true },
  });
}
