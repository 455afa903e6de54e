import { EC2Client } from '@aws-sdk/client-ec2';

/**
 * EC2 clients, one per region, created on first use. The SDK itself honours
 * `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL` and retries throttling with its
 * standard retry strategy; elbscope only caps the attempts.
 */
export function ec2ClientsByRegion(maxAttempts = 4): (region: string) => EC2Client {
  const clients = new Map<string, EC2Client>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = new EC2Client({ region, maxAttempts, retryMode: 'standard' });
      clients.set(region, client);
    }
    return client;
  };
}
