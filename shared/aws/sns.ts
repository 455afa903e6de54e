import { SNSClient } from '@aws-sdk/client-sns';
import { AWS_DEADLINES, requestHandlerWith, type Deadlines } from './deadlines';

/**
 * An SNS client with deadlines (shared/aws/deadlines.ts: a Publish that hangs is
 * a transient failure, retried by the outbox) and the SDK's standard retries
 * (throttling, 5xx), 3 attempts. `region` defaults to the
 * topic's own, so a topic in another region than the monitor still works.
 */
export function snsClient(topicArn?: string, deadlines: Deadlines = AWS_DEADLINES): SNSClient {
  const region = topicArn?.split(':')[3];
  return new SNSClient({
    ...(region ? { region } : {}),
    maxAttempts: 3,
    retryMode: 'standard',
    requestHandler: requestHandlerWith(deadlines),
  });
}
