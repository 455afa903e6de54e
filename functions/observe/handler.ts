import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { cycleTime } from '../../shared/cycle/time';
import { cycleRuntime } from '../runtime';

// Cold start: configuration validated, clients built, once.
const runtime = cycleRuntime(process.env);

/** Scheduled: one cycle over every load balancer — observe nodes and backends, metrics, detect, store, alert. */
export const handler = middy(async (event: ScheduledEvent, context: Context) =>
  // The schedule's own time names the cycle, so a retried invocation records nothing twice.
  runtime.runCycle(cycleTime(event?.time, runtime.deps.now()), context.awsRequestId),
)
  .use(injectLambdaContext(runtime.logger))
  .use(logMetrics(runtime.metrics));
