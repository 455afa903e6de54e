import { EC2Client } from '@aws-sdk/client-ec2';
import { guardQueryAnswers } from '../answer';
import { credentialsFor } from './credentials';
import { AWS_DEADLINES, requestHandlerWith, type Deadlines } from './deadlines';
import { perRegionAndRole } from './per-region';

/**
 * EC2 clients, one per region and role, created on first use. The SDK itself
 * honours `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL` and retries throttling with
 * its standard retry strategy; elbscope caps the attempts and gives each one a
 * deadline (shared/aws/deadlines.ts), and refuses a 2xx answer that is not the
 * call's `<ActionResponse>` (shared/answer.ts). A role ARN makes the client
 * assume that role (cross-account).
 */
export function ec2ClientsByRegion(
  maxAttempts = 4,
  deadlines: Deadlines = AWS_DEADLINES,
): (region: string, roleArn?: string) => EC2Client {
  return perRegionAndRole((region, roleArn) => {
    const client = new EC2Client({
      region,
      maxAttempts,
      retryMode: 'standard',
      credentials: credentialsFor(roleArn, region),
      requestHandler: requestHandlerWith(deadlines),
    });
    return guardQueryAnswers(client, 'ec2');
  });
}
