import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../config/schema';
import type { CycleDeps } from '../cycle/observe-configured';
import { createDnsLookup } from '../nodes/dns';
import { createEniLookup } from '../nodes/eni';

/**
 * The clients a cycle needs against AWS (and the SDK's endpoint variables): the
 * configured resolver, and ENI lookups through `ec2` per region and role unless
 * the configuration turns them off. One wiring for the functions and the CLI.
 */
export function awsCycleDeps(config: Config, ec2: (region: string, roleArn?: string) => EC2Client, defaultRegion?: string): CycleDeps {
  return {
    dns: createDnsLookup(config.dns),
    enisFor: config.eni.enabled ? (region, roleArn) => createEniLookup(ec2(region, roleArn)) : null,
    now: () => new Date(),
    defaultRegion,
  };
}
