import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DiscoveryClients } from '../discovery/discover';
import { ec2ClientsByRegion } from './clients';
import { requestHandlerWith } from './deadlines';
import { credentialsFor } from './credentials';

/** Discovery clients per region and role, created on first use (the SDK's endpoint variables apply). */
export function discoveryClientsByRegion(ec2 = ec2ClientsByRegion()): (region: string, roleArn?: string) => DiscoveryClients {
  const cache = new Map<string, DiscoveryClients>();
  return (region, roleArn) => {
    const key = `${region}|${roleArn ?? ''}`;
    let clients = cache.get(key);
    if (!clients) {
      const credentials = credentialsFor(roleArn, region);
      clients = {
        elb: new ElasticLoadBalancingClient({ region, credentials, maxAttempts: 4, requestHandler: requestHandlerWith() }),
        elbv2: new ElasticLoadBalancingV2Client({ region, credentials, maxAttempts: 4, requestHandler: requestHandlerWith() }),
        ec2: ec2(region, roleArn),
      };
      cache.set(key, clients);
    }
    return clients;
  };
}
