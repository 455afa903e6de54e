import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { cycleTime } from '../../shared/cycle/time';
import { cycleRuntime } from '../runtime';

// Cold start: configuration validated, clients built, once.
const runtime = cycleRuntime(process.env);

/**
 * Scheduled: one cycle over every load balancer — observe nodes and backends,
 * metrics, detect, store, alert. Invoked with `{"alertTest": true}`
 * (`serverless invoke -f observe -d '{"alertTest":true}'`): one test alert through
 * the stack's topic instead, and whether SNS accepted it.
 */
export const handler = middy(async (event: ScheduledEvent | { alertTest?: unknown }, context: Context) => {
  if ((event as { alertTest?: unknown } | null)?.alertTest === true)
    return runtime.alertTest(`the ${context.functionName} function (request ${context.awsRequestId})`);
  // The schedule's own time names the cycle, so a retried invocation records nothing twice.
  return runtime.runCycle(
    cycleTime((event as ScheduledEvent | null)?.time, runtime.deps.now()),
    context.awsRequestId,
    undefined,
    context.getRemainingTimeInMillis(),
  );
})
  .use(injectLambdaContext(runtime.logger))
  .use(logMetrics(runtime.metrics));
