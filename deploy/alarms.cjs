// Serverless variable source: CloudWatch alarms on elbscope itself (the monitor
// monitored), routed to the alert topic. Metric names come from
// shared/cycle/metrics.ts, the same names the functions emit.
const { METRIC, METRIC_NAMESPACE, OBSERVATION_SOURCES } = require('./metric-names.cjs');
const { config } = require('./config.cjs');

/** Seconds between runs of a schedule expression: `rate(N unit)`; a cron expression counts as 5 minutes. */
function scheduleSeconds(expression) {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(String(expression).trim());
  if (!m) return 300;
  const unit = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 }[m[2]];
  return Number(m[1]) * unit;
}

/** A CloudWatch alarm period: 60 s steps, at most a day. */
const alarmPeriod = (seconds) => Math.min(86400, Math.max(60, Math.ceil(seconds / 60) * 60));

// Lambda function logical ids as the framework names them (`tls-probe` -> TlsDashprobe).
const FUNCTIONS = {
  observe: 'ObserveLambdaFunction',
  'tls-probe': 'TlsDashprobeLambdaFunction',
  dispatch: 'DispatchLambdaFunction',
  worker: 'WorkerLambdaFunction',
  report: 'ReportLambdaFunction',
};

module.exports.resources = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const observeEvery = alarmPeriod(scheduleSeconds(await resolveVariable('param:observeSchedule')));
  const tlsEvery = alarmPeriod(scheduleSeconds(await resolveVariable('param:tlsSchedule')));
  const m = Number(await resolveVariable('param:alarmDatapoints'));
  const n = Number(await resolveVariable('param:alarmPeriods'));
  if (!(m >= 1 && n >= m && n <= 100))
    throw new Error(`alarmDatapoints ${m} / alarmPeriods ${n}: need 1 <= M <= N <= 100`);
  const defaultTimeout = Number(await resolveVariable('self:provider.timeout'));
  const functions = await resolveVariable('self:functions');
  const timeouts = Object.fromEntries(
    Object.keys(FUNCTIONS).map((name) => [name, Number(functions[name]?.timeout ?? defaultTimeout)]),
  );

  const c = config();
  const topic = c.alerts.snsTopicArn ?? { Ref: 'AlertTopic' };
  const service = [{ Name: 'service', Value: 'elbscope' }];
  const alarm = (name, description, props) => ({
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `elbscope-${stage}-${name}`,
      AlarmDescription: description,
      AlarmActions: [topic],
      OKActions: [topic],
      ...props,
    },
  });
  const own = (metric, dimensions, extra) => ({
    Namespace: METRIC_NAMESPACE,
    MetricName: metric,
    Dimensions: dimensions,
    Statistic: 'Sum',
    ...extra,
  });
  const resources = {};

  // Heartbeat: no completed cycle for 3 schedule periods; no data at all is a breach (the monitor is not running).
  resources.ElbscopeAlarmHeartbeat = alarm(
    'heartbeat',
    'elbscope completed no observation cycle for 3 schedule periods: nothing is being watched',
    {
      ...own(METRIC.cycleCompleted, service, { Period: observeEvery }),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    },
  );
  // Observation failures per source, sustained: M of the last N periods.
  for (const source of OBSERVATION_SOURCES) {
    resources[`ElbscopeAlarmObservationFailed${source}`] = alarm(
      `observation-failed-${source.toLowerCase()}`,
      `elbscope could not observe through ${source} in ${m} of the last ${n} periods`,
      {
        ...own(METRIC.observationFailed, [...service, { Name: 'Source', Value: source }], {
          Period: source === 'TLS' ? tlsEvery : observeEvery,
        }),
        EvaluationPeriods: n,
        DatapointsToAlarm: m,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
    );
  }
  // Alerts a sink refused for good: one is enough.
  resources.ElbscopeAlarmAlertsUndeliverable = alarm(
    'alerts-undeliverable',
    'elbscope marked an alert undeliverable (SNS refused it for good): elbscope events --undelivered',
    {
      ...own(METRIC.alertsUndeliverable, service, { Period: observeEvery }),
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    },
  );
  // Messages waiting in the failed-invocations queue and the worker dead-letter queue (SQS publishes every 5 minutes).
  for (const [id, queue, what] of [
    ['FailedInvocations', 'FailedInvocations', 'scheduled runs that failed after Lambda retried them'],
    ['WorkDeadLetters', 'WorkDeadLetters', 'fan-out batches the workers failed 3 times'],
  ]) {
    resources[`ElbscopeAlarm${id}`] = alarm(
      `${id.replace(/[A-Z]/g, (ch, i) => (i ? '-' : '') + ch.toLowerCase())}`,
      `messages in the ${queue} queue: ${what}`,
      {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
    );
  }
  // The work queue's oldest message: batches not picked up (workers throttled or failing) for 5 minutes, while the
  // queue keeps them a day. SQS publishes every 5 minutes.
  resources.ElbscopeAlarmWorkQueueAge = alarm(
    'work-queue-age',
    'the oldest fan-out batch in the work queue waited over 5 minutes: workers are throttled, failing or capped',
    {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['WorkQueue', 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    },
  );
  // Each function: errors, throttles, and runs close to its timeout (80 %).
  for (const [name, logicalId] of Object.entries(FUNCTIONS)) {
    const fn = [{ Name: 'FunctionName', Value: { Ref: logicalId } }];
    const tag = name.replace('-', '');
    // Any run in five minutes that failed (Errors) or was not let run (Throttles).
    const anyIn5Min = (MetricName) => ({
      Namespace: 'AWS/Lambda',
      MetricName,
      Dimensions: fn,
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    resources[`ElbscopeAlarm${tag}Errors`] = alarm(
      `${name}-errors`,
      `the ${name} function failed`,
      anyIn5Min('Errors'),
    );
    // A throttled scheduled run is retried by Lambda, then dropped (maximumEventAge); a throttled worker batch goes
    // back to the queue: either way a cycle did not run when it should have.
    resources[`ElbscopeAlarm${tag}Throttles`] = alarm(
      `${name}-throttles`,
      `the ${name} function was throttled`,
      anyIn5Min('Throttles'),
    );
    resources[`ElbscopeAlarm${tag}NearTimeout`] = alarm(
      `${name}-near-timeout`,
      `a run of the ${name} function took over 80 % of its ${timeouts[name]} s timeout`,
      {
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: fn,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: Math.round(timeouts[name] * 1000 * 0.8),
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
    );
  }
  return resources;
};

module.exports.scheduleSeconds = scheduleSeconds;
