import type { EC2Client } from '@aws-sdk/client-ec2';
import type { Config } from '../config/schema';
import type { CycleDeps } from '../cycle/observe-configured';
import { createOwnNameLookup, rememberingOwnNames } from '../nodes/own-name';
import { perRegionAndRole } from '../aws/per-region';
import { elbClientsByRegion } from '../aws/elb-clients';
import { capacityDeps } from './capacity-clients';
import { needsOwnNames } from '../config/identity';
import { createBackendAuthLookup } from '../backends/auth-policy';
import { needsBackendAuth } from '../cycle/tls-round';
import { nodeCycleDeps } from './node-deps';

/**
 * The clients a cycle needs against AWS (and the SDK's endpoint variables): the
 * node lookups (nodeCycleDeps), and the ELB API only where it is needed: the
 * own DNS name of a load balancer configured by an alias name, and the back-end
 * authentication policies of a Classic ELB with TLS backends. One wiring for the
 * functions and the CLI.
 */
export function awsCycleDeps(
  config: Config,
  ec2: (region: string, roleArn?: string) => EC2Client,
  defaultRegion?: string,
  options: { capacity?: boolean; stage?: string | undefined } = {},
): CycleDeps {
  const elb = elbClientsByRegion();
  return {
    ...nodeCycleDeps(config, ec2, defaultRegion),
    // Asked once per load balancer and process (a DNS name never changes); only when an alias needs it.
    ownNameFor: needsOwnNames(config.loadBalancers)
      ? perRegionAndRole((region, roleArn) => rememberingOwnNames(createOwnNameLookup(elb(region, roleArn))))
      : null,
    // CloudWatch metrics and LCU reservations beside the nodes (the watching commands; not a one-shot observe).
    ...(options.capacity ? { capacity: capacityDeps(config, elb, options.stage) } : {}),
    // Classic back-end authentication policies, read each TLS round (a policy can change any time).
    backendAuthFor: needsBackendAuth(config)
      ? (region, roleArn) => createBackendAuthLookup(elb(region, roleArn).elb)
      : null,
  };
}
