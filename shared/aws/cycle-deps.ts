import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../config/schema';
import type { CycleDeps } from '../cycle/observe-configured';
import { createDnsLookup } from '../nodes/dns';
import { createEniLookup } from '../nodes/eni';
import { createOwnNameLookup, rememberingOwnNames, type OwnNameLookup } from '../nodes/own-name';
import { discoveryClientsByRegion } from './discovery-clients';
import { needsOwnNames } from '../config/identity';

/**
 * The clients a cycle needs against AWS (and the SDK's endpoint variables): the
 * configured resolver, and ENI lookups through `ec2` per region and role unless
 * the configuration turns them off, and — only when a load balancer is configured
 * by an alias name — the ELB API for its own DNS name. One wiring for the
 * functions and the CLI.
 */
export function awsCycleDeps(config: Config, ec2: (region: string, roleArn?: string) => EC2Client, defaultRegion?: string): CycleDeps {
  const elb = discoveryClientsByRegion(ec2);
  const ownNames = new Map<string, OwnNameLookup>();
  return {
    dns: createDnsLookup(config.dns),
    enisFor: config.eni.enabled ? (region, roleArn) => createEniLookup(ec2(region, roleArn)) : null,
    // Asked once per load balancer and process (a DNS name never changes); only when an alias needs it.
    ownNameFor: needsOwnNames(config.loadBalancers)
      ? (region, roleArn) => {
          const key = `${region}|${roleArn ?? ''}`;
          let lookup = ownNames.get(key);
          if (!lookup) ownNames.set(key, (lookup = rememberingOwnNames(createOwnNameLookup(elb(region, roleArn)))));
          return lookup;
        }
      : null,
    now: () => new Date(),
    defaultRegion,
  };
}
