import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ElbApiClients } from '../nodes/own-name';
import { perRegionAndRole } from './per-region';
import { credentialsFor } from './credentials';
import { requestHandlerWith } from './deadlines';

/**
 * The two ELB API clients per region and role, created on first use (the SDK's
 * endpoint variables apply; its standard retries handle throttling; each attempt
 * has elbscope's deadline).
 */
export function elbClientsByRegion(): (region: string, roleArn?: string) => ElbApiClients {
  return perRegionAndRole((region, roleArn) => {
    const credentials = credentialsFor(roleArn, region);
    return {
      elb: new ElasticLoadBalancingClient({ region, credentials, maxAttempts: 4, requestHandler: requestHandlerWith() }),
      elbv2: new ElasticLoadBalancingV2Client({ region, credentials, maxAttempts: 4, requestHandler: requestHandlerWith() }),
    };
  });
}
