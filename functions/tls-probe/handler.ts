import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { loadConfigFromEnv } from '../../shared/config/load';
import { cloudWatchCycleMetrics, METRIC_NAMESPACE } from '../../shared/cycle/metrics';
import { runTlsRound } from '../../shared/cycle/run-tls';
import { needsBackendAuth } from '../../shared/cycle/tls-round';
import { createBackendAuthLookup } from '../../shared/backends/auth-policy';
import { elbClientsByRegion } from '../../shared/aws/elb-clients';
import { cycleTime } from '../../shared/cycle/time';
import { stackSink, stackStore } from '../runtime';

// Cold start: configuration and clients, validated and built once.
const logger = new Logger({ serviceName: 'elbscope' });
const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'elbscope' });
const cycleMetrics = cloudWatchCycleMetrics(metrics);
const config = loadConfigFromEnv(process.env);
const store = stackStore(process.env, config);
const sink = stackSink(process.env, config);
const elb = elbClientsByRegion();
// Classic ELBs' back-end authentication policies, only when a possibly-Classic load balancer has TLS backends.
const backendAuthFor = needsBackendAuth(config)
  ? (region: string, roleArn?: string) => createBackendAuthLookup(elb(region, roleArn).elb)
  : null;

/**
 * Scheduled (hourly by default): one TLS handshake per configured target; cert-changed / cert-expiring / tls-failed
 * events.
 */
export const handler = middy(async (event: ScheduledEvent, context: Context) => {
  const now = () => new Date();
  const run = await runTlsRound(
    config,
    cycleTime(event?.time, now()),
    { now, backendAuthFor },
    {
      record: { store, sink, now, claimant: context.awsRequestId, warn: (m, d) => logger.warn(m, d ?? {}) },
      metrics: cycleMetrics,
    },
  );
  for (const result of run.results) {
    const bad = result.finding.error !== null || result.finding.findings.some((f) => !f.startsWith('self-signed'));
    (bad ? logger.warn.bind(logger) : logger.info.bind(logger))('tls', { ...result });
  }
  // A policy lookup that failed is an observation error of the round (source backend-auth): logged, counted, returned.
  for (const e of run.errors) logger.warn('tls observation failed', { ...e });
  if (run.unrecorded !== undefined) throw run.unrecorded;
  return {
    probed: run.results.length,
    failed: run.results.filter((r) => r.finding.error !== null).map((r) => `${r.backend} (${r.finding.target})`),
    errors: run.errors.map((e) => `${e.loadBalancer} ${e.source}: ${e.message}`),
    events: run.events.map((e) => e.summary),
  };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
