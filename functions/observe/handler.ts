import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { snsSink } from '../../shared/alerts/sinks';
import { ec2ClientsByRegion } from '../../shared/aws/clients';
import { loadConfigFromEnv } from '../../shared/config/load';
import { loadBalancerName } from '../../shared/config/schema';
import { emitCycleMetrics } from '../../shared/cycle/metrics';
import { cycleTime } from '../../shared/cycle/time';
import { recordCycle } from '../../shared/cycle/record';
import { snapshotConfigured } from '../../shared/cycle/snapshot';
import { createDnsLookup } from '../../shared/nodes/dns';
import { createEniLookup } from '../../shared/nodes/eni';
import { nameResolved } from '../../shared/nodes/observation';
import { requireEnv } from '../../shared/config/env';
import { DynamoDbStore } from '../../shared/store/dynamodb';

// Cold start: configuration and clients, validated and built once.
const logger = new Logger({ serviceName: 'elbscope' });
const metrics = new Metrics({ namespace: 'elbscope', serviceName: 'elbscope' });
const config = loadConfigFromEnv(process.env);
const store = new DynamoDbStore(new DynamoDBClient({}), requireEnv(process.env, 'ELBSCOPE_TABLE'));
const sink = snsSink(new SNSClient({}), config.alerts.snsTopicArn ?? requireEnv(process.env, 'ELBSCOPE_TOPIC_ARN'));
const ec2 = ec2ClientsByRegion();
const deps = { dns: createDnsLookup(config.dns), enisFor: (region: string) => createEniLookup(ec2(region)), now: () => new Date(), defaultRegion: process.env.AWS_REGION };

/** Scheduled: one cycle — observe nodes and backends, emit metrics, detect, store, alert. */
export const handler = middy(async (event: ScheduledEvent, context: Context) => {
  // The schedule's own time names the cycle, so a retried invocation records nothing twice.
  const at = cycleTime(event?.time, deps.now());
  const snapshots = await snapshotConfigured(config, deps);
  emitCycleMetrics(metrics, config.loadBalancers.map(loadBalancerName), snapshots);
  for (const { observation, backends } of snapshots) {
    const failed = observation.errors.length > 0 || backends.some((b) => b.report.error);
    (failed ? logger.warn.bind(logger) : logger.info.bind(logger))('observation', { observation, backends });
  }
  const events = await recordCycle(config, snapshots, at, { store, sink, now: deps.now, claimant: context.awsRequestId, warn: (m, d) => logger.warn(m, d ?? {}) });
  for (const e of events) logger.info('event', { event: e });
  return {
    cycle: at,
    observed: snapshots.length,
    unresolved: snapshots.filter((s) => !nameResolved(s.observation)).map((s) => s.observation.loadBalancer),
    errors: snapshots.reduce((n, s) => n + s.observation.errors.length + s.backends.filter((b) => b.report.error).length, 0),
    events: events.map((e) => e.summary),
  };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
