import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { loadConfigFromEnv } from '../../shared/config/load';
import { probeConfiguredTls } from '../../shared/cycle/snapshot';

// Cold start: configuration is validated once, here.
const logger = new Logger({ serviceName: 'elbscope' });
const config = loadConfigFromEnv(process.env);

/** Scheduled (hourly by default): one TLS handshake per configured backend target, logged. */
export const handler = middy(async () => {
  const results = await probeConfiguredTls(config, () => new Date());
  for (const result of results) {
    const bad = result.finding.error !== null || result.finding.findings.some((f) => !f.startsWith('self-signed'));
    (bad ? logger.warn.bind(logger) : logger.info.bind(logger))('tls', { ...result });
  }
  return {
    probed: results.length,
    failed: results.filter((r) => r.finding.error !== null).map((r) => `${r.backend} (${r.finding.target})`),
  };
}).use(injectLambdaContext(logger));
