import type { DiscoveryClients } from '../discovery/discover';
import { ec2ClientsByRegion } from './clients';
import { elbClientsByRegion } from './elb-clients';

/** Discovery clients per region and role, created on first use (the SDK's endpoint variables apply). */
export function discoveryClientsByRegion(ec2 = ec2ClientsByRegion(), elb = elbClientsByRegion()): (region: string, roleArn?: string) => DiscoveryClients {
  const cache = new Map<string, DiscoveryClients>();
  return (region, roleArn) => {
    const key = `${region}|${roleArn ?? ''}`;
    let clients = cache.get(key);
    if (!clients) {
      clients = { ...elb(region, roleArn), ec2: ec2(region, roleArn) };
      cache.set(key, clients);
    }
    return clients;
  };
}
