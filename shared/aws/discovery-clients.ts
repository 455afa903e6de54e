import type { DiscoveryClients } from '../discovery/discover';
import { ec2ClientsByRegion } from './clients';
import { perRegionAndRole } from './per-region';
import { elbClientsByRegion } from './elb-clients';

/** Discovery clients per region and role, created on first use (the SDK's endpoint variables apply). */
export function discoveryClientsByRegion(ec2 = ec2ClientsByRegion(), elb = elbClientsByRegion()): (region: string, roleArn?: string) => DiscoveryClients {
  return perRegionAndRole((region, roleArn) => ({ ...elb(region, roleArn), ec2: ec2(region, roleArn) }));
}
