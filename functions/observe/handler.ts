import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfigFromEnv } from '../../shared/config/load';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { snapshotConfigured } from '../../shared/cycle/snapshot';
import { nameResolved } from '../../shared/nodes/observation';

// Cold start: an invalid configuration fails the init phase here, with the
// ConfigError's one-line message in the function's log, not at the first cycle.
const logger = new Logger({ serviceName: 'elbscope' });
const config = loadConfigFromEnv(process.env);
const ec2 = ec2ClientsByRegion();
const deps = {
  dns: createDnsLookup(config.dns),
  enisFor: (region: string) => createEniLookup(ec2(region)),
  now: () => new Date(),
  defaultRegion: process.env.AWS_REGION,
};

/** Scheduled: observe every configured load balancer's nodes and backends once, and log each snapshot. */
export const handler = middy(async () => {
  const snapshots = await snapshotConfigured(config, deps);
  for (const { observation, backends } of snapshots) {
    const failed = observation.errors.length > 0 || backends.some((b) => b.report.error);
    (failed ? logger.warn.bind(logger) : logger.info.bind(logger))('observation', { observation, backends });
  }
  return {
    observed: snapshots.length,
    unresolved: snapshots.filter((s) => !nameResolved(s.observation)).map((s) => s.observation.loadBalancer),
    errors: snapshots.reduce((n, s) => n + s.observation.errors.length + s.backends.filter((b) => b.report.error).length, 0),
  };
}).use(injectLambdaContext(logger));
