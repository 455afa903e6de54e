import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../config/schema';
import type { CycleDeps } from '../cycle/observe-configured';
import { createDnsLookup } from '../nodes/dns';
import { createEniLookup } from '../nodes/eni';

/**
 * The part of a cycle's clients every observation needs: the configured resolver,
 * and ENI lookups through `ec2` per region and role unless the configuration turns
 * them off. No ELB or CloudWatch client: a one-shot `observe` of load balancers
 * named by their own DNS names loads no more than this (see awsCycleDeps for the rest).
 */
export function nodeCycleDeps(
  config: Config,
  ec2: (region: string, roleArn?: string) => EC2Client,
  defaultRegion?: string,
): CycleDeps {
  return {
    dns: createDnsLookup(config.dns),
    enisFor: config.eni.enabled ? (region, roleArn) => createEniLookup(ec2(region, roleArn)) : null,
    now: () => new Date(),
    defaultRegion,
  };
}
