import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context, SQSEvent } from 'aws-lambda';
import { processWork } from '../../shared/fanout/worker';
import { configFor } from '../../shared/fanout/work';
import { cycleRuntime } from '../runtime';

const runtime = cycleRuntime(process.env);

/** SQS (fan-out mode): observe each message's load balancers; failed messages are reported for retry. */
export const handler = middy(async (event: SQSEvent, context: Context) =>
  processWork(
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
    async (work) => {
      await runtime.runCycle(
        work.cycleAt,
        `${context.awsRequestId}`,
        configFor(await runtime.currentConfig(), work),
        context.getRemainingTimeInMillis(),
      );
    },
    (message, data) => runtime.logger.warn(message, data),
  ),
)
  .use(injectLambdaContext(runtime.logger))
  .use(logMetrics(runtime.metrics));
