import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { buildReport } from '../../shared/report/build';
import { parseReportRequest } from '../../shared/report/request';
import { renderReport } from '../../shared/report/render';
import { loadConfigFromEnv } from '../../shared/config/load';
import { stackStore } from '../runtime';

const logger = new Logger({ serviceName: 'elbscope' });
// The configuration too: a KMS key in `store.sealKey` is the one the audit was sealed with, not the stack's.
const store = stackStore(process.env, loadConfigFromEnv(process.env));

/**
 * Invoked directly (`serverless invoke -f report -d '{"loadBalancer":"test","from":"…","format":"md"}'`):
 * the support-case report for a window, as the CLI's `report` gives it.
 */
export const handler = middy(async (event: unknown) => {
  const request = parseReportRequest(event);
  if (!request.ok) return { error: request.error };
  const { loadBalancer, from, to, format } = request.value;
  const report = await buildReport(store, loadBalancer, { from, to }, new Date());
  return { loadBalancer, format, body: renderReport(report, format) };
}).use(injectLambdaContext(logger));
