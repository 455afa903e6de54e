import type { DiscoveryClients } from '../discovery/discover';
import { ec2ClientsByRegion } from '../aws/clients';
import { perRegionAndRole } from '../aws/per-region';
import { elbClientsByRegion } from '../aws/elb-clients';

/** Discovery clients per region and role, created on first use (the SDK's endpoint variables apply). */
export function discoveryClientsByRegion(
  ec2 = ec2ClientsByRegion(),
  elb = elbClientsByRegion(),
): (region: string, roleArn?: string) => DiscoveryClients {
  return perRegionAndRole((region, roleArn) => ({ ...elb(region, roleArn), ec2: ec2(region, roleArn) }));
}
