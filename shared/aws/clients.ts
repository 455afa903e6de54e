import { EC2Client } from '@aws-sdk/client-ec2';
import { credentialsFor } from './credentials';

/**
 * EC2 clients, one per region and role, created on first use. The SDK itself
 * honours `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL` and retries throttling with
 * its standard retry strategy; elbscope only caps the attempts. A role ARN
 * makes the client assume that role (cross-account).
 */
export function ec2ClientsByRegion(maxAttempts = 4): (region: string, roleArn?: string) => EC2Client {
  const clients = new Map<string, EC2Client>();
  return (region, roleArn) => {
    const key = `${region}|${roleArn ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = new EC2Client({ region, maxAttempts, retryMode: 'standard', credentials: credentialsFor(roleArn, region) });
      clients.set(key, client);
    }
    return client;
  };
}
