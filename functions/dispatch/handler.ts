import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { requireEnv } from '../../shared/config/env';
import { loadConfigFromEnv } from '../../shared/config/load';
import { discoveryClientsByRegion } from '../../shared/wiring/discovery-clients';
import { discoveringConfig } from '../../shared/discovery/merge';
import { cycleTime } from '../../shared/cycle/time';
import { requestHandlerWith } from '../../shared/aws/deadlines';
import { enqueueWork } from '../../shared/fanout/queue';
import { planWork } from '../../shared/fanout/work';

const logger = new Logger({ serviceName: 'elbscope' });
const config = loadConfigFromEnv(process.env);
const queueUrl = requireEnv(process.env, 'ELBSCOPE_QUEUE_URL');
const sqs = new SQSClient({ requestHandler: requestHandlerWith() });
const currentConfig = discoveringConfig(
  config,
  discoveryClientsByRegion(),
  () => new Date(),
  (m) => logger.warn(m),
);

/** Scheduled (fan-out mode): one queue message per batch of load balancers, for the workers. */
export const handler = middy(async (event: ScheduledEvent) => {
  const messages = planWork(await currentConfig(), cycleTime(event?.time, new Date()));
  const sent = await enqueueWork(sqs, queueUrl, messages);
  logger.info('dispatched', {
    messages: sent,
    loadBalancers: messages.reduce((n, m) => n + m.loadBalancers.length, 0),
  });
  return { cycle: messages[0]?.cycleAt ?? null, messages: sent };
}).use(injectLambdaContext(logger));
