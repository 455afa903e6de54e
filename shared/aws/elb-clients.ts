import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ElbApiClients } from '../nodes/own-name';
import { guardQueryAnswers } from '../answer';
import { perRegionAndRole } from './per-region';
import { credentialsFor } from './credentials';
import { AWS_DEADLINES, requestHandlerWith, type Deadlines } from './deadlines';

/**
 * The two ELB API clients per region and role, created on first use (the SDK's
 * endpoint variables apply; its standard retries handle throttling; each attempt
 * has elbscope's deadline; a 2xx answer that is not the call's `<ActionResponse>`
 * is refused: shared/answer.ts).
 */
export function elbClientsByRegion(
  maxAttempts = 4,
  deadlines: Deadlines = AWS_DEADLINES,
): (region: string, roleArn?: string) => ElbApiClients {
  return perRegionAndRole((region, roleArn) => {
    const credentials = credentialsFor(roleArn, region);
    return {
      elb: guardQueryAnswers(
        new ElasticLoadBalancingClient({
          region,
          credentials,
          maxAttempts,
          requestHandler: requestHandlerWith(deadlines),
        }),
        'query',
      ),
      elbv2: guardQueryAnswers(
        new ElasticLoadBalancingV2Client({
          region,
          credentials,
          maxAttempts,
          requestHandler: requestHandlerWith(deadlines),
        }),
        'query',
      ),
    };
  });
}
