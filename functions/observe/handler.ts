import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfigFromEnv } from '../../shared/config/load';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { observeConfigured } from '../../shared/cycle/observe-configured';
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

/** Scheduled: observe every configured load balancer once and log each observation. */
export const handler = middy(async () => {
  const observations = await observeConfigured(config, deps);
  for (const observation of observations) {
    const log = observation.errors.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
    log('observation', { observation });
  }
  return {
    observed: observations.length,
    unresolved: observations.filter((o) => !nameResolved(o)).map((o) => o.loadBalancer),
    errors: observations.reduce((n, o) => n + o.errors.length, 0),
  };
}).use(injectLambdaContext(logger));
