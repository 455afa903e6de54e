import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { regionsByKey } from '../shared/alerts/chat';
import { snsSink } from '../shared/alerts/sinks';
import { ec2ClientsByRegion } from '../shared/aws/clients';
import { requestHandlerWith } from '../shared/aws/deadlines';
import { snsClient } from '../shared/aws/sns';
import { awsCycleDeps } from '../shared/wiring/cycle-deps';
import { discoveryClientsByRegion } from '../shared/wiring/discovery-clients';
import { discoveringConfig } from '../shared/discovery/merge';
import { discoveryRecorder } from '../shared/discovery/ledger';
import { requireEnv } from '../shared/config/env';
import { loadConfigFromEnv } from '../shared/config/load';
import type { Config } from '../shared/config/schema';
import { alertTestEvent, sendToEachSink } from '../shared/alerts/alert-test';
import { cloudWatchCycleMetrics, METRIC_NAMESPACE } from '../shared/cycle/metrics';
import { runCycle as runConfigured } from '../shared/cycle/run';
import { isNote, nameResolved, wasSkipped } from '../shared/nodes/observation';
import { cycleDeadlines } from '../shared/deadline';
import { wallClock } from '../shared/clock';
import { dynamoDbStore } from '../shared/store/dynamodb';
import { isKmsKey, macPortFor } from '../shared/aws/kms-seal';

/**
 * The stack's DynamoDB table (ELBSCOPE_TABLE) as the store, sealed with the stack's
 * KMS HMAC key (ELBSCOPE_SEAL_KEY), or the configuration's `store.sealKey`. Without
 * either nothing can be recorded, and a report says it cannot check seals.
 */
export function stackStore(env: NodeJS.ProcessEnv, config?: Config): ReturnType<typeof dynamoDbStore> {
  // A key file's path means nothing on Lambda (docs/ledger.md): only a KMS key of the configuration's replaces the stack's.
  const configured = config?.store.sealKey;
  const key = configured && isKmsKey(configured) ? configured : env.ELBSCOPE_SEAL_KEY || null;
  const seal = macPortFor(key, {
    create: false,
    why: 'seal: no key (ELBSCOPE_SEAL_KEY is not set: the stack sets it to its SealKey)',
  });
  return dynamoDbStore(
    new DynamoDBClient({ requestHandler: requestHandlerWith() }),
    requireEnv(env, 'ELBSCOPE_TABLE'),
    { seal },
  );
}

/** The SNS alert sink: the configured topic, else the stack's own (ELBSCOPE_TOPIC_ARN). */
export function stackSink(env: NodeJS.ProcessEnv, config: Config) {
  const topic = config.alerts.snsTopicArn ?? requireEnv(env, 'ELBSCOPE_TOPIC_ARN');
  return snsSink(snsClient(topic), topic, { regionOf: regionsByKey(config.loadBalancers, config.region) });
}

/**
 * What every cycle-running function builds at cold start (the wiring, in one
 * place): validated configuration, clients, store, alert sink, logger, metrics.
 */
export function cycleRuntime(env: NodeJS.ProcessEnv) {
  const logger = new Logger({ serviceName: 'elbscope' });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'elbscope' });
  const config = loadConfigFromEnv(env);
  const store = stackStore(env, config);
  const sink = stackSink(env, config);
  const ec2 = ec2ClientsByRegion();
  /** The listed load balancers, plus the discovered ones (refreshed every discovery.refreshMinutes). */
  const currentConfig = discoveringConfig(
    config,
    discoveryClientsByRegion(ec2),
    () => new Date(),
    (m) => logger.warn(m),
    discoveryRecorder(store),
  );
  // The deployed stage names the capacity alarms (elbscope-<stage>-…).
  const deps = awsCycleDeps(config, ec2, env.AWS_REGION, { capacity: true, stage: env.ELBSCOPE_STAGE });

  const cycleMetrics = cloudWatchCycleMetrics(metrics);

  /**
   * One cycle over `subset` (default: every configured and discovered load
   * balancer) by the cycle runner, within `remainingMs` (the Lambda run's remaining
   * time: what is not started in time is skipped and said so); then its log lines.
   * What could not be recorded is thrown, so the invocation fails and is retried.
   */
  async function runCycle(at: string, claimant: string, subset?: Config, remainingMs?: number) {
    subset ??= await currentConfig();
    const run = await runConfigured(
      subset,
      at,
      deps,
      {
        record: { store, sink, now: deps.now, claimant, warn: (m, d) => logger.warn(m, d ?? {}) },
        metrics: cycleMetrics,
      },
      remainingMs === undefined ? {} : { ...cycleDeadlines(deps.now().getTime(), remainingMs), timer: wallClock },
    );
    for (const { observation, backends } of run.snapshots) {
      const failed = observation.errors.some((e) => !isNote(e)) || backends.some((b) => b.report.error);
      (failed ? logger.warn.bind(logger) : logger.info.bind(logger))('observation', { observation, backends });
    }
    if (run.unrecorded !== undefined) throw run.unrecorded;
    for (const e of run.events) logger.info('event', { event: e });
    const heads: Record<string, string> = {};
    const observationHeads: Record<string, string> = {};
    for (const [lb, h] of run.heads) {
      heads[lb] = `#${h.seq} ${h.hash}`;
      if (h.observations) observationHeads[lb] = `#${h.observations.seq} ${h.observations.hash}`;
    }
    // The cycle's log line carries each chain's head, events' and observations': anchors kept outside the store
    // (`elbscope verify --anchor`), in full.
    logger.info('cycle', { cycle: at, chainHeads: heads, observationHeads });
    const { snapshots } = run;
    return {
      cycle: at,
      observed: snapshots.length,
      unresolved: snapshots
        .filter((s) => !nameResolved(s.observation) && !wasSkipped(s.observation))
        .map((s) => s.observation.loadBalancer),
      skipped: snapshots.filter((s) => wasSkipped(s.observation)).map((s) => s.observation.loadBalancer),
      errors: snapshots.reduce(
        (n, s) =>
          n + s.observation.errors.filter((e) => !isNote(e)).length + s.backends.filter((b) => b.report.error).length,
        0,
      ),
      events: run.events.map((e) => e.summary),
      chainHeads: heads,
    };
  }

  /** `{"alertTest": true}`: one test alert through the stack's sink, and whether it was accepted. */
  async function alertTest(origin: string) {
    const results = await sendToEachSink([sink], alertTestEvent(deps.now(), origin));
    for (const r of results)
      (r.accepted ? logger.info.bind(logger) : logger.error.bind(logger))('alert-test', { ...r });
    return { alertTest: results, ok: results.every((r) => r.accepted) };
  }

  return { logger, metrics, config, currentConfig, store, sink, deps, runCycle, alertTest };
}
